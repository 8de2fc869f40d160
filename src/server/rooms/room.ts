import {
  ErrorCode,
  PROTOCOL_VERSION,
  VidgetError,
  validateQuery,
  type ConnectParams,
  type DeleteFrame,
  type PublishFrame,
  type SearchFrame,
  type ServerFrame,
  type ServerLimits,
  type VidgetRecord,
} from '../../protocol/index.js';
import type { Connection } from './connection.js';
import { FramedMessage } from './framed-message.js';
import type { Removed, ReplayFrom, ReplayedRecord, RoomInfo, RoomName, Store, Usage } from '../store/store.js';
import type { Bus, PresenceStore } from '../bus/bus.js';
import { OrderGate } from './order-gate.js';
import { encodeBusMessage, ownRecordPrefix, parseBusMessage, type BusMessage } from './bus-message.js';

/** Room-level settings from the server options. */
export interface RoomOptions {
  /** Most records one catch-up replays; past it the replay sends the newest and says `recovered: false`. */
  maxReplay: number;
  /** Most bytes of records one catch-up replays; past it, as past `maxReplay`. */
  maxReplayBytes: number;
  /** Least time between two presence updates of a room. */
  presenceIntervalMs: number;
  /** Announced to clients in `hello`. */
  limits: ServerLimits;
  /** Called when an unexpected error happens (logged by the server). */
  onError: (error: unknown) => void;
  /** Storage quotas of this room and of its project; past one, persistent publishes get `quota_exceeded`. */
  quota: StorageQuota;
  /** What the room's project holds, shared by its open rooms (loaded before the room opens). */
  projectUsage: Promise<Usage>;
  /** The other nodes of the deployment, when there are (Redis): records, deletes and presence changes go both ways. */
  bus?: Bus;
  /** Connection counts over every node, when there are several. */
  presence?: PresenceStore;
  /**
   * Called when the room becomes idle after work that outlived its last connection (publishes
   * being stored, records waiting in the order gate), so the registry can drop it then.
   */
  onIdle?: (room: Room) => void;
}

/** Storage quotas: records and bytes (of `data` as JSON) per room and per project. */
export interface StorageQuota {
  roomRecords: number;
  roomBytes: number;
  projectRecords: number;
  projectBytes: number;
}

/**
 * Who publishes into a room: a client's {@link Connection}, or the site's backend through the
 * server API (a `ServerPublisher`). The pipeline treats both the same: one order, one store.
 */
export interface Publisher {
  readonly clientId: string;
  readonly username: string | null;
  readonly identity: { readonly userId: string | null };
  send(frame: ServerFrame | FramedMessage | string): void;
  sendAck(id: number, text: string): void;
  sendError(code: ErrorCode, message: string, ref?: { cid?: string; rid?: string }): void;
}

/**
 * What a room sends records and presence to: a client's {@link Connection}, or a Bayeux
 * subscriber (src/server/bayeux/) that turns the same frames into Bayeux messages.
 */
export interface RoomMember {
  readonly clientId: string;
  /** Whether this member has been told the room's count. */
  presenceSent: boolean;
  /** A record frame (framed once per broadcast), in the room's order. */
  sendRecord(id: number, frame: FramedMessage): void;
  /** Any other frame: presence, deletes. */
  send(frame: ServerFrame | FramedMessage | string): void;
}

/**
 * A subscriber to many rooms of a project at once (a Bayeux wildcard channel): sent the records
 * of each room it watches in that room's order, not counted in any room's presence.
 */
export interface RoomWatcher {
  /** The project whose rooms it may watch. */
  readonly project: string;
  /** Whether it watches `room` (the name within the project, without a signature). */
  wants(room: string): boolean;
  /** A record of `room`, framed as for connections. */
  record(room: Room, id: number, frame: FramedMessage): void;
}

interface Pending {
  conn: Publisher;
  frame: PublishFrame;
  /** Its place in the room's publish order, for read-your-own-writes. */
  seq: number;
}

/**
 * What dedupe keeps of a recent publish: enough to answer a repeat (whose data is the same,
 * since it is the same publish), none of its data. Records were kept whole before, and 20
 * connections sending large frames ran the heap out.
 */
