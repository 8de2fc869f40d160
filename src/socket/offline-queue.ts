import { delMany, promisifyRequest, set } from 'idb-keyval';
import { ErrorCode, VidgetError, type Json } from '../protocol/index.js';
import { vidgetStore } from './idb-store.js';

const REMOVE_BATCH_MS = 100;

/** A publish waiting in the outbox for the server's ack. */
export interface QueuedPublish {
  cid: string;
  data: Json;
  /** Order of publishing; outbox entries are sent in this order. */
  seq: number;
}

/**
 * The IndexedDB outbox of one room's persistent publishes. An entry is written before it is sent
 * and removed only when the server acks it, so publishes made offline, or lost in a dropped
 * connection, or left by a closed page, are sent on the next connection, in order. With the
 * server's dedupe on `cid`, each is stored once. Bounded: past `cap` entries `add` throws
 * `queue_full` and nothing queued is dropped.
 */
export class OfflineQueue {
  private entries: QueuedPublish[] = [];
  private lastSeq = 0;
  private durable = true;
  private removing: IDBValidKey[] = [];
  private removeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly room: string,
    private readonly cap: number,
  ) {}

  /** Reads the room's queued entries, oldest first. */
  async load(): Promise<QueuedPublish[]> {
    try {
      const range = IDBKeyRange.bound(['outbox', this.room], ['outbox', this.room, []]);
      const stored = await vidgetStore()('readonly', (store) => promisifyRequest(store.getAll(range)) as Promise<QueuedPublish[]>);
      const known = new Set(this.entries.map((e) => e.cid));
      this.entries = [...this.entries, ...stored.filter((e) => !known.has(e.cid))].sort((a, b) => a.seq - b.seq);
    } catch {
      // No IndexedDB (private mode, some embedded browsers): the outbox lives in memory only.
      this.durable = false;
    }
    this.lastSeq = Math.max(this.lastSeq, ...this.entries.map((e) => e.seq));
    return [...this.entries];
  }

  /** Entries waiting, oldest first. */
  get pending(): readonly QueuedPublish[] {
    return this.entries;
  }

  /** Whether entries survive a reload (false where IndexedDB is unavailable). */
  get isDurable(): boolean {
    return this.durable;
  }

  /** Adds a publish; resolves once it is in IndexedDB. Throws `queue_full` at the cap. */
  async add(cid: string, data: Json): Promise<QueuedPublish> {
    if (this.entries.length >= this.cap) {
      throw new VidgetError(ErrorCode.QueueFull, `the offline queue holds ${this.cap} publishes; wait for the connection`);
    }
    // Increasing across reloads: time-based, and never below the last one used.
    const entry: QueuedPublish = { cid, data, seq: (this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000)) };
    this.entries.push(entry);
    if (this.durable) {
      try {
        await set(this.key(entry), entry, vidgetStore());
      } catch (error) {
        this.entries.splice(this.entries.indexOf(entry), 1);
        throw new VidgetError(ErrorCode.Unavailable, `could not queue the publish: ${(error as Error).message}`);
      }
    }
    return entry;
  }

  /**
   * Removes an acked entry. IndexedDB deletes are batched over `REMOVE_BATCH_MS`: each
   * transaction costs the browser real work, and a delete that a closing page never writes
   * only means the entry is sent again and the server acks it as a duplicate.
   */
  remove(cid: string): void {
    const i = this.entries.findIndex((e) => e.cid === cid);
    if (i < 0) return;
    const [entry] = this.entries.splice(i, 1);
    if (!this.durable) return;
    this.removing.push(this.key(entry!));
    this.removeTimer ??= setTimeout(() => void this.flushRemovals(), REMOVE_BATCH_MS);
  }

  /** Writes pending removals now (also done on their own within a turn). */
  async flushRemovals(): Promise<void> {
    clearTimeout(this.removeTimer);
    this.removeTimer = undefined;
    const keys = this.removing;
    this.removing = [];
    if (keys.length > 0) await delMany(keys, vidgetStore()).catch(() => {});
  }

  private key(entry: QueuedPublish): IDBValidKey {
    return ['outbox', this.room, entry.seq];
  }
}
