import type { WatchServerFrame } from '../protocol/index.js';
import { ClockSync } from './clock-sync.js';
import { Invitation } from './invitation.js';
import { WatchChannel } from './watch-channel.js';
import type { WatchSession, WatchTogetherOptions } from './watch-session.js';

/** What watch together needs of a player. */
export interface WatchHost {
  readonly video: HTMLVideoElement;
  readonly connection: { server: string; project: string; token?: string };
  emit(name: string, ...args: unknown[]): void;
}

/**
 * A player's watch-together side, loaded on first use: its one watch connection and server
 * clock, the sessions it joins, and incoming invitations (`incomingInvite` on the player).
 */
export class WatchClient {
  readonly channel: WatchChannel;
  readonly clock: ClockSync;
  private readonly sessions = new Set<WatchSession>();
  private readonly onFrame = (e: Event) => {
    const frame = (e as CustomEvent<WatchServerFrame>).detail;
    if (frame.type === 'invite') this.host.emit('incomingInvite', new Invitation(frame, this.channel, (o) => this.join(o)));
  };

  constructor(private readonly host: WatchHost) {
    this.channel = new WatchChannel(host.connection);
    this.clock = new ClockSync(this.channel);
    // A call in progress keeps the connection open in the background (the Kaleyra client's rule).
    this.channel.keepAlive = () => [...this.sessions].some((s) => s.participants.some((p) => p.local && (p.audioEnabled || p.videoEnabled || p.screenEnabled)));
    this.channel.addEventListener('frame', this.onFrame);
  }

  /** Connects, so invitations reach this page. */
  listen(): void {
    void this.channel.start().catch(() => {});
  }

  /** Creates or joins a session on this player's video. */
  async join(options: WatchTogetherOptions): Promise<WatchSession> {
    // Sessions and playback sync load on the first join: a page that only waits for invitations does without.
    const { WatchSession } = await import('./watch-session.js');
    const session = new WatchSession(this.channel, this.clock, this.host.video, options);
    this.sessions.add(session);
    session.addEventListener('statechange', () => {
      if (session.state === 'stopped' || session.state === 'failed') this.sessions.delete(session);
    });
    return session.join();
  }

  /** Leaves every session and closes the connection. */
  stop(): void {
    for (const session of this.sessions) session.leave();
    this.clock.stop();
    this.channel.removeEventListener('frame', this.onFrame);
    this.channel.stop();
  }
}