interface Seen {
  id: number;
  created: number;
  username: string | null;
  persisted: boolean;
}

/** Bytes of dedupe memory per room (about 3,000 entries at typical id lengths). */
const MEMO_BYTES = 512 * 1024;
/** Estimated bytes of one memo entry beside its key. */
const SEEN_BYTES = 96;
/** How far before the record that opened a room for its watchers they get its stored records (clocks of nodes differ). */
const SEED_MARGIN_MS = 2_000;
/** Ids reserved in the store at a time (one write per block). */
const ID_BLOCK = 1024;

/** A publish on its way through the pipeline. */
interface Item {
  conn: Publisher;
  cid: string;
  key: string;
  persisted: boolean;
  /** The record (none for a publish refused before it got one). */
  record?: VidgetRecord;
  /** The record as JSON, made once from the data's JSON text. */
  json: string;
  /** Bytes counted against the quotas. */
  bytes: number;
  dataJson?: string;
  /** With a shared store: the id of the room's stored record before this one. */
  prev?: number;
  /** `repeat`: the memo knew the cid; `duplicate`: the store did. */
  outcome: 'new' | 'repeat' | 'duplicate' | 'over-quota';
}

/** The record's JSON from its data's JSON text (the data is stringified once per publish). */
const recordJson = (r: VidgetRecord, dataJson: string): string =>
  `{"id":${r.id},"client_id":${JSON.stringify(r.client_id)},"created":${r.created},"username":${JSON.stringify(r.username)},"data":${dataJson}}`;

/** Searches one connection may have waiting or running; more are refused with `rate_limited`. */
const MAX_SEARCHES_PER_CONNECTION = 8;

const encodeMsg = (record: string, persisted: boolean, own: boolean): string => `{"type":"msg","persisted":${persisted}${own ? ',"own":true' : ''},"record":${record}}`;
const framedMsg = (record: string, persisted: boolean, own: boolean): FramedMessage => new FramedMessage(encodeMsg(record, persisted, own));

/**
 * One room: the connections of one (project, widgetId). Publishes go through one ordered
 * pipeline per room, so record ids, broadcast order and the store agree; persistent ones
 * that arrive in the same event-loop turn are stored in one transaction before any is acked.
 */
export class Room {
  readonly connections = new Set<RoomMember>();
  /** Wildcard subscribers of this room's project that want it. */
  private readonly watchers = new Set<RoomWatcher>();
  /** Opened for watchers by another node's record: when that record was created (watchers get the room's stored records from about then). */
  private seededAt: number | undefined;
  /** Resolves when the store has opened the room. */
  readonly ready: Promise<void>;
  private info: RoomInfo = { epoch: '', lastId: 0, usage: { records: 0, bytes: 0 } };
  /** Top of the ids reserved in the store; ids up to it can be handed out without a write. */
  private reserved = 0;
  private project: Usage = { records: 0, bytes: 0 };
  private memoBytes = 0;
  /** Highest id known stored; `synced.until` for a client that asked for no replay. */
  private lastStoredId = 0;
  private pending: Pending[] = [];
  private flushing = false;
  private flushTimer: NodeJS.Immediate | undefined;
  private presenceTimer: NodeJS.Timeout | undefined;
  private lastPresenceAt = -Infinity;
  private lastCount = -1;
  private readonly recent = new Map<string, Seen>();
  /** Publishes accepted (a sequence number each) and how far the pipeline has stored and delivered them. */
  private accepted = 0;
  private settledSeq = 0;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private readonly lastPublish = new WeakMap<Publisher, number>();
  /** Each connection's searches run one after another, so one connection holds one worker at most. */
  private readonly searches = new WeakMap<Connection, { tail: Promise<void>; waiting: number }>();
  /** With a shared store: stored records go out in the room's order, from this node and the others. */
  private gate: OrderGate | undefined;
  /** Bus messages that came before the room had opened: offered to the gate then. */
  private early: BusMessage[] | undefined = [];
  /** The local count last reported to the presence store. */
  private reportedCount = -1;
  /** A block of ephemeral ids being taken, and the top of one taken and not yet in use. */
  private spare: Promise<number | undefined> | undefined;
  private spareTop: number | undefined;
  private disposed = false;
  /** How this node's own record messages start (see ownRecordPrefix). */
  private ownPrefix: string | undefined;

