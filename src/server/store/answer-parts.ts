import type { Removed, ReplayedRecord, ReplayLimit } from './store.js';

/** A stored record as a store reads it: `data` is its JSON text. */
export interface RecordRow {
  id: number;
  client_id: string;
  created: number;
  username: string | null;
  data: string;
}

/**
 * The record JSON, built from the stored JSON text of `data` without parsing it: a large answer
 * costs a string concatenation, not a parse and a stringify.
 */
export const recordJson = (r: RecordRow): string =>
  `{"id":${r.id},"client_id":${JSON.stringify(r.client_id)},"created":${r.created},"username":${r.username === null ? 'null' : JSON.stringify(r.username)},"data":${r.data}}`;

/** Groups (value as JSON text, largest first) as `{"value":…,"count":n}` texts: the first `max`, within `maxBytes`. */
export function groupItems(rows: Array<{ value: string | null; count: number }>, max: number, maxBytes: number): { items: string[]; bytes: number; more: boolean } {
  const items: string[] = [];
  let bytes = 0;
  for (const row of rows.slice(0, max)) {
    const item = `{"value":${row.value ?? 'null'},"count":${row.count}}`;
    const size = Buffer.byteLength(item);
    if (bytes + size > maxBytes) break;
    items.push(item);
    bytes += size;
  }
  return { items, bytes, more: items.length < rows.length };
}

/** Deleted rows per room (ids in order, with what they weighed). */
export function removedByRoom(rows: Array<{ room: number; id: number; bytes: number }>): Map<number, Removed> {
  const byRoom = new Map<number, Removed>();
  for (const { room, id, bytes } of rows) {
    const removed = byRoom.get(room) ?? { ids: [], records: 0, bytes: 0 };
    removed.ids.push(id);
    removed.records++;
    removed.bytes += bytes;
    byRoom.set(room, removed);
  }
  for (const removed of byRoom.values()) removed.ids.sort((a, b) => a - b);
  return byRoom;
}

/** One page of a search: record texts, whether more follow, whether the byte cap cut it, and the last id (the `next` cursor). */
export interface Page {
  items: string[];
  more: boolean;
  truncated: boolean;
  last: number;
}

/**
 * Collects a page from rows read in sort order (one more than `limit` is read, to know whether
 * more follow): `limit` records, or fewer once `maxBytes` is reached (at least one, so `next`
 * always moves on).
 */
export class PageBuilder {
  readonly page: Page = { items: [], more: false, truncated: false, last: 0 };
  private bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly maxBytes: number,
  ) {}

  /** Rows still wanted (read one more than this to learn whether more follow). */
  get wanted(): number {
    return this.limit + 1 - this.page.items.length;
  }

  /** Adds a row; false once the page is complete (the row was not taken). */
  add(row: RecordRow): boolean {
    const { page } = this;
    if (page.items.length === this.limit) return !(page.more = true);
    const json = recordJson(row);
    const size = Buffer.byteLength(json);
    if (page.items.length > 0 && this.bytes + size > this.maxBytes) return !(page.more = page.truncated = true);
    page.items.push(json);
    this.bytes += size;
    page.last = row.id;
    return true;
  }
}

/** A catch-up from rows read newest first (one more than `limit.records`): the newest within both caps, oldest first. */
export function newestWithin(rows: Iterable<RecordRow>, limit: ReplayLimit): { records: ReplayedRecord[]; truncated: boolean } {
  const records: ReplayedRecord[] = [];
  let bytes = 0;
  for (const row of rows) {
    const json = recordJson(row);
    bytes += Buffer.byteLength(json);
    // At least one record, whatever its size.
    if (records.length === limit.records || (records.length > 0 && bytes > limit.bytes)) return { records: records.reverse(), truncated: true };
    records.push({ id: row.id, client_id: row.client_id, json });
  }
  return { records: records.reverse(), truncated: false };
}
