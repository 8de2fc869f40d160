import { ErrorCode, type InviteAnswer } from '../../protocol/index.js';
import { randomToken } from './session.js';
import type { WatchConnection } from './watch-connection.js';

/** Invitations one page may have waiting at once (each rings every page of the invited user). */
const MAX_PENDING_PER_PAGE = 10;

/** An invitation waiting for its answer. */
interface Pending {
  iid: string;
  sid: string;
  project: string;
  /** The invited user. */
  to: string;
  inviter: WatchConnection;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Invitations into sessions (the incoming-call observer's server side): each is delivered to
 * every page the invited user has open on the project, answered once (accepted or declined,
 * told to the inviter and to the invited user's other pages), or expires after `ttlMs`.
 */
export class Invitations {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly ttlMs: number,
    /** The pages a user has open on a project. */
    private readonly pagesOf: (project: string, uid: string) => Iterable<WatchConnection>,
  ) {}

  /** Invites `to` into session `sid`; answers `invited` to the inviter, or `not_found` when the user has no page open. */
  invite(inviter: WatchConnection, rid: string, sid: string, fromName: string, to: string): void {
    let pending = 0;
    for (const p of this.pending.values()) if (p.inviter === inviter) pending++;
    if (pending >= MAX_PENDING_PER_PAGE) return inviter.sendError(ErrorCode.RateLimited, `at most ${MAX_PENDING_PER_PAGE} invitations may wait for answers at once`, { rid, sid });
    const pages = [...this.pagesOf(inviter.project, to)];
    if (pages.length === 0) return inviter.sendError(ErrorCode.NotFound, `user ${to} has no page open on this project`, { rid, sid });
    const iid = randomToken(12);
    const expires = Date.now() + this.ttlMs;
    const timer = setTimeout(() => this.settle(iid, 'expired'), this.ttlMs);
    timer.unref?.();
    this.pending.set(iid, { iid, sid, project: inviter.project, to, inviter, timer });
    inviter.send({ type: 'invited', rid, iid });
    for (const page of pages) page.send({ type: 'invite', iid, sid, from: { uid: inviter.uid, name: fromName }, expires });
  }

  /** The invited user's answer; `invite_expired` when it is no longer pending or not theirs. */
  answer(conn: WatchConnection, iid: string, accept: boolean): void {
    const invitation = this.pending.get(iid);
    if (!invitation || invitation.to !== conn.uid || invitation.project !== conn.project) {
      return conn.sendError(ErrorCode.InviteExpired, 'this invitation expired or was already answered', { rid: iid });
    }
    this.settle(iid, accept ? 'accepted' : 'declined');
  }

  private settle(iid: string, answer: InviteAnswer): void {
    const invitation = this.pending.get(iid);
    if (!invitation) return;
    clearTimeout(invitation.timer);
    this.pending.delete(iid);
    const frame = { type: 'answer', iid, sid: invitation.sid, to: invitation.to, answer } as const;
    invitation.inviter.send(frame);
    for (const page of this.pagesOf(invitation.project, invitation.to)) page.send(frame);
  }

  /** Stops every expiry timer (server shutdown). */
  dispose(): void {
    for (const invitation of this.pending.values()) clearTimeout(invitation.timer);
    this.pending.clear();
  }
}