  constructor(
    readonly name: RoomName,
    private readonly store: Store,
    private readonly options: RoomOptions,
  ) {
    this.ready = this.open();
  }

  private async open(): Promise<void> {
    const { bus } = this.options;
    // Subscribed before the room's position is read: nothing published in between is missed.
    if (bus) await bus.subscribe(this.name, (message) => this.onBus(message));
    const [info, project] = await Promise.all([this.store.openRoom(this.name), this.options.projectUsage]);
    this.info = info;
    this.project = project;
    if (this.store.shared) {
      // Ephemeral ids come from blocks taken ahead (so they flow while the store is away); stored ones from the store.
      this.reserved = await this.store.takeIds(this.name, ID_BLOCK);
      this.info.lastId = this.reserved - ID_BLOCK;
      this.lastStoredId = info.lastRecord ?? 0;
      this.gate = new OrderGate(
        this.lastStoredId,
        async (afterId, max) => (await this.store.replay(this.name, { afterId }, { records: max, bytes: Infinity })).records,
        (record) => this.fanOut(record.id, record.client_id, record.json, true),
        (error) => this.options.onError(error),
        () => this.checkIdle(),
      );
    } else {
      this.reserved = info.lastId;
      this.lastStoredId = info.lastId;
    }
    if (this.seededAt !== undefined) await this.catchUpWatchers(this.seededAt - SEED_MARGIN_MS);
    const early = this.early ?? [];
    this.early = undefined;
    for (const message of early) this.fromBus(message);
  }

  /**
   * A room opened for its watchers by another node's record: records stored from about then up to
   * the room's position as read at opening go to them from the store (their bus messages may come
   * after that read, and the order gate takes what is at or below it as sent).
   */
  private async catchUpWatchers(since: number): Promise<void> {
    try {
      const { records } = await this.store.replay(this.name, { createdSince: since }, { records: this.options.maxReplay, bytes: this.options.maxReplayBytes });
      for (const record of records) if (record.id <= this.lastStoredId) this.tellWatchers(record.id, framedMsg(record.json, true, false));
    } catch (error) {
      this.options.onError(error);
    }
  }

  /**
   * Hands the room, opened for its watchers by another node's message, that message: the room
   * delivers from it on (its own bus subscription was not yet there when it was sent).
   */
  seed(text: string): void {
    const message = parseBusMessage(text);
    if (!message || message.node === this.options.bus?.nodeId) return;
    if (!this.early) return this.fromBus(message);
    if (message.kind === 'record') {
      const created = (JSON.parse(message.json) as { created?: unknown }).created;
      if (typeof created === 'number') this.seededAt = Math.min(this.seededAt ?? created, created);
    }
    this.early.push(message);
  }

  /** Adds a wildcard subscriber: records from now on, no presence. */
  watch(watcher: RoomWatcher): void {
    this.watchers.add(watcher);
  }

  /** Removes a wildcard subscriber; false when it was not watching. */
  unwatch(watcher: RoomWatcher): boolean {
    return this.watchers.delete(watcher);
  }

  /** The bus was cut off and is back: read what may have been missed. */
  resync(): void {
    this.gate?.resync();
    // Redis may have restarted empty: this node's count is told again.
    this.reportedCount = -1;
    this.schedulePresence();
  }

  /** Another node's connections came or went, or a node died: the room's total changed. */
  presenceChanged(): void {
    this.schedulePresence();
  }

  /** What the room holds in the store. */
  get usage(): Usage {
    return this.info.usage;
  }

  /** Records left the store (retention, moderation): the room's and its project's quotas count them no more. */
  released(gone: Usage): void {
    for (const usage of [this.info.usage, this.project]) {
      usage.records = Math.max(0, usage.records - gone.records);
      usage.bytes = Math.max(0, usage.bytes - gone.bytes);
    }
  }

