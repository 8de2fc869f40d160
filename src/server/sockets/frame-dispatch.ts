import type { RawData } from 'ws';
import { ErrorCode, frameRef, isValidName, parseClientFrame } from '../../protocol/index.js';
import type { Connection } from '../rooms/connection.js';

/** The request id of a frame, read cheaply from its first bytes (never a parse of a huge frame). */
function quickRef(bytes: Buffer): { cid?: string; rid?: string } {
  const head = bytes.toString('utf8', 0, 256);
  const match = /"(cid|rid)"\s*:\s*"([A-Za-z0-9_-]{1,64})"/.exec(head);
  return match && isValidName(match[2]) ? { [match[1] as 'cid' | 'rid']: match[2] } : {};
}

/**
 * One frame from a client, in the order of what is cheapest to refuse: binary, rate (this
 * connection's, then its address's and project's, which outlive reconnects), size, then the
 * JSON parse and validation; valid frames go to the room.
 */
export function dispatchFrame(conn: Connection, data: RawData, isBinary: boolean, maxFrameBytes: number, shared: () => boolean): void {
  if (isBinary) return conn.sendError(ErrorCode.BadFrame, 'binary frames are not accepted; send JSON text');
  const bytes = data as Buffer;
  if (!conn.admit(shared)) return conn.sendError(ErrorCode.RateLimited, 'rate limit exceeded; slow down and retry', quickRef(bytes));
  if (bytes.length > maxFrameBytes) {
    return conn.sendError(ErrorCode.TooLarge, `frame is ${bytes.length} bytes; the limit is ${maxFrameBytes}`, quickRef(bytes));
  }
  const text = bytes.toString('utf8');
  let frame;
  try {
    frame = parseClientFrame(text);
  } catch (error) {
    // Within maxFrameBytes, so reading the whole frame for its id is bounded.
    return conn.sendError(ErrorCode.BadFrame, (error as Error).message, frameRef(text));
  }
  if (frame.type === 'pub') conn.room.publish(conn, frame);
  else void conn.room.search(conn, frame);
}
