import { ErrorCode, VidgetError, type ControlMode } from '../../protocol/index.js';
import { Invitations } from './invitations.js';
import { Session, randomToken, type SessionRules } from './session.js';
import type { WatchConnection } from './watch-connection.js';

/**
 * The sessions of every project on this server (by `project/sid`), the pages each user has
 * open (for invitations), and the invitations. A session is erased when its last participant
 * leaves; its id is never made again (128 random bits).
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly pages = new Map<string, Set<WatchConnection>>();
  readonly invitations: Invitations;

  constructor(
    readonly rules: SessionRules,
    inviteTtlMs: number,
  ) {
    this.invitations = new Invitations(inviteTtlMs, (project, uid) => this.pages.get(`${project}/${uid}`) ?? []);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session of `conn`'s project. */
  create(conn: WatchConnection, control: ControlMode): Session {
    const sid = randomToken(16);
    const key = `${conn.project}/${sid}`;
    const session = new Session(key, sid, control, this.rules, (s) => this.sessions.delete(s.key));
    this.sessions.set(key, session);
    return session;
  }

  /** The session `sid` of `conn`'s project; throws `session_not_found` (forged, erased, another project's). */
  find(conn: WatchConnection, sid: string): Session {
    const session = this.sessions.get(`${conn.project}/${sid}`);
    if (!session) throw new VidgetError(ErrorCode.SessionNotFound, 'no such session: it never existed or was erased when its last participant left');
    return session;
  }

  /** The session and participant id of `conn` in `sid`; undefined when it is not a participant. */
  membership(conn: WatchConnection, sid: string): { session: Session; pid: string } | undefined {
    const key = `${conn.project}/${sid}`;
    const pid = conn.sessions.get(key);
    const session = this.sessions.get(key);
    return pid && session ? { session, pid } : undefined;
  }

  /** A page opened: it can be invited. */
  opened(conn: WatchConnection): void {
    const key = `${conn.project}/${conn.uid}`;
    let set = this.pages.get(key);
    if (!set) this.pages.set(key, (set = new Set()));
    set.add(conn);
  }

  /** A page's connection ended: its participants drop (grace period), it can no longer be invited. */
  closed(conn: WatchConnection): void {
    const key = `${conn.project}/${conn.uid}`;
    const set = this.pages.get(key);
    set?.delete(conn);
    if (set?.size === 0) this.pages.delete(key);
    for (const [sessionKey, pid] of conn.sessions) this.sessions.get(sessionKey)?.drop(pid);
    conn.sessions.clear();
  }

  /** Stops every timer (server shutdown). */
  dispose(): void {
    for (const session of this.sessions.values()) session.dispose();
    this.invitations.dispose();
  }
}