  /** The room epoch (see `HelloFrame.epoch`). */
  get epoch(): string {
    return this.info.epoch;
  }

  /** True when no connection is left and no publish is in flight: the room can be dropped. */
  get idle(): boolean {
    return this.connections.size === 0 && this.watchers.size === 0 && this.pending.length === 0 && !this.flushing && (this.gate?.pending ?? 0) === 0;
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
      else if (!this.store.shared && params.since > this.info.lastId) recovered = false;
      else from = { afterId: params.since };
    }
    if (!from && params.catchupMs !== undefined) from = { createdSince: Date.now() - params.catchupMs };
    // A cursor at the room's end has nothing to replay: no read at all (most reconnects).
    if (from && 'afterId' in from && from.afterId >= this.lastStoredId) from = undefined;
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
      const { records, truncated } = await this.store.replay(this.name, from, { records: this.options.maxReplay, bytes: this.options.maxReplayBytes });
      let until = 'createdSince' in from ? Math.max(cursor, this.lastStoredId) : cursor;
      for (const record of records) {
        conn.send(encodeMsg(record.json, true, record.client_id === conn.clientId));
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

  /** Adds a member that does its own catch-up (a Bayeux subscriber): live at once, counted in presence. */
  attach(member: RoomMember): void {
    this.connections.add(member);
    this.schedulePresence();
  }

  /** The stored records created in the last `ms` (at most the replay caps), oldest first. */
  async storedWithin(ms: number): Promise<ReplayedRecord[]> {
    const { records } = await this.store.replay(this.name, { createdSince: Date.now() - ms }, { records: this.options.maxReplay, bytes: this.options.maxReplayBytes });
    return records;
  }

  /** Removes a connection or member. */
  leave(conn: RoomMember): void {
    if (this.connections.delete(conn)) this.schedulePresence();
  }

  /** Accepts a validated publish into the pipeline. */
  publish(conn: Publisher, frame: PublishFrame): void {
    // An ephemeral message with an id in hand goes out at once, without the pipeline's promises
    // and batches (most traffic of many small rooms: measured in the bench's many-rooms run):
    // on one process when nothing is ahead of it in the pipeline, so the room's order holds; with
    // a shared store always (it is not ordered against stored records across nodes), so it keeps
    // flowing while PostgreSQL is slow or away.
    if (!frame.persist && this.ephemeralNow()) {
      const key = `${conn.clientId}\n${frame.cid}`;
      if (!this.recent.has(key)) return this.sendEphemeral(conn, frame, key);
    }
    const seq = ++this.accepted;
    this.lastPublish.set(conn, seq);
    this.pending.push({ conn, frame, seq });
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

  /**
   * Runs a search frame and answers with `result` or `err`. A connection's searches run in turn,
   * at most {@link MAX_SEARCHES_PER_CONNECTION} waiting, so one connection cannot fill the
   * store's search workers or queue.
   */
  search(conn: Connection, frame: SearchFrame): Promise<void> {
    const line = this.searches.get(conn) ?? { tail: Promise.resolve(), waiting: 0 };
    if (line.waiting >= MAX_SEARCHES_PER_CONNECTION) {
      conn.sendError(ErrorCode.RateLimited, `more than ${MAX_SEARCHES_PER_CONNECTION} searches waiting; wait for their answers`, { rid: frame.rid });
      return Promise.resolve();
    }
    line.waiting++;
    this.searches.set(conn, line);
    line.tail = line.tail.then(() => this.runSearch(conn, frame)).finally(() => line.waiting--);
    return line.tail;
  }

  /** Resolves once every publish accepted so far has been stored and delivered (the HTTP search's read-your-writes). */
  settled(): Promise<void> {
    return this.whenSettled(this.accepted);
  }

  private async runSearch(conn: Connection, frame: SearchFrame): Promise<void> {
    try {
      const query = validateQuery(frame.query);
      // Read your own writes: wait until this connection's earlier publishes are stored, not
      // until the pipeline is empty (a room publishing steadily would never be).
      await this.whenSettled(this.lastPublish.get(conn) ?? 0);
      if (!conn.open) return; // a reader gone (or cut as a slow consumer) gets no answer
      const body = await this.store.search(this.name, query);
      // The store's JSON goes out as it is: a large answer is not parsed or re-serialised here.
      conn.send(Buffer.concat([Buffer.from(`{"type":"result","rid":${JSON.stringify(frame.rid)},`), body.subarray(1)]));
    } catch (error) {
      if (error instanceof VidgetError) return conn.sendError(error.code, error.message, { rid: frame.rid });
      this.options.onError(error);
      conn.sendError(ErrorCode.Unavailable, 'search failed', { rid: frame.rid });
    }
  }

  /** A moderator's `delete` frame: takes the record down, for everyone, live. */
  async remove(conn: Connection, frame: DeleteFrame): Promise<void> {
    try {
      await this.drain();
      const removed = await this.store.delete(this.name, [frame.id]);
      if (removed.ids.length === 0) return conn.sendError(ErrorCode.NotFound, `no record ${frame.id} in this room`, { rid: frame.rid });
      this.removed(removed, conn, frame.rid);
    } catch (error) {
      this.options.onError(error);
      conn.sendError(ErrorCode.Unavailable, 'the record could not be deleted; retry', { rid: frame.rid });
    }
  }

  /**
   * Records left the store (a moderator, the server API, a user's deletion): every connection
   * is told, so open widgets drop them; `rid` answers the connection that asked.
   */
  removed(removed: Removed, by?: Connection, rid?: string): void {
    this.released(removed);
    this.options.bus?.publish(this.name, encodeBusMessage({ kind: 'deleted', node: this.options.bus.nodeId, ids: removed.ids }));
    this.tellRemoved(removed.ids, by, rid);
  }

  private tellRemoved(ids: number[], by?: Connection, rid?: string): void {
    const frame = new FramedMessage(JSON.stringify({ type: 'deleted', ids }));
    for (const conn of this.connections) if (conn !== by || rid === undefined) conn.send(frame);
    if (by && rid !== undefined) by.send({ type: 'deleted', ids, rid });
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
        try {
          await this.deliver(batch);
        } finally {
          this.settle(batch[batch.length - 1]!.seq);
        }
      }
    } finally {
      this.flushing = false;
      this.checkIdle();
    }
  }

