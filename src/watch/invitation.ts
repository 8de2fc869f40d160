import { ErrorCode, VidgetError, type InviteAnswer, type WatchServerFrame } from '../protocol/index.js';
import type { WatchChannel } from './watch-channel.js';
import type { WatchSession, WatchTogetherOptions } from './watch-session.js';

type InviteFrame = Extract<WatchServerFrame, { type: 'invite' }>;

/**
 * An invitation this page received (`playerApi.on('incomingInvite', invitation => …)`): who
 * invites, to which session, until when. `accept()` joins, `decline()` tells the inviter; an
 * `answered` event says how it ended (`accepted`, `declined`, `expired`), also when another page
 * of the same user answered it.
 */
export class Invitation extends EventTarget {
  readonly id: string;
  readonly sessionId: string;
  /** The inviting participant's user id and name. */
  readonly from: { userId: string; name: string };
  /** When it expires (ms since the epoch). */
  readonly expires: number;
  /** `pending` until answered here or elsewhere, or expired. */
  state: 'pending' | InviteAnswer = 'pending';
  private readonly onFrame = (e: Event) => {
    const frame = (e as CustomEvent<WatchServerFrame>).detail;
    if (frame.type === 'answer' && frame.iid === this.id) this.settled(frame.answer);
  };

  constructor(
    frame: InviteFrame,
    private readonly channel: WatchChannel,
    private readonly join: (options: WatchTogetherOptions) => Promise<WatchSession>,
  ) {
    super();
    this.id = frame.iid;
    this.sessionId = frame.sid;
    this.from = { userId: frame.from.uid, name: frame.from.name };
    this.expires = frame.expires;
    channel.addEventListener('frame', this.onFrame);
  }

  /** Joins the session; rejects with `invite_expired` when the invitation is no longer pending. */
  accept(options: Omit<WatchTogetherOptions, 'sessionId' | 'control'> = {}): Promise<WatchSession> {
    if (this.state !== 'pending') return Promise.reject(new VidgetError(ErrorCode.InviteExpired, `this invitation is ${this.state}`));
    this.channel.send({ type: 'answer', iid: this.id, accept: true });
    this.settled('accepted');
    return this.join({ ...options, sessionId: this.sessionId });
  }

  /** Declines: the inviter is told. */
  decline(): void {
    if (this.state !== 'pending') return;
    this.channel.send({ type: 'answer', iid: this.id, accept: false });
    this.settled('declined');
  }

  private settled(answer: InviteAnswer): void {
    if (this.state !== 'pending') return;
    this.state = answer;
    this.channel.removeEventListener('frame', this.onFrame);
    this.dispatchEvent(new CustomEvent('answered', { detail: answer }));
  }
}
