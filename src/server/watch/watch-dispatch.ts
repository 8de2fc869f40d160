import type { RawData } from 'ws';
import { ErrorCode, VidgetError, parseWatchFrame, type JoinFrame, type WatchClientFrame } from '../../protocol/index.js';
import { serverNow } from './server-clock.js';
import type { SessionRegistry } from './session-registry.js';
import type { WatchConnection } from './watch-connection.js';

/** Sessions one page may be in at once: each made session lives as long as its page, so creating is bounded. */
const MAX_SESSIONS_PER_PAGE = 4;

/** Frames that name a session the connection must be a participant of. */
type InSessionFrame = Extract<WatchClientFrame, { sid: string }>;

/** One frame from a watch page: rate, size, validation, then what it asks. Never throws. */
export function dispatchWatchFrame(conn: WatchConnection, data: RawData, isBinary: boolean, registry: SessionRegistry, maxFrameBytes: number): void {
  if (isBinary) return conn.sendError(ErrorCode.BadFrame, 'binary frames are not accepted; send JSON text');
  if (!conn.admitFrame()) return conn.sendError(ErrorCode.RateLimited, 'rate limit exceeded; slow down and retry');
  const bytes = data as Buffer;
  if (bytes.length > maxFrameBytes) return conn.sendError(ErrorCode.TooLarge, `frame is ${bytes.length} bytes; the limit is ${maxFrameBytes}`);
  let frame: WatchClientFrame;
  try {
    frame = parseWatchFrame(bytes.toString('utf8'));
  } catch (error) {
    return conn.sendError(ErrorCode.BadFrame, (error as Error).message);
  }
  if (frame.type === 'time') return conn.send({ type: 'time', t0: frame.t0, now: serverNow() });
  if (frame.type === 'join') return join(conn, frame, registry);
  if (frame.type === 'answer') return registry.invitations.answer(conn, frame.iid, frame.accept);
  inSession(conn, frame, registry);
}

function join(conn: WatchConnection, frame: JoinFrame, registry: SessionRegistry): void {
  const name = conn.tokenName ?? (frame.name?.trim().slice(0, 40) || `Viewer ${conn.uid.slice(0, 4)}`);
  try {
    if (conn.sessions.size >= MAX_SESSIONS_PER_PAGE && !(frame.sid && conn.sessions.has(`${conn.project}/${frame.sid}`))) {
      throw new VidgetError(ErrorCode.RateLimited, `a page may be in at most ${MAX_SESSIONS_PER_PAGE} sessions at once; leave one first`);
    }
    if (frame.sid === undefined) return registry.create(conn, frame.control ?? 'all').add(conn, frame.rid, name);
    const session = registry.find(conn, frame.sid);
    if (frame.resume && session.resume(conn, frame.rid, frame.resume.pid, frame.resume.key)) return;
    // Already in it over this connection (a repeated join): that place is left first.
    const pid = conn.sessions.get(session.key);
    if (pid) session.remove(pid, 'left');
    // The session may have been erased by that leave.
    registry.find(conn, frame.sid).add(conn, frame.rid, name);
  } catch (error) {
    const e = error instanceof VidgetError ? error : new VidgetError(ErrorCode.Internal, 'join failed');
    conn.sendError(e.code, e.message, { rid: frame.rid, ...(frame.sid ? { sid: frame.sid } : {}) });
  }
}

function inSession(conn: WatchConnection, frame: InSessionFrame, registry: SessionRegistry): void {
  const member = registry.membership(conn, frame.sid);
  const ref = { sid: frame.sid, ...('rid' in frame ? { rid: frame.rid } : {}) };
  if (!member) return conn.sendError(ErrorCode.Forbidden, 'not a participant of this session (never joined, left, or another project)', ref);
  const { session, pid } = member;
  switch (frame.type) {
    case 'leave':
      return session.remove(pid, 'left');
    case 'control':
      if (!conn.admitControl()) return conn.sendError(ErrorCode.RateLimited, 'too many playback commands; this one was dropped', ref);
      return session.command(conn, pid, frame);
    case 'media':
      return session.media(conn, pid, frame);
    case 'signal':
      return session.signal(conn, pid, frame.to, frame.data);
    case 'invite':
      return registry.invitations.invite(conn, frame.rid, frame.sid, session.members.get(pid)!.wire.name, frame.to);
  }
}