  private checkIdle(): void {
    if (this.idle && !this.disposed) this.options.onIdle?.(this);
  }

  private async deliver(batch: Pending[]): Promise<void> {
    try {
      await this.reserveIds(this.store.shared ? batch.filter((p) => !p.frame.persist).length : batch.length);
    } catch (error) {
      // No ids, no records: each publisher is told, and its client sends again.
      this.options.onError(error);
      for (const { conn, frame } of batch) conn.sendError(ErrorCode.Unavailable, 'the record could not be stored; retry', { cid: frame.cid });
      return;
    }
    const created = Date.now();
    const items: Item[] = [];
    for (const { conn, frame } of batch) {
      const key = `${conn.clientId}\n${frame.cid}`;
      const seen = this.recent.get(key);
      const persisted = frame.persist === true;
      if (seen) {
        // A repeat is the same publish, so its data is the same; a stored one is read back exactly.
        const record = { id: seen.id, client_id: conn.clientId, created: seen.created, username: seen.username, data: frame.data };
        items.push({ conn, cid: frame.cid, key, persisted: seen.persisted, record, json: '', bytes: 0, outcome: 'repeat' });
        continue;
      }
      const dataJson = JSON.stringify(frame.data);
      const bytes = persisted ? Buffer.byteLength(dataJson) : 0;
      if (persisted && !this.withinQuota(bytes)) {
        items.push({ conn, cid: frame.cid, key, persisted, json: '', bytes: 0, outcome: 'over-quota' });
        continue;
      }
      // A shared store numbers stored records itself, in its transaction (see the store's `shared`).
      const id = persisted && this.store.shared ? 0 : ++this.info.lastId;
      const record: VidgetRecord = { id, client_id: conn.clientId, created, username: conn.username, data: frame.data };
      items.push({ conn, cid: frame.cid, key, persisted, record, json: recordJson(record, dataJson), bytes, dataJson, outcome: 'new' });
      // Remembered now, so a repeat later in this same batch is caught too.
      this.remember(key, record, persisted);
    }
    const failed = !(await this.persist(items));
    for (const item of items) {
      if (item.outcome === 'repeat' && item.persisted) item.record = (await this.stored(item)) ?? item.record;
      this.answer(item, failed);
    }
  }

