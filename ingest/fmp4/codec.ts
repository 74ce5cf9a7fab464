// RFC 6381 codec strings and track facts for an init segment (ftyp+moov), via
// mp4box, which knows how to build codec strings from avcC/hvcC/esds/dOps/etc.
import { createFile, MP4BoxBuffer } from 'mp4box';
import type { Movie, Track } from 'mp4box';
import type { TrackInfo } from '../../protocol/messages.js';
import { Fmp4Error } from './errors.js';

export interface InitDescription {
  codecs: string;
  mime: string;
  tracks: TrackInfo[];
}

function toTrackInfo(t: Track, kind: 'video' | 'audio'): TrackInfo {
  const info: TrackInfo = { id: t.id, kind, codec: t.codec, timescale: t.timescale };
  if (kind === 'video' && t.video) {
    info.width = t.video.width;
    info.height = t.video.height;
  }
  if (kind === 'audio' && t.audio) {
    info.channels = t.audio.channel_count;
    info.sampleRate = t.audio.sample_rate;
  }
  return info;
}

/** Describes an init segment; throws FMP4_BAD_BOX when mp4box cannot parse it or it has no A/V track. */
export function describeInit(bytes: Buffer): InitDescription {
  const file = createFile();
  let movie: Movie | undefined;
  let failure = '';
  file.onReady = (info) => {
    movie = info;
  };
  file.onError = (module, message) => {
    failure ||= `${module}: ${message}`;
  };
  // mp4box keeps the ArrayBuffer; give it its own copy rather than Node's shared pool slab.
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  try {
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, 0));
    file.flush();
  } catch (err) {
    failure ||= err instanceof Error ? err.message : String(err);
  }
  if (!movie) {
    throw new Fmp4Error('FMP4_BAD_BOX', `init segment (${bytes.length} bytes) not parseable by mp4box${failure ? `: ${failure}` : ''}`);
  }
  // Video first: MSE does not care, but the codecs string and players read better that way.
  const tracks = [
    ...movie.videoTracks.map((t) => toTrackInfo(t, 'video')),
    ...movie.audioTracks.map((t) => toTrackInfo(t, 'audio')),
  ];
  if (tracks.length === 0) {
    throw new Fmp4Error('FMP4_BAD_BOX', `init segment (${bytes.length} bytes) has no video or audio track`);
  }
  const codecs = tracks.map((t) => t.codec).join(',');
  const container = tracks.some((t) => t.kind === 'video') ? 'video/mp4' : 'audio/mp4';
  return { codecs, mime: `${container}; codecs="${codecs}"`, tracks };
}
