// A session or server wired to FLV feeds in this thread, as the relay's side of the RTMP thread
// wires them (ingest/rtmp/publishers.ts), for tests that drive sessions directly.
import { RtmpPublishers, type FeedLimits, type RtmpPublisherEvents } from '../../ingest/rtmp/publishers.js';
import type { RtmpSession, SessionHooks } from '../../ingest/rtmp/session.js';
import type { RtmpEvents, RtmpServer } from '../../ingest/rtmp/server.js';

/** Hooks for one session: admission and its feed through RtmpPublishers, as in production. */
export function feedHooks(events: RtmpPublisherEvents, limits: FeedLimits, session: () => RtmpSession | undefined, rest: Pick<SessionHooks, 'error' | 'closed'>): SessionHooks {
  const pubs = new RtmpPublishers(events, {
    close: () => session()?.close(),
    fail: (_id, code) => session()?.fail(code, 'failed by its feed'),
  }, limits);
  return {
    publish: (req) => pubs.publish(1, req),
    media: (type, timestamp, body) => pubs.media(1, type, timestamp, body),
    unpublish: () => pubs.unpublish(1),
    ...rest,
  };
}

/** Events for a server in this thread; `server()` is read when a session must be ended. */
export function feedEvents(events: RtmpPublisherEvents, limits: FeedLimits, server: () => RtmpServer | undefined): RtmpEvents {
  const pubs = new RtmpPublishers(events, {
    close: (id) => server()?.closeSession(id),
    fail: (id, code) => server()?.failSession(id, code),
  }, limits);
  return {
    publish: (id, req) => pubs.publish(id, req),
    media: (id, type, timestamp, body) => pubs.media(id, type, timestamp, body),
    unpublish: (id) => pubs.unpublish(id),
  };
}