  /** Whether one more record of `bytes` fits the room's and the project's quotas; counts it if so. */
  private withinQuota(bytes: number): boolean {
    const { quota } = this.options;
    const room = this.info.usage;
    const project = this.project;
    if (room.records + 1 > quota.roomRecords || room.bytes + bytes > quota.roomBytes) return false;
    if (project.records + 1 > quota.projectRecords || project.bytes + bytes > quota.projectBytes) return false;
    this.count(1, bytes);
    return true;
  }

  private count(records: number, bytes: number): void {
    for (const usage of [this.info.usage, this.project]) {
      usage.records += records;
      usage.bytes += bytes;
    }
  }

  /** Stores the batch's new persistent records in one append; false if the store failed. */
  private async persist(items: Item[]): Promise<boolean> {
    const toStore = items.filter((i) => i.persisted && i.outcome === 'new');
    if (toStore.length === 0) return true;
    try {
      const { roomRecords, roomBytes } = this.options.quota;
      const results = await this.store.append(
        this.name,
        toStore.map((i) => ({ ...i.record!, cid: i.cid, dataJson: i.dataJson!, user_id: i.conn.identity.userId })),
        { records: roomRecords, bytes: roomBytes },
      );
      results.forEach((result, n) => {
        const item = toStore[n]!;
        if (result.stored) {
          if (this.store.shared) {
            item.record!.id = result.id!;
            item.prev = result.prev!;
            item.json = recordJson(item.record!, item.dataJson!);
            this.remember(item.key, item.record!, true);
          } else {
            this.lastStoredId = Math.max(this.lastStoredId, item.record!.id);
          }
          return;
        }
        this.count(-1, -item.bytes);
        this.forget(item.key);
        if ('overQuota' in result) {
          // Other nodes filled the room meanwhile: this node counts it full from now on.
          this.info.usage.records = Math.max(this.info.usage.records, roomRecords);
          item.outcome = 'over-quota';
          return;
        }
        // Stored before this room remembered it (an earlier process, or the memo forgot it).
        item.record = result.existing;
        item.outcome = 'duplicate';
        this.remember(item.key, result.existing, true);
      });
      return true;
    } catch (error) {
      // Not stored, so not acked: the client keeps it queued and sends it again.
      this.options.onError(error);
      for (const item of toStore) {
        this.count(-1, -item.bytes);
        this.forget(item.key);
      }
      return false;
    }
  }

  /** The stored copy of a repeated persistent publish (undefined if the store lost it since, or failed). */
  private async stored(item: Item): Promise<VidgetRecord | undefined> {
    try {
      return await this.store.lookup(this.name, item.conn.clientId, item.cid);
    } catch {
      return undefined;
    }
  }

  private ephemeralNow(): boolean {
    const idInHand = this.info.lastId < this.reserved || this.spareTop !== undefined;
    return idInHand && (this.store.shared || (this.pending.length === 0 && !this.flushing && !this.flushTimer));
  }

  /** Moves to the spare block of ids when the current one cannot give `n` more. */
  private useSpare(n: number): void {
    if (this.spareTop === undefined || this.info.lastId + n <= this.reserved) return;
    this.reserved = this.spareTop;
    this.info.lastId = this.spareTop - ID_BLOCK;
    this.spareTop = undefined;
  }

  private sendEphemeral(conn: Publisher, frame: PublishFrame, key: string): void {
    this.useSpare(1);
    const dataJson = JSON.stringify(frame.data);
    const record: VidgetRecord = { id: ++this.info.lastId, client_id: conn.clientId, created: Date.now(), username: conn.username, data: frame.data };
    this.remember(key, record, false);
    this.takeSpareBlock();
    this.answer({ conn, cid: frame.cid, key, persisted: false, record, json: recordJson(record, dataJson), bytes: 0, outcome: 'new' }, false);
  }

