import type { ReplayedRecord } from '../store/store.js';

/** A stored record on its way to a room's connections: its id, its predecessor's, and how to send it. */
interface Entry {
  id: number;
  prev: number;
  deliver: () => void;
}

/** How long a record may wait for its predecessor (in flight on the bus from another node) before the gap is read from the store. */
const GAP_WAIT_MS = 100;
/** Records one gap fill reads at most; a larger gap is left to the clients' own catch-up by cursor. */
const FILL_RECORDS = 10_000;

/**
 * Delivers a room's stored records to this node's connections in the room's order, exactly once,
 * whatever order they arrive in: from this node's own appends and from other nodes over the bus.
 *
 * Each record names its predecessor in the room (`prev`, fixed by the store under the room's row
 * lock). A record goes out when its predecessor has (`prev <= last`); one that arrives early waits.
 * If the predecessor has not come within {@link GAP_WAIT_MS} (the bus is at-most-once: a message
 * can be lost, or Redis restarted), the gap is read from the store, which holds every record up to
 * the newest visible one, and the waiting records follow. A record at or below `last` has been
 * delivered already (a bus echo, or read by a fill) and is dropped.
 */
export class OrderGate {
  private readonly waiting = new Map<number, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private filling = false;
  /** Fills that failed in a row (the store is down): the next waits longer. */
  private failures = 0;

  constructor(
    /** The id of the last record delivered (the room's newest when it opened). */
    public last: number,
    /** Reads the stored records after an id, oldest first. */
    private readonly read: (afterId: number, max: number) => Promise<ReplayedRecord[]>,
    /** Sends a record read from the store (no one on this node published it, or its publisher is gone). */
    private readonly deliverStored: (record: ReplayedRecord) => void,
    private readonly onError: (error: unknown) => void,
    /** Called when the last waiting record has gone out. */
    private readonly onDrained: () => void = () => {},
  ) {}

  /** Records waiting for a predecessor. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Offers a stored record; `deliver` runs once, in the room's order, or never if it was delivered already. */
  offer(id: number, prev: number, deliver: () => void): void {
    if (id <= this.last) return;
    this.waiting.set(id, { id, prev, deliver });
    this.release();
  }

  /** Reads what may have been missed (the bus was cut off): everything stored after `last`. */
  resync(): void {
    void this.fill();
  }

  /** Stops the gap timer (the room closes). */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private release(): void {
    for (;;) {
      const next = this.nextReady();
      if (!next) break;
      this.waiting.delete(next.id);
      this.last = next.id;
      this.run(next.deliver);
    }
    if (this.waiting.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.onDrained();
    } else if (!this.timer && !this.filling) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          void this.fill();
        },
        Math.min(5_000, GAP_WAIT_MS * 2 ** this.failures),
      );
      this.timer.unref();
    }
  }

  /** The lowest waiting record whose predecessor is out; drops those that are out already. */
  private nextReady(): Entry | undefined {
    let lowest: Entry | undefined;
    for (const entry of this.waiting.values()) {
      if (entry.id <= this.last) this.waiting.delete(entry.id);
      else if (!lowest || entry.id < lowest.id) lowest = entry;
    }
    return lowest && lowest.prev <= this.last ? lowest : undefined;
  }

  private async fill(): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      const records = await this.read(this.last, FILL_RECORDS);
      for (const record of records) {
        if (record.id <= this.last) continue;
        // A waiting entry sends itself (it may carry its publisher's ack); others go out as read.
        const entry = this.waiting.get(record.id);
        this.waiting.delete(record.id);
        this.last = record.id;
        this.run(entry ? entry.deliver : () => this.deliverStored(record));
      }
      this.failures = 0;
    } catch (error) {
      if (this.failures++ === 0) this.onError(error);
    } finally {
      this.filling = false;
      this.release();
    }
  }

  private run(deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.onError(error);
    }
  }
}
