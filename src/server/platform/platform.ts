import { ANALYTICS_ROOM, ErrorCode, PROJECT_ROOM, VidgetError, type PublishFrame } from '../../protocol/index.js';
import type { Connection } from '../rooms/connection.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { Store } from '../store/store.js';
import { AnalyticsHub, DEFAULT_ANALYTICS, type AnalyticsOptions } from './analytics-hub.js';
import { readReports } from './analytics-report.js';
import { VideoCatalog } from './video-catalog.js';

/**
 * The platform side of a project: its videos (notified to every player through the project
 * room) and its live analytics. Sits beside the rooms: the socket server asks it first about
 * publishes into the two reserved rooms and tells it who joined the analytics room.
 */
export class Platform {
  readonly videos: VideoCatalog;
  readonly analytics: AnalyticsHub;

  constructor(store: Store, registry: RoomRegistry, options: Partial<AnalyticsOptions>, onError: (error: unknown) => void) {
    this.videos = new VideoCatalog(store, registry);
    this.analytics = new AnalyticsHub(store, registry, { ...DEFAULT_ANALYTICS, ...options }, onError);
  }

  /**
   * What a client may send in the project room, by the key of its ephemeral publish's data:
   * `{ analytics: [...] }` today. This is the seam for what travels per project rather than per
   * widget: watch-together control is meant to be the next entry (`watch`), answered here, so
   * it rides the player's one connection.
   */
  private readonly handlers: Record<string, (conn: Connection, data: unknown) => void> = {
    analytics: (conn, data) => this.analytics.ingest(conn.project, conn, readReports(data), (fn) => conn.ws.once('close', fn)),
  };

  /**
   * A publish into a reserved room, answered here (true), or false for any other room. The
   * project room takes the ephemeral messages of {@link handlers}, acked and never relayed;
   * nothing else may be published in either room from a client (notifications come from the
   * server API).
   */
  intercept(conn: Connection, frame: PublishFrame): boolean {
    const room = conn.roomName.plain;
    if (room !== PROJECT_ROOM && room !== ANALYTICS_ROOM) return false;
    try {
      if (room === ANALYTICS_ROOM || frame.persist) throw new VidgetError(ErrorCode.Forbidden, `clients publish only ephemeral messages (${Object.keys(this.handlers).join(', ')}) in ${PROJECT_ROOM}`);
      const kind = typeof frame.data === 'object' && frame.data !== null && !Array.isArray(frame.data) ? Object.keys(frame.data)[0] : undefined;
      const handler = kind !== undefined && Object.hasOwn(this.handlers, kind) ? this.handlers[kind]! : undefined;
      if (!handler) throw new VidgetError(ErrorCode.BadFrame, `the project room takes { ${Object.keys(this.handlers).join(' | ')}: … } messages`);
      handler(conn, frame.data);
      conn.send({ type: 'ack', cid: frame.cid, persisted: false, record: { id: 0, client_id: conn.clientId, created: Date.now(), username: conn.username, data: null } });
    } catch (error) {
      const e = error instanceof VidgetError ? error : new VidgetError(ErrorCode.BadFrame, 'bad analytics report');
      conn.sendError(e.code, e.message, { cid: frame.cid });
    }
    return true;
  }

  /** Someone joined a room: a subscriber of a project's analytics starts its live snapshots. */
  joined(conn: Connection): void {
    if (conn.roomName.plain === ANALYTICS_ROOM) this.analytics.now(conn.project);
  }

  close(): void {
    this.analytics.close();
  }
}