  /** Half-way through a block of ephemeral ids, the next is taken, so the node rarely waits for one. */
  private takeSpareBlock(): void {
    if (!this.store.shared || this.spare !== undefined || this.reserved - this.info.lastId > ID_BLOCK / 2) return;
    this.spare = this.store.takeIds(this.name, ID_BLOCK).catch((error: unknown) => {
      this.spare = undefined; // tried again on the next message
      this.options.onError(error);
      return undefined;
    });
    void this.spare.then((top) => {
      if (top === undefined) return;
      this.spare = undefined;
      // Switch when the current block runs out (ids within a node keep increasing).
      this.spareTop = top;
    });
  }

  /** Tells the publisher (and, for a new record, the room) how its publish went. */
  private answer(item: Item, storeFailed: boolean): void {
    const { conn, cid } = item;
    if (item.outcome === 'over-quota') {
      conn.sendError(ErrorCode.QuotaExceeded, 'the storage quota of this room or project is used up; nothing was stored', { cid });
    } else if (storeFailed && item.persisted && item.outcome === 'new') {
      conn.sendError(ErrorCode.Unavailable, 'the record could not be stored; retry', { cid });
    } else if (item.outcome === 'duplicate' || item.outcome === 'repeat') {
      conn.send({ type: 'ack', cid, record: item.record!, persisted: item.persisted, duplicate: true });
    } else {
      const record = item.record!;
      this.options.bus?.publish(
        this.name,
        encodeBusMessage({ kind: 'record', node: this.options.bus.nodeId, id: record.id, prev: item.prev ?? 0, persisted: item.persisted, clientId: record.client_id, json: item.json }),
      );
      if (this.gate && item.persisted) this.gate.offer(record.id, item.prev!, () => this.broadcast(record, item.json, true, conn, cid));
      else this.broadcast(record, item.json, item.persisted, conn, cid);
    }
  }

  /** A message from another node: a record (in the room's order), a delete, or a presence change. */
  private onBus(text: string): void {
    if (text.startsWith((this.ownPrefix ??= ownRecordPrefix(this.options.bus!.nodeId)))) return; // our own, back from Redis
    const message = parseBusMessage(text);
    if (!message || message.node === this.options.bus?.nodeId) return;
    if (this.early) this.early.push(message);
    else this.fromBus(message);
  }

  private fromBus(message: BusMessage): void {
    if (message.kind === 'presence') return this.schedulePresence();
    if (message.kind === 'deleted') return this.tellRemoved(message.ids);
    const { id, prev, clientId, json, persisted } = message;
    if (persisted && this.gate) this.gate.offer(id, prev, () => this.fanOut(id, clientId, json, true));
    else this.fanOut(id, clientId, json, persisted);
  }

  /** Sends a record to every connection of this node (one it did not publish here). */
  private fanOut(id: number, clientId: string, json: string, persisted: boolean): void {
    if (persisted) this.lastStoredId = Math.max(this.lastStoredId, id);
    let frame: FramedMessage | undefined;
    let own: FramedMessage | undefined;
    for (const conn of this.connections) {
      if (conn.clientId === clientId) conn.sendRecord(id, (own ??= framedMsg(json, persisted, true)));
      else conn.sendRecord(id, (frame ??= framedMsg(json, persisted, false)));
    }
    if (this.watchers.size > 0) this.tellWatchers(id, frame ?? framedMsg(json, persisted, false));
  }

  private tellWatchers(id: number, frame: FramedMessage): void {
    for (const watcher of this.watchers) watcher.record(this, id, frame);
  }

