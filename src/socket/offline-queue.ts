import { delMany, promisifyRequest, setMany } from 'idb-keyval';
import { ErrorCode, VidgetError } from '../protocol/errors.js';
import type { Json } from '../protocol/record.js';
import { vidgetStore } from './idb-store.js';

const REMOVE_BATCH_MS = 100;

/** A publish waiting in the outbox for the server's ack. */
export interface QueuedPublish {
  cid: string;
  data: Json;
  /** Order of publishing; outbox entries are sent in this order. */
  seq: number;
}

interface PendingWrite {
  entry: QueuedPublish;
  resolve: () => void;
  reject: (error: VidgetError) => void;
}

/**
 * The IndexedDB outbox of one room's persistent publishes. An entry is written before it is sent
 * and removed only when the server acks it, so publishes made offline, or lost in a dropped
 * connection, or left by a closed page, are sent on the next connection, in order. With the
 * server's dedupe on `cid`, each is stored once. Bounded: past `cap` entries `add` throws
 * `queue_full` and nothing queued is dropped.
 */
export class OfflineQueue {
  // Insertion-ordered, so removing an acked entry is O(1) and iteration keeps publish order.
  private readonly entries = new Map<string, QueuedPublish>();
  private lastSeq = 0;
  private durable = true;
  private writes: PendingWrite[] = [];
  private removing: IDBValidKey[] = [];
  private removeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly room: string,
    private readonly cap: number,
    private readonly database?: string,
  ) {}

  /** Reads the room's queued entries, oldest first. */
  async load(): Promise<QueuedPublish[]> {
    try {
      const range = IDBKeyRange.bound(['outbox', this.room], ['outbox', this.room, []]);
      const stored = await vidgetStore(this.database)('readonly', (store) => promisifyRequest(store.getAll(range)) as Promise<QueuedPublish[]>);
      const all = [...stored.filter((e) => !this.entries.has(e.cid)), ...this.entries.values()].sort((a, b) => a.seq - b.seq);
      this.entries.clear();
      for (const e of all) this.entries.set(e.cid, e);
    } catch {
      // No IndexedDB (private mode, some embedded browsers): the outbox lives in memory only.
      this.durable = false;
    }
    for (const e of this.entries.values()) this.lastSeq = Math.max(this.lastSeq, e.seq);
    return [...this.entries.values()];
  }

  /** How many entries wait for an ack. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether entries survive a reload (false where IndexedDB is unavailable). */
  get isDurable(): boolean {
    return this.durable;
  }

  /**
   * Adds a publish; resolves once it is in IndexedDB. Adds made in the same turn share one
   * transaction. Throws `queue_full` at the cap.
   */
  add(cid: string, data: Json): Promise<QueuedPublish> {
    if (this.entries.size >= this.cap) {
      return Promise.reject(new VidgetError(ErrorCode.QueueFull, `the offline queue holds ${this.cap} publishes; wait for the connection`));
    }
    // Increasing across reloads: time-based, and never below the last one used.
    const entry: QueuedPublish = { cid, data, seq: (this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000)) };
    this.entries.set(cid, entry);
    if (!this.durable) return Promise.resolve(entry);
    return new Promise((resolve, reject) => {
      if (this.writes.length === 0) queueMicrotask(() => void this.flushWrites());
      this.writes.push({ entry, resolve: () => resolve(entry), reject });
    });
  }

  /**
   * Removes an acked entry. IndexedDB deletes are batched over `REMOVE_BATCH_MS`: each
   * transaction costs the browser real work, and a delete that a closing page never writes
   * only means the entry is sent again and the server acks it as a duplicate.
   */
  remove(cid: string): void {
    const entry = this.entries.get(cid);
    if (!entry) return;
    this.entries.delete(cid);
    if (!this.durable) return;
    this.removing.push(this.key(entry));
    this.removeTimer ??= setTimeout(() => void this.flushRemovals(), REMOVE_BATCH_MS);
  }

  /** Writes pending removals now (also done on their own within `REMOVE_BATCH_MS`). */
  async flushRemovals(): Promise<void> {
    clearTimeout(this.removeTimer);
    this.removeTimer = undefined;
    const keys = this.removing;
    this.removing = [];
    if (keys.length > 0) await delMany(keys, vidgetStore(this.database)).catch(() => {});
  }

  private async flushWrites(): Promise<void> {
    const writes = this.writes;
    this.writes = [];
    try {
      await setMany(
        writes.map((w) => [this.key(w.entry), w.entry]),
        vidgetStore(this.database),
      );
      for (const w of writes) w.resolve();
    } catch (error) {
      const failure = new VidgetError(ErrorCode.Unavailable, `could not queue the publish: ${(error as Error).message}`);
      for (const w of writes) {
        this.entries.delete(w.entry.cid);
        w.reject(failure);
      }
    }
  }

  private key(entry: QueuedPublish): IDBValidKey {
    return ['outbox', this.room, entry.seq];
  }
}
