import type { RawData } from 'ws';
import { ErrorCode, VidgetError, frameRef, isValidName, parseClientFrame, type PublishFrame, type RefreshFrame } from '../../protocol/index.js';
import type { Connection } from '../rooms/connection.js';
import { joinAction, type Action } from '../trust/permissions.js';
import { authorize } from '../trust/project.js';
import { claimsPromotion } from '../trust/promotion.js';
import type { Projects } from '../trust/projects.js';

/** What dispatching a frame needs besides the connection. */
export interface DispatchContext {
  maxFrameBytes: number;
  /** Takes a token from the connection's address's and project's buckets. */
  shared: (conn: Connection) => boolean;
  projects: Projects;
  /** Answers publishes into the platform's reserved rooms (analytics reports). */
  platform?: { intercept(conn: Connection, frame: PublishFrame): boolean };
}

/** The request id of a frame, read cheaply from its first bytes (never a parse of a huge frame). */
function quickRef(bytes: Buffer): { cid?: string; rid?: string } {
  const head = bytes.toString('utf8', 0, 256);
  const match = /"(cid|rid)"\s*:\s*"([A-Za-z0-9_-]{1,64})"/.exec(head);
  return match && isValidName(match[2]) ? { [match[1] as 'cid' | 'rid']: match[2] } : {};
}

/** Whether the connection's identity may do `action` in its room; if not, answers `forbidden`. */
function permitted(conn: Connection, action: Action, ref: { cid?: string; rid?: string }): boolean {
  if (conn.identity.permissions.allows(conn.roomName.plain, action)) return true;
  conn.sendError(ErrorCode.Forbidden, `no ${action} permission for room ${conn.roomName.plain}`, ref);
  return false;
}

/**
 * One frame from a client, in the order of what is cheapest to refuse: binary, rate (this
 * connection's, then its address's and project's, which outlive reconnects), size, then the
 * JSON parse and validation, then the permission for what it asks; valid frames go to the room.
 */
export function dispatchFrame(conn: Connection, data: RawData, isBinary: boolean, ctx: DispatchContext): void {
  if (isBinary) return conn.sendError(ErrorCode.BadFrame, 'binary frames are not accepted; send JSON text');
  const bytes = data as Buffer;
  if (!conn.admit(ctx.shared)) return conn.sendError(ErrorCode.RateLimited, 'rate limit exceeded; slow down and retry', quickRef(bytes));
  if (bytes.length > ctx.maxFrameBytes) {
    return conn.sendError(ErrorCode.TooLarge, `frame is ${bytes.length} bytes; the limit is ${ctx.maxFrameBytes}`, quickRef(bytes));
  }
  const text = bytes.toString('utf8');
  let frame;
  try {
    frame = parseClientFrame(text);
  } catch (error) {
    // Within maxFrameBytes, so reading the whole frame for its id is bounded.
    return conn.sendError(ErrorCode.BadFrame, (error as Error).message, frameRef(text));
  }
  switch (frame.type) {
    case 'pub':
      if (ctx.platform?.intercept(conn, frame)) return;
      if (permitted(conn, 'publish', { cid: frame.cid }) && (!claimsPromotion(frame.data) || permitted(conn, 'moderate', { cid: frame.cid }))) conn.room.publish(conn, frame);
      return;
    case 'search':
      if (permitted(conn, 'search', { rid: frame.rid })) void conn.room.search(conn, frame);
      return;
    case 'delete':
      if (permitted(conn, 'moderate', { rid: frame.rid })) void conn.room.remove(conn, frame);
      return;
    case 'refresh':
      void refresh(conn, frame, ctx.projects);
  }
}

/** Replaces the connection's token: the same user, still allowed to read the room. */
async function refresh(conn: Connection, frame: RefreshFrame, projects: Projects): Promise<void> {
  try {
    const identity = await projects.get(conn.project)!.identify(frame.token);
    if (identity.userId !== conn.identity.userId) throw new VidgetError(ErrorCode.Forbidden, 'a refreshed token must be for the same user (sub)');
    authorize(identity, conn.roomName, joinAction(conn.roomName.plain));
    conn.identity = identity;
    conn.send({ type: 'refreshed', exp: identity.exp! });
  } catch (error) {
    const e = error instanceof VidgetError ? error : new VidgetError(ErrorCode.Unauthorized, 'token refused');
    conn.sendError(e.code, e.message);
  }
}