  /** Makes sure `n` more ids can be handed out: one store write per {@link ID_BLOCK} ids. */
  private async reserveIds(n: number): Promise<void> {
    this.useSpare(n);
    if (this.info.lastId + n <= this.reserved) return;
    if (this.store.shared) {
      // A block no other node hands out; ids within it increase on this node only.
      const size = Math.max(n, ID_BLOCK);
      this.reserved = await this.store.takeIds(this.name, size);
      this.info.lastId = this.reserved - size;
      return;
    }
    this.reserved = await this.store.reserveIds(this.name, this.info.lastId + Math.max(n, ID_BLOCK));
  }

  private whenSettled(seq: number): Promise<void> {
    if (seq <= this.settledSeq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  private settle(seq: number): void {
    this.settledSeq = Math.max(this.settledSeq, seq);
    if (this.waiters.length === 0) return;
    const due = this.waiters.filter((w) => w.seq <= this.settledSeq);
    this.waiters = this.waiters.filter((w) => w.seq > this.settledSeq);
    for (const w of due) w.resolve();
  }

  private broadcast(record: VidgetRecord, json: string, persisted: boolean, publisher: Publisher, cid: string): void {
    if (persisted) this.lastStoredId = Math.max(this.lastStoredId, record.id);
    // Framed once (on first use), the same bytes go to every socket.
    let frame: FramedMessage | undefined;
    let own: FramedMessage | undefined;
    for (const conn of this.connections) {
      if ((conn as RoomMember | Publisher) === publisher) continue;
      if (conn.clientId === record.client_id) conn.sendRecord(record.id, (own ??= framedMsg(json, persisted, true)));
      else conn.sendRecord(record.id, (frame ??= framedMsg(json, persisted, false)));
    }
    if (this.watchers.size > 0) this.tellWatchers(record.id, frame ?? framedMsg(json, persisted, false));
    // cid is [A-Za-z0-9_-] (validated): quoted as is.
    publisher.sendAck(record.id, `{"type":"ack","cid":"${cid}","persisted":${persisted},"record":${json}}`);
  }

  private remember(key: string, record: VidgetRecord, persisted: boolean): void {
    this.forget(key);
    this.recent.set(key, { id: record.id, created: record.created, username: record.username, persisted });
    this.memoBytes += key.length + SEEN_BYTES;
    while (this.memoBytes > MEMO_BYTES) this.forget(this.recent.keys().next().value!);
  }

  private forget(key: string): void {
    if (this.recent.delete(key)) this.memoBytes -= key.length + SEEN_BYTES;
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
      void this.updatePresence();
    };
    this.presenceTimer = setTimeout(fire, Math.max(0, wait));
  }

  /** The count over every node (this node's alone without a presence store, or when it fails). */
  private async updatePresence(): Promise<void> {
    const { presence, bus } = this.options;
    let count = this.connections.size;
    if (presence) {
      try {
        if (count !== this.reportedCount) {
          this.reportedCount = count;
          await presence.set(this.name, count);
          bus?.publish(this.name, encodeBusMessage({ kind: 'presence', node: bus.nodeId }));
        }
        count = await presence.total(this.name);
      } catch (error) {
        this.reportedCount = -1; // told again next time
        this.options.onError(error);
        // Redis unreachable: the last total stands rather than this node's share of it.
        if (this.lastCount >= 0) return;
      }
    }
    if (!this.disposed) this.sendPresence(count);
  }

  private sendPresence(count: number): void {
    const changed = count !== this.lastCount;
    this.lastCount = count;
    const frame = new FramedMessage(`{"type":"presence","count":${count}}`);
    for (const conn of this.connections) {
      if (changed || !conn.presenceSent) {
        conn.presenceSent = true;
        conn.send(frame);
      }
    }
  }

  /** Stops timers and leaves the bus; used when the room is dropped or the server closes. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.presenceTimer);
    clearImmediate(this.flushTimer);
    this.gate?.dispose();
    const { bus, presence } = this.options;
    if (bus) bus.unsubscribe(this.name).catch((error) => this.options.onError(error));
    if (presence && this.reportedCount > 0) {
      presence
        .set(this.name, 0)
        .then(() => bus?.publish(this.name, encodeBusMessage({ kind: 'presence', node: bus.nodeId })))
        .catch((error) => this.options.onError(error));
    }
  }
}
