import type { SearchGroup, ValidQuery, VidgetRecord } from '../../protocol/index.js';

/** A room's name in a store: `"<project>/<widgetId>"`. */
export type RoomName = string;

/** What a room or a project holds in the store, for quotas. */
export interface Usage {
  records: number;
  /** UTF-8 bytes of the records' `data` as JSON text. */
  bytes: number;
}

/** Where a room stands in its store when it is opened. */
export interface RoomInfo {
  /** Random id fixed when the room was first stored; a new one means the store was reset. */
  epoch: string;
  /**
   * The highest record id the room may have handed out (stored or not), 0 if none: new ids
   * start above it, so an id is never reused, even for messages that were never stored.
   */
  lastId: number;
  /** What the room holds now. */
  usage: Usage;
  /** The id of the room's newest stored record, 0 if none (a {@link Store.shared} store reports it). */
  lastRecord?: number;
}

/** A record to store, with the client message id it deduplicates on. */
export interface StoredRecord extends VidgetRecord {
  cid: string;
  /** The publisher's user id (the token's `sub`), for deleting a user's records; null when anonymous. */
  user_id?: string | null;
  /** `JSON.stringify(data)`, when the caller already has it. */
  dataJson?: string;
}

/** Records taken out of one room: their ids and what they weighed. */
export interface Removed extends Usage {
  ids: number[];
}

/** Records removed from one room by {@link Store.expire}. */
export interface Expired extends Usage {
  room: RoomName;
}

/** What `append` did with one record: stored it, or found the same `(client_id, cid)` already stored. */
export type AppendResult =
  | {
      stored: true;
      /** A {@link Store.shared} store's id for the record. */
      id?: number;
      /** A {@link Store.shared} store's id of the room's stored record before this one (0 if none): nodes deliver in this chain. */
      prev?: number;
    }
  | { stored: false; existing: VidgetRecord }
  /** Refused by the room's quota (a {@link Store.shared} store checks it as it appends). */
  | { stored: false; overQuota: true };

/** What a room may hold: a shared store keeps an append within it, whichever node appends. */
export interface RoomLimits {
  records: number;
  bytes: number;
}

/** Which stored records a catch-up replays. */
export type ReplayFrom = { afterId: number } | { createdSince: number };

/** How much one catch-up may replay: the newest records within both caps. */
export interface ReplayLimit {
  records: number;
  /** Bytes of record JSON; at least one record is replayed whatever its size. */
  bytes: number;
}

/**
 * A replayed record as the store read it: its JSON text (serialised where it was read, off the
 * event loop) and the two fields the room needs to frame it.
 */
export interface ReplayedRecord {
  id: number;
  client_id: string;
  json: string;
}

/** The answer to a search, as the JSON text a store returns parses. */
export interface SearchResult {
  records: VidgetRecord[];
  total: number;
  groups?: SearchGroup[];
  /** More groups exist than were returned. */
  groupsTruncated?: true;
  /** More records may follow: the query's `after` for the next page. */
  next?: number;
  /** The records stopped at the byte cap before `limit`. */
  truncated?: true;
}

/** What every store does, shared by several processes or not. */
interface StoreBase {
  /** Connects and brings the schema up to date, if the store needs to (rejects when it cannot be reached). */
  open?(): Promise<void>;
  /** Opens (creating if new) a room and reports its epoch and last id. */
  openRoom(room: RoomName): Promise<RoomInfo>;
  /** Stores records in one transaction, in order; duplicates of `(room, client_id, cid)` are not stored. */
  append(room: RoomName, records: StoredRecord[], limits?: RoomLimits): Promise<AppendResult[]>;
  /** The stored record a client published with `cid`, if it is (still) stored. */
  lookup(room: RoomName, clientId: string, cid: string): Promise<VidgetRecord | undefined>;
  /** The newest records after a position within `limit`, oldest first; `truncated` if there were more. */
  replay(room: RoomName, from: ReplayFrom, limit: ReplayLimit): Promise<{ records: ReplayedRecord[]; truncated: boolean }>;
  /**
   * Runs a validated search over one room and answers a {@link SearchResult} as UTF-8 JSON, so
   * the caller sends it as it is (a large answer is never re-serialised on the event loop).
   * Fails with `query_timeout` past the store's time budget.
   */
  search(room: RoomName, query: ValidQuery): Promise<Uint8Array>;
  /** What every room of `project` holds. */
  projectUsage(project: string): Promise<Usage>;
  /** Deletes up to `limit` records created before `before` (ms); reports what left each room. */
  expire(before: number, limit: number): Promise<Expired[]>;
  /** Deletes records of a room by id (moderation); reports which ids were there and what they weighed. */
  delete(room: RoomName, ids: number[]): Promise<Removed>;
  /** Deletes every record of one user (`user_id`, the token's `sub`) in a project, room by room (a privacy request). */
  deleteUser(project: string, userId: string): Promise<Array<Removed & { room: RoomName }>>;
  /** The rooms of a project that hold records, with what they hold (at most `limit`, by name). */
  listRooms(project: string, limit?: number): Promise<Array<Usage & { room: RoomName }>>;
  /** Releases the store; pending work is finished first. */
  close(): Promise<void>;
}

/**
 * A store one server process writes (SQLite): the process assigns record ids itself, for records
 * and ephemeral messages alike, from blocks it reserves.
 */
export interface SingleWriterStore extends StoreBase {
  readonly shared?: false;
  /**
   * Reserves record ids of a room up to at least `upTo` and returns the new reservation's top.
   * Ids are handed out from memory within a reservation; one write per block keeps them unique
   * across restarts and crashes.
   */
  reserveIds(room: RoomName, upTo: number): Promise<number>;
}

/**
 * A store several server processes share (PostgreSQL): `append` assigns the records' ids itself,
 * in the transaction that stores them (the `id` given is ignored), and answers each stored
 * record's id and its predecessor's; ephemeral messages take ids from {@link takeIds}.
 */
export interface SharedStore extends StoreBase {
  readonly shared: true;
  /** A block of `count` ids of a room that no other node will hand out; resolves with the last of them. */
  takeIds(room: RoomName, count: number): Promise<number>;
}

/** Where persistent records live; `append` must have made them durable when its promise resolves, because the server acks after it. */
export type Store = SingleWriterStore | SharedStore;
