import {
  ErrorCode,
  PROTOCOL_VERSION,
  VidgetError,
  validateQuery,
  type ConnectParams,
  type PublishFrame,
  type SearchFrame,
  type ServerLimits,
  type VidgetRecord,
} from '../../protocol/index.js';
import type { Connection } from './connection.js';
import { FramedMessage } from './framed-message.js';
import type { ReplayFrom, RoomInfo, RoomName, Store } from '../store/store.js';

/** Room-level settings from the server options. */
export interface RoomOptions {
  /** Most records one catch-up replays; past it the replay sends the newest and says `recovered: false`. */
  maxReplay: number;
  /** Least time between two presence updates of a room. */
  presenceIntervalMs: number;
  /** Announced to clients in `hello`. */
  limits: ServerLimits;
  /** Called when an unexpected error happens (logged by the server). */
  onError: (error: unknown) => void;
}

interface Pending {
  conn: Connection;
  frame: PublishFrame;
}

/** Client ids + message ids remembered per room to answer repeated ephemeral publishes. */
const RECENT_CIDS = 4096;

const encodeMsg = (record: string, persisted: boolean, own: boolean): Buffer =>
  Buffer.from(`{"type":"msg","persisted":${persisted}${own ? ',"own":true' : ''},"record":${record}}`);
const framedMsg = (record: string, persisted: boolean, own: boolean): FramedMessage => new FramedMessage(encodeMsg(record, persisted, own));

/**
 * One room: the connections of one (project, widgetId). Publishes go through one ordered
 * pipeline per room, so record ids, broadcast order and the store agree; persistent ones
 * that arrive in the same event-loop turn are stored in one transaction before any is acked.
 */
export class Room {
  readonly connections = new Set<Connection>();
  /** Resolves when the store has opened the room. */
  readonly ready: Promise<void>;
  private info: RoomInfo = { epoch: '', lastId: 0 };
  /** Highest id known stored; `synced.until` for a client that asked for no replay. */
  private lastStoredId = 0;
  private pending: Pending[] = [];
  private flushing = false;
  private flushTimer: NodeJS.Immediate | undefined;
  private presenceTimer: NodeJS.Timeout | undefined;
  private lastPresenceAt = -Infinity;
  private lastCount = -1;
  private readonly recent = new Map<string, { record: VidgetRecord; persisted: boolean }>();

  constructor(
    readonly name: RoomName,
    private readonly store: Store,
    private readonly options: RoomOptions,
  ) {
    this.ready = store.openRoom(name).then((info) => {
      this.info = info;
      this.lastStoredId = info.lastId;
    });
  }

  /** The room epoch (see `HelloFrame.epoch`). */
  get epoch(): string {
    return this.info.epoch;
  }

  /** True when no connection is left and no publish is in flight: the room can be dropped. */
  get idle(): boolean {
    return this.connections.size === 0 && this.pending.length === 0 && !this.flushing;
  }

  /**
   * Adds a connection: it is live at once (so nothing published meanwhile is missed), its
   * live records are held while the catch-up replay is sent, then `synced` marks the switch.
   */
  async join(conn: Connection, params: ConnectParams): Promise<void> {
    this.connections.add(conn);
    this.schedulePresence();
    conn.send({ type: 'hello', protocol: PROTOCOL_VERSION, client_id: conn.clientId, username: conn.username, epoch: this.epoch, limits: this.options.limits });
    let from: ReplayFrom | undefined;
    let recovered = true;
    if (params.since !== undefined) {
      if (params.epoch !== undefined && params.epoch !== this.epoch) recovered = false;
      else if (params.since > this.info.lastId) recovered = false;
      else from = { afterId: params.since };
    }
    if (!from && params.catchupMs !== undefined) from = { createdSince: Date.now() - params.catchupMs };
    const cursor = recovered ? (params.since ?? 0) : 0;
    if (!from) {
      conn.release(cursor);
      // With no cursor, "now" is the resume point: the next reconnect replays what follows it.
      const until = recovered && params.since !== undefined ? params.since : this.lastStoredId;
      conn.send({ type: 'synced', until: until || null, epoch: this.epoch, recovered, replayed: 0 });
      return;
    }
    conn.hold();
    try {
      const { records, truncated } = await this.store.replay(this.name, from, this.options.maxReplay);
      let until = 'createdSince' in from ? Math.max(cursor, this.lastStoredId) : cursor;
      for (const record of records) {
        conn.send(encodeMsg(JSON.stringify(record), true, record.client_id === conn.clientId));
        until = record.id;
      }
      conn.release(until);
      conn.send({ type: 'synced', until: until || null, epoch: this.epoch, recovered: recovered && !truncated, replayed: records.length });
    } catch (error) {
      this.options.onError(error);
      conn.release(cursor);
      conn.sendError(ErrorCode.Unavailable, 'catch-up failed; live records follow');
      conn.send({ type: 'synced', until: params.since ?? null, epoch: this.epoch, recovered: false, replayed: 0 });
    }
  }

  /** Removes a connection. */
  leave(conn: Connection): void {
    if (this.connections.delete(conn)) this.schedulePresence();
  }

