import { ErrorCode, VidgetError } from './errors.js';
import { isValidName } from './names.js';
import type { SearchGroup, SearchQuery } from './query.js';
import type { Json, VidgetRecord } from './record.js';

/** Version of the wire protocol; sent in `hello`. */
export const PROTOCOL_VERSION = 1;

/** client → server: publish `data`; acked by `cid`. `persist` stores it before the ack. */
export interface PublishFrame {
  type: 'pub';
  cid: string;
  data: Json;
  persist?: boolean;
}

/** client → server: search the room's persisted records; answered by `result` or `err` with the same `rid`. */
export interface SearchFrame {
  type: 'search';
  rid: string;
  query: SearchQuery;
}

/** client → server: a fresh token for this connection (before the old one expires); answered by `refreshed` or `err`. */
export interface RefreshFrame {
  type: 'refresh';
  token: string;
}

/** client → server: take a record down (needs the `moderate` permission); answered by `deleted` or `err` with the same `rid`. */
export interface DeleteFrame {
  type: 'delete';
  rid: string;
  id: number;
}

/** Every frame a client may send. */
export type ClientFrame = PublishFrame | SearchFrame | RefreshFrame | DeleteFrame;

/** server → client, first frame: who the server thinks you are and where the room stands. */
export interface HelloFrame {
  type: 'hello';
  protocol: number;
  client_id: string;
  username: string | null;
  /** Changes when the room's store was reset; resume cursors from another epoch have a gap. */
  epoch: string;
  /** The server's per-connection limits, so a client can pace itself instead of being refused. */
  limits: ServerLimits;
}

/** Per-connection limits a server announces in `hello`. */
export interface ServerLimits {
  /** Frames per second, sustained. */
  rate: number;
  /** Frames in a burst. */
  burst: number;
  /** Largest frame, in bytes. */
  maxFrameBytes: number;
}

/** server → client: a record published in the room. `own` marks the receiver's own publish. */
export interface MessageFrame {
  type: 'msg';
  record: VidgetRecord;
  persisted: boolean;
  own?: true;
}

/** server → client: the publish with this `cid` was accepted (and stored, if persistent). */
export interface AckFrame {
  type: 'ack';
  cid: string;
  record: VidgetRecord;
  persisted: boolean;
  /** The `cid` had been accepted before; nothing was stored or broadcast again. */
  duplicate?: true;
}

/** server → client: the room's active connection count changed. */
export interface PresenceFrame {
  type: 'presence';
  count: number;
}

/** server → client: the answer to a `search` frame. */
export interface ResultFrame {
  type: 'result';
  rid: string;
  records: VidgetRecord[];
  total: number;
  /** `total` is a lower bound: the store stopped counting there (PostgreSQL, past 10,000 matches). */
  totalExact?: false;
  groups?: SearchGroup[];
  /** More groups exist than were sent (at most 1,000, and at most the answer's byte cap). */
  groupsTruncated?: true;
  /** More records may follow: pass this as the query's `after` for the next page. */
  next?: number;
  /** Fewer than `limit` records were sent because the answer reached its byte cap; `next` continues. */
  truncated?: true;
}

/**
 * server → client: the end of the catch-up replay; live records follow.
 * `recovered: false` says the client has a gap (epoch changed, or more than the replay cap).
 */
export interface SyncedFrame {
  type: 'synced';
  /** Id of the newest replayed or already-seen record; the next resume cursor. */
  until: number | null;
  epoch: string;
  recovered: boolean;
  replayed: number;
}

/** server → client: a request failed. `cid`/`rid` name the publish or search it answers. */
export interface ErrorFrame {
  type: 'err';
  code: ErrorCode;
  message: string;
  cid?: string;
  rid?: string;
}

/** server → client: the connection's token was replaced; it is valid until `exp` (seconds since epoch). */
export interface RefreshedFrame {
  type: 'refreshed';
  exp: number;
}

/** server → client: records were taken down (moderation, a user's data deleted); `rid` answers a `delete` frame. */
export interface DeletedFrame {
  type: 'deleted';
  ids: number[];
  rid?: string;
}

/** Every frame the server may send. */
export type ServerFrame = HelloFrame | MessageFrame | AckFrame | PresenceFrame | ResultFrame | SyncedFrame | ErrorFrame | RefreshedFrame | DeletedFrame;

const MAX_DATA_DEPTH = 32;

function bad(message: string): never {
  throw new VidgetError(ErrorCode.BadFrame, message);
}

/**
 * Rejects values JSON.parse can make but we will not store: deeper than 32 levels. Recursive
 * (at most 33 calls deep) so the check allocates nothing on the publish path.
 */
function checkDepth(value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_DATA_DEPTH) bad(`data is nested deeper than ${MAX_DATA_DEPTH}`);
  if (Array.isArray(value)) for (const child of value) checkDepth(child, depth + 1);
  else for (const key in value) checkDepth((value as Record<string, unknown>)[key], depth + 1);
}

/**
 * Parses and validates one text frame from a client. Throws `VidgetError('bad_frame')` with the
 * offending `cid`/`rid` in the message where it could be read.
 */
export function parseClientFrame(text: string): ClientFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    bad('frame is not JSON');
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) bad('frame must be a JSON object');
  const f = frame as Record<string, unknown>;
  switch (f.type) {
    case 'pub': {
      if (!isValidName(f.cid)) bad('pub.cid must be 1-64 of A-Z a-z 0-9 _ -');
      if (!('data' in f)) bad('pub.data is missing');
      if (f.persist !== undefined && typeof f.persist !== 'boolean') bad('pub.persist must be a boolean');
      checkDepth(f.data, 1);
      return { type: 'pub', cid: f.cid, data: f.data as Json, persist: f.persist === true };
    }
    case 'search':
      if (!isValidName(f.rid)) bad('search.rid must be 1-64 of A-Z a-z 0-9 _ -');
      // The query itself is validated by validateQuery, which answers bad_query with this rid.
      return { type: 'search', rid: f.rid, query: f.query as SearchQuery };
    case 'refresh':
      if (typeof f.token !== 'string' || f.token.length === 0 || f.token.length > 4096) bad('refresh.token must be a token of at most 4096 characters');
      return { type: 'refresh', token: f.token };
    case 'delete':
      if (!isValidName(f.rid)) bad('delete.rid must be 1-64 of A-Z a-z 0-9 _ -');
      if (typeof f.id !== 'number' || !Number.isSafeInteger(f.id) || f.id < 1) bad('delete.id must be a record id');
      return { type: 'delete', rid: f.rid, id: f.id };
    default:
      bad(`unknown frame type "${String(f.type).slice(0, 32)}"`);
  }
}

/** Reads `cid` or `rid` from a frame that failed validation, so the error can name it. */
export function frameRef(text: string): { cid?: string; rid?: string } {
  try {
    const f = JSON.parse(text) as Record<string, unknown>;
    if (typeof f !== 'object' || f === null) return {};
    return {
      ...(isValidName(f.cid) ? { cid: f.cid } : {}),
      ...(isValidName(f.rid) ? { rid: f.rid } : {}),
    };
  } catch {
    return {};
  }
}
