import { randomBytes } from 'node:crypto';
import { ErrorCode, type ControlFrame, type ControlMode, type Json, type PlaybackState, type WatchServerFrame, type WireParticipant } from '../../protocol/index.js';
import { serverNow } from './server-clock.js';
import type { WatchConnection } from './watch-connection.js';

/** The rules a session runs by. */
export interface SessionRules {
  /** How long a dropped participant keeps its place (shown `reconnecting`) before it has left. */
  graceMs: number;
  /** Most participants with audio, video or a screen at once (the WebRTC mesh). */
  meshLimit: number;
}

/** A participant's place: what everyone sees, its resume key, and its page while connected. */
interface Member {
  wire: WireParticipant;
  key: string;
  conn: WatchConnection | undefined;
  grace: ReturnType<typeof setTimeout> | undefined;
}

/** How far back a command's own time may be believed (a client clock estimate gone bad). */
const MAX_COMMAND_AGE_MS = 2_000;

/** A random id of `bytes` bytes, base64url: unguessable session ids, participant ids and keys. */
export const randomToken = (bytes: number): string => randomBytes(bytes).toString('base64url');

/**
 * One watch-together session on the server: its participants (a dropped one stays, as
 * `reconnecting`, for the grace period), the host, and the group's playback state. It asks to
 * be erased (`onEmpty`) when its last participant has left.
 */
export class Session {
  readonly members = new Map<string, Member>();
  host = '';
  playback: PlaybackState = { paused: true, position: 0, rate: 1, at: serverNow(), seq: 0 };

  constructor(
    readonly key: string,
    readonly sid: string,
    readonly control: ControlMode,
    private readonly rules: SessionRules,
    private readonly onEmpty: (session: Session) => void,
  ) {}

  /** Adds a participant for `conn`, answers `joined` to it and tells the others. */
  add(conn: WatchConnection, rid: string, name: string): void {
    const wire: WireParticipant = { id: randomToken(9), uid: conn.uid, name, audio: false, video: false, screen: false, speaking: false, state: 'connected' };
    const member: Member = { wire, key: randomToken(16), conn, grace: undefined };
    this.members.set(wire.id, member);
    if (!this.host) this.host = wire.id;
    this.attach(conn, member, rid);
  }

  /** Gives a dropped participant its place back if `key` is its key; false if it is gone. */
  resume(conn: WatchConnection, rid: string, pid: string, key: string): boolean {
    const member = this.members.get(pid);
    if (!member || member.key !== key || member.wire.uid !== conn.uid) return false;
    // A resume over a connection the server has not yet seen drop: the old one is replaced.
    if (member.conn && member.conn !== conn) member.conn.sessions.delete(this.key);
    clearTimeout(member.grace);
    member.grace = undefined;
    member.wire.state = 'connected';
    member.conn = conn;
    this.attach(conn, member, rid);
    return true;
  }

  private attach(conn: WatchConnection, member: Member, rid: string): void {
    conn.sessions.set(this.key, member.wire.id);
    const participants = [...this.members.values()].map((m) => m.wire);
    conn.send({ type: 'joined', rid, sid: this.sid, pid: member.wire.id, key: member.key, control: this.control, host: this.host, participants, playback: this.playback });
    this.broadcast({ type: 'participant', sid: this.sid, participant: member.wire }, member.wire.id);
  }

  /** The participant's page dropped: it shows `reconnecting` and has `graceMs` to come back. */
  drop(pid: string): void {
    const member = this.members.get(pid);
    if (!member) return;
    member.conn = undefined;
    member.wire.state = 'reconnecting';
    this.broadcast({ type: 'participant', sid: this.sid, participant: member.wire });
    member.grace = setTimeout(() => this.remove(pid, 'timeout'), this.rules.graceMs);
    member.grace.unref?.();
  }

  /** The participant has left (by `leave`, or its grace ran out); the last one out erases the session. */
  remove(pid: string, reason: 'left' | 'timeout'): void {
    const member = this.members.get(pid);
    if (!member) return;
    clearTimeout(member.grace);
    member.conn?.sessions.delete(this.key);
    this.members.delete(pid);
    this.broadcast({ type: 'left', sid: this.sid, pid, reason });
    if (this.members.size === 0) return this.onEmpty(this);
    if (this.host === pid) {
      // Hand-over: the longest-present participant (Map keeps join order) becomes host.
      this.host = this.members.keys().next().value!;
      this.broadcast({ type: 'host', sid: this.sid, pid: this.host });
    }
  }

  /** Applies a playback command from participant `pid` and tells everyone, the sender included (its reference). */
  command(conn: WatchConnection, pid: string, frame: ControlFrame): void {
    if (this.control === 'host' && pid !== this.host) return conn.sendError(ErrorCode.Forbidden, 'only the host controls playback in this session', { sid: this.sid });
    const now = serverNow();
    const at = Math.min(now, Math.max(now - MAX_COMMAND_AGE_MS, frame.at));
    const paused = frame.action === 'play' ? false : frame.action === 'pause' ? true : frame.paused;
    this.playback = { paused, position: frame.position, rate: frame.rate, at, seq: this.playback.seq + 1 };
    this.broadcast({ type: 'playback', sid: this.sid, playback: this.playback, by: pid, action: frame.action });
  }

  /** Updates a participant's media flags; refuses (`mesh_full`) a media start past the mesh limit. */
  media(conn: WatchConnection, pid: string, flags: { audio: boolean; video: boolean; screen: boolean; speaking?: boolean }): void {
    const member = this.members.get(pid)!;
    const wants = flags.audio || flags.video || flags.screen;
    const had = member.wire.audio || member.wire.video || member.wire.screen;
    if (wants && !had && this.withMedia() >= this.rules.meshLimit) {
      return conn.sendError(ErrorCode.MeshFull, `this session already has ${this.rules.meshLimit} participants with media (the mesh limit); watch without audio and video`, { sid: this.sid });
    }
    Object.assign(member.wire, { audio: flags.audio, video: flags.video, screen: flags.screen, speaking: flags.audio && flags.speaking === true });
    this.broadcast({ type: 'participant', sid: this.sid, participant: member.wire });
  }

  /** Participants announcing any media. */
  private withMedia(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.wire.audio || m.wire.video || m.wire.screen) n++;
    return n;
  }

  /** Relays a WebRTC signalling message to one connected participant of this session. */
  signal(conn: WatchConnection, from: string, to: string, data: Json): void {
    const target = this.members.get(to);
    if (!target) return conn.sendError(ErrorCode.Forbidden, `${to} is not a participant of this session`, { sid: this.sid });
    target.conn?.send({ type: 'signal', sid: this.sid, from, data });
  }

  /** Sends to every connected participant but `except`. */
  broadcast(frame: WatchServerFrame, except?: string): void {
    for (const [pid, m] of this.members) if (pid !== except) m.conn?.send(frame);
  }

  /** Stops every grace timer (server shutdown). */
  dispose(): void {
    for (const m of this.members.values()) clearTimeout(m.grace);
  }
}