  /** Accepts a validated publish into the pipeline. */
  publish(conn: Connection, frame: PublishFrame): void {
    this.pending.push({ conn, frame });
    if (this.flushing || this.flushTimer) return;
    if (frame.persist) {
      // Let the rest of this event-loop turn's publishes join the same transaction.
      this.flushTimer = setImmediate(() => {
        this.flushTimer = undefined;
        void this.flush();
      });
    } else {
      void this.flush();
    }
  }

  /** Runs a search frame and answers with `result` or `err`. */
  async search(conn: Connection, frame: SearchFrame): Promise<void> {
    try {
      const query = validateQuery(frame.query);
      await this.drain(); // read your own writes: publishes sent before this search are stored first
      const result = await this.store.search(this.name, query);
      conn.send({ type: 'result', rid: frame.rid, ...result });
    } catch (error) {
      if (error instanceof VidgetError) return conn.sendError(error.code, error.message, { rid: frame.rid });
      this.options.onError(error);
      conn.sendError(ErrorCode.Unavailable, 'search failed', { rid: frame.rid });
    }
  }

  /** Waits until every accepted publish has been stored and delivered. */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) {
      if (!this.flushing) await this.flush();
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        await this.deliver(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async deliver(batch: Pending[]): Promise<void> {
    const created = Date.now();
    const items: Array<{ conn: Connection; cid: string; key: string; persisted: boolean; record: VidgetRecord; duplicate: boolean }> = [];
    for (const { conn, frame } of batch) {
      const key = `${conn.clientId}\n${frame.cid}`;
      const seen = this.recent.get(key);
      if (seen) {
        items.push({ conn, cid: frame.cid, key, persisted: seen.persisted, record: seen.record, duplicate: true });
        continue;
      }
      const persisted = frame.persist === true;
      const record: VidgetRecord = { id: ++this.info.lastId, client_id: conn.clientId, created, username: conn.username, data: frame.data };
      items.push({ conn, cid: frame.cid, key, persisted, record, duplicate: false });
      // Remembered now, so a repeat later in this same batch is caught too.
      this.remember(key, record, persisted);
    }
    const toStore = items.filter((i) => i.persisted && !i.duplicate);
    let failed = false;
    if (toStore.length > 0) {
      try {
        const results = await this.store.append(this.name, toStore.map((i) => ({ ...i.record, cid: i.cid })));
        results.forEach((result, n) => {
          if (result.stored) {
            this.lastStoredId = Math.max(this.lastStoredId, toStore[n]!.record.id);
            return;
          }
          const item = toStore[n]!;
          item.record = result.existing;
          item.duplicate = true;
          this.remember(item.key, result.existing, true);
        });
      } catch (error) {
        // Not stored, so not acked: the client keeps it queued and sends it again.
        this.options.onError(error);
        failed = true;
        for (const item of toStore) this.recent.delete(item.key);
      }
    }
    for (const item of items) {
      if (failed && item.persisted) {
        item.conn.sendError(ErrorCode.Unavailable, 'the record could not be stored; retry', { cid: item.cid });
      } else if (item.duplicate) {
        item.conn.send({ type: 'ack', cid: item.cid, record: item.record, persisted: item.persisted, duplicate: true });
      } else {
        this.broadcast(item.record, item.persisted, item.conn, item.cid);
      }
    }
  }

  private broadcast(record: VidgetRecord, persisted: boolean, publisher: Connection, cid: string): void {
    const json = JSON.stringify(record);
    // Framed once (on first use), the same bytes go to every socket.
    let frame: FramedMessage | undefined;
    let own: FramedMessage | undefined;
    for (const conn of this.connections) {
      if (conn === publisher) continue;
      if (conn.clientId === record.client_id) conn.sendRecord(record.id, (own ??= framedMsg(json, persisted, true)));
      else conn.sendRecord(record.id, (frame ??= framedMsg(json, persisted, false)));
    }
    publisher.sendAck(record.id, `{"type":"ack","cid":${JSON.stringify(cid)},"persisted":${persisted},"record":${json}}`);
  }

  private remember(key: string, record: VidgetRecord, persisted: boolean): void {
    this.recent.delete(key);
    this.recent.set(key, { record, persisted });
    if (this.recent.size > RECENT_CIDS) this.recent.delete(this.recent.keys().next().value!);
  }

  /**
   * Joins and leaves within one event-loop turn make one update; after an update, the next waits
   * `presenceIntervalMs`, so a room that N viewers join one by one costs O(N) frames per
   * interval rather than O(N²). The update that follows always carries the exact count.
   */
  private schedulePresence(): void {
    if (this.presenceTimer) return;
    const wait = this.lastPresenceAt + this.options.presenceIntervalMs - performance.now();
    const fire = () => {
      this.presenceTimer = undefined;
      this.lastPresenceAt = performance.now();
      this.sendPresence();
    };
    this.presenceTimer = setTimeout(fire, Math.max(0, wait));
  }

  private sendPresence(): void {
    const count = this.connections.size;
    const changed = count !== this.lastCount;
    this.lastCount = count;
    const frame = new FramedMessage(Buffer.from(`{"type":"presence","count":${count}}`));
    for (const conn of this.connections) {
      if (changed || !conn.presenceSent) {
        conn.presenceSent = true;
        conn.send(frame);
      }
    }
  }

  /** Stops timers; used when the server closes. */
  dispose(): void {
    clearTimeout(this.presenceTimer);
    clearImmediate(this.flushTimer);
  }
}
