// The second bundle (dist/player/hls.js, scripts/build-player.mjs): hls.js (its light build:
// no subtitles, alternate audio or DRM, none of which a Nowcast stream has) behind the small
// face the player's LL-HLS session uses (player/hls-session.ts). Loaded only on that path.
import Hls, { ErrorTypes, Events } from 'hls.js';
import type { CreateHls } from './hls-session.js';

export const createHls: CreateHls = (video, url, settings, events) => {
  const hls = new Hls({
    lowLatencyMode: true,
    // hls.js's own catch-up (it needs over 1 s buffered, so it rarely acts at a 0.6 s hold-back).
    maxLiveSyncPlaybackRate: settings.maxRate,
    backBufferLength: settings.backBufferSeconds,
    debug: settings.debug,
  });
  let mediaRecoveries = 0;
  hls.on(Events.FRAG_LOADED, (_e, d) => events.bytes(d.payload.byteLength));
  hls.on(Events.BUFFER_CODECS, (_e, d) => events.codecs([d.video?.codec, d.audio?.codec ?? d.audiovideo?.codec].filter(Boolean).join(',')));
  hls.on(Events.FRAG_BUFFERED, () => { mediaRecoveries = 0; });
  hls.on(Events.ERROR, (_e, d) => {
    if (!d.fatal) return;
    // hls.js's documented recovery for a decode error, once per run of errors; past that, start over.
    if (d.type === ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 1) {
      hls.recoverMediaError();
      return;
    }
    const kind = d.type === ErrorTypes.NETWORK_ERROR ? 'network' : d.type === ErrorTypes.MEDIA_ERROR ? 'media' : 'other';
    events.fatal(kind, d.details, d.response?.code ?? 0);
  });
  hls.attachMedia(video);
  hls.loadSource(url);
  return {
    playingDate: () => hls.playingDate,
    targetLatency: () => hls.targetLatency,
    destroy: () => hls.destroy(),
  };
};
