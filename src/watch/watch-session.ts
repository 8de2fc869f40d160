import { ErrorCode, VidgetError, type ControlMode, type InviteAnswer, type PlaybackState, type WatchServerFrame } from '../protocol/index.js';
import type { ClockSync } from './clock-sync.js';
import type { MediaFlags, MediaMesh } from './media/media-mesh.js';
import type { VideoQuality } from './media/video-quality.js';
import { participantOf, type Participant } from './participant.js';
import { PlaybackSync } from './playback-sync.js';
import type { WatchChannel } from './watch-channel.js';
import { ParticipantEvent, WatchErrorEvent, WatchStateEvent, type WatchState } from './watch-events.js';

/** Options of `playerApi.watchTogether()`. */
export interface WatchTogetherOptions {
  /** Join this session; without it a new one is made (its id is `session.sessionId`, to share). */
  sessionId?: string;
  /** The name others see (a token's `name` wins). Default `Viewer xxxx`. */
  displayName?: string;
  /** A new session: `all` (default) lets anyone control playback, `host` only the host (handed over when the host leaves). */
  control?: ControlMode;
  /** How long the page may be hidden before the connection pauses (no call in progress). Default 30,000 ms. */
  backgroundPauseMs?: number;
  /** `false`: apply the group's commands only, no drift correction (as watch-party extensions do; the bench's baseline). Default true. */
  correctDrift?: boolean;
}

type Hook<E> = ((event: E) => void) | null;
type Joined = Extract<WatchServerFrame, { type: 'joined' }>;

/**
 * A watch-together session as one page takes part in it: the participants, the lifecycle
 * (`stopped → starting → running`, `reconnecting` while the connection is down, `paused` in the
 * background, `failed`), synced playback of the player's video, and invitations. Events are
 * DOM events (`connected`, `disconnected`, `participantjoined`, `participantleft`,
 * `participantchange`, `hostchange`, `playbackchange`, `statechange`, `error`) and the
 * `onConnected`-style hooks.
 */
export class WatchSession extends EventTarget {
  /** The session id: share it so others can join. */
  sessionId = '';
  /** This page's participant id in the session. */
  participantId = '';
  /** The host's participant id. */
  host = '';
  control: ControlMode = 'all';
  state: WatchState = 'stopped';
  /** The participant id of the active speaker (`activespeakerchange`), if anyone speaks. */
  activeSpeaker: string | undefined;
  onConnected: Hook<Event> = null;
  onDisconnected: Hook<Event> = null;
  onParticipantJoined: Hook<ParticipantEvent> = null;
  onParticipantLeft: Hook<ParticipantEvent> = null;
  onError: Hook<WatchErrorEvent> = null;
  readonly sync: PlaybackSync;
  private readonly byId = new Map<string, Participant>();
  private key = '';
  private readonly answers = new Map<string, (answer: InviteAnswer) => void>();
  private mesh: Promise<MediaMesh> | undefined;
  private meshLoaded: MediaMesh | undefined;
  private readonly onFrame = (e: Event) => this.frame((e as CustomEvent<WatchServerFrame>).detail);
  private readonly onChannelState = () => this.channelState();

  constructor(
    private readonly channel: WatchChannel,
    clock: ClockSync,
    video: HTMLVideoElement,
    private readonly options: WatchTogetherOptions,
  ) {
    super();
    this.sync = new PlaybackSync(video, clock, (action, s) => this.channel.send({ type: 'control', sid: this.sessionId, action, ...s }));
    this.sync.correcting = options.correctDrift !== false;
    this.sync.mayControl = () => this.control === 'all' || this.host === this.participantId;
    this.sync.onRefused = () => this.report(new VidgetError(ErrorCode.Forbidden, 'only the host controls playback in this session'));
    channel.addEventListener('frame', this.onFrame);
    channel.addEventListener('statechange', this.onChannelState);
    if (options.backgroundPauseMs !== undefined) channel.pauseAfterHiddenMs = options.backgroundPauseMs;
  }

  /** Everyone in the session, this page included (`local`). */
  get participants(): Participant[] {
    return [...this.byId.values()];
  }

  /** The group's playback state (server time `at`, position, rate, paused). */
  get playback(): PlaybackState | undefined {
    return this.sync.group;
  }

  /** Creates or joins; resolves when in (rejects with `session_not_found` for an unknown or erased id). */
  async join(): Promise<this> {
    this.setState('starting');
    try {
      await this.channel.start();
      this.joined(await this.channel.request<Joined>({ type: 'join', ...this.joinFields() }));
    } catch (error) {
      this.detach();
      this.setState('failed', undefined, (error as Error).message);
      throw error;
    }
    return this;
  }

  /** Leaves the session (the last one out erases it). */
  leave(): void {
    if (this.state === 'stopped') return;
    if (this.sessionId) this.channel.send({ type: 'leave', sid: this.sessionId });
    this.detach();
    this.byId.clear();
    this.setState('stopped');
    this.dispatch(new Event('disconnected'), this.onDisconnected);
  }

  /** Invites a user of this project (by user id) to this session; resolves with their answer, or `expired`. */
  async invite(userId: string): Promise<InviteAnswer> {
    const { iid } = await this.channel.request<Extract<WatchServerFrame, { type: 'invited' }>>({ type: 'invite', sid: this.sessionId, to: userId });
    return new Promise((resolve) => this.answers.set(iid, resolve));
  }

  /** Starts the microphone and sends it to everyone (`mesh_full` past the session's media limit: stay view-only). */
  enableAudio(): Promise<void> {
    return this.media((m) => m.enable('audio'));
  }
  /** Stops the microphone. */
  disableAudio(): Promise<void> {
    return this.media((m) => m.disable('audio'));
  }
  /** Starts the camera (see `enableAudio`). */
  enableVideo(): Promise<void> {
    return this.media((m) => m.enable('video'));
  }
  /** Stops the camera. */
  disableVideo(): Promise<void> {
    return this.media((m) => m.disable('video'));
  }
  /** Shares a screen or window (`getDisplayMedia`: call it from a click). */
  shareScreen(): Promise<void> {
    return this.media((m) => m.enable('screen'));
  }
  /** Stops sharing the screen. */
  stopScreenShare(): Promise<void> {
    return this.media((m) => m.disable('screen'));
  }
  /** The camera's encoding: `low` (150 kbit/s, 1/4 size), `medium` (500 kbit/s, 1/2), `high` (1.5 Mbit/s, full). */
  setVideoQuality(quality: VideoQuality): Promise<void> {
    return this.media((m) => m.setVideoQuality(quality));
  }

  /** A participant's media (this page's own for its id), once it has some. */
  streamOf(participantId: string): MediaStream | undefined {
    return this.meshLoaded?.streamOf(participantId);
  }

  private async media(action: (mesh: MediaMesh) => Promise<void>): Promise<void> {
    try {
      await action(await this.loadMesh());
    } catch (error) {
      const e = error instanceof VidgetError ? error : new VidgetError(ErrorCode.Forbidden, `media refused: ${(error as Error).message}`);
      this.report(e);
      throw e;
    }
  }

  /** The mesh, loaded on first use of media (by this page or another participant). */
  private loadMesh(): Promise<MediaMesh> {
    return (this.mesh ??= import('./media/media-mesh.js').then((m) => {
      this.meshLoaded = new m.MediaMesh({
        session: this,
        iceServers: this.channel.hello?.iceServers ?? [],
        send: (frame) => this.channel.send(frame),
        announce: (flags) => this.announce(flags),
        dispatchEvent: (event) => this.dispatchEvent(event),
      });
      return this.meshLoaded;
    }));
  }

  /** Sends this page's media flags; resolves once the server echoed them, rejects with `mesh_full`. */
  private announce(flags: MediaFlags): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: VidgetError) => {
        this.channel.removeEventListener('frame', listener);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const listener = (e: Event) => {
        const f = (e as CustomEvent<WatchServerFrame>).detail;
        if (f.type === 'err' && f.sid === this.sessionId && f.code === ErrorCode.MeshFull) done(new VidgetError(f.code, f.message));
        const p = f.type === 'participant' && f.sid === this.sessionId && f.participant.id === this.participantId ? f.participant : undefined;
        if (p && p.audio === flags.audio && p.video === flags.video && p.screen === flags.screen) done();
      };
      const timer = setTimeout(() => done(new VidgetError(ErrorCode.Timeout, 'the server did not answer the media change')), 10_000);
      this.channel.addEventListener('frame', listener);
      if (!this.channel.send({ type: 'media', sid: this.sessionId, ...flags })) done(new VidgetError(ErrorCode.Closed, 'not connected'));
    });
  }

  /** The active speaker: the participant who most recently started speaking and still is. */
  private updateSpeaker(participant: Participant, wasSpeaking: boolean): void {
    if (participant.speaking === wasSpeaking) return;
    if (participant.speaking) this.activeSpeaker = participant.id;
    else if (this.activeSpeaker === participant.id) this.activeSpeaker = this.participants.find((p) => p.speaking)?.id;
    else return;
    this.dispatchEvent(new CustomEvent('activespeakerchange', { detail: { participantId: this.activeSpeaker } }));
  }

  private joinFields() {
    return {
      ...(this.sessionId || this.options.sessionId ? { sid: this.sessionId || this.options.sessionId } : {}),
      ...(this.options.displayName ? { name: this.options.displayName } : {}),
      ...(this.options.control ? { control: this.options.control } : {}),
      ...(this.key ? { resume: { pid: this.participantId, key: this.key } } : {}),
    };
  }

  private joined(frame: Joined): void {
    this.sessionId = frame.sid;
    this.participantId = frame.pid;
    this.key = frame.key;
    this.host = frame.host;
    this.control = frame.control;
    this.byId.clear();
    for (const p of frame.participants) this.byId.set(p.id, participantOf(p, p.id === frame.pid));
    if (frame.participants.some((p) => p.audio || p.video || p.screen)) void this.loadMesh();
    this.meshLoaded?.connectAll();
    this.sync.apply(frame.playback, false);
    this.setState('running');
    this.dispatch(new Event('connected'), this.onConnected);
  }

  private frame(frame: WatchServerFrame): void {
    if (!('sid' in frame) || frame.sid !== this.sessionId || this.state === 'stopped') return;
    switch (frame.type) {
      case 'participant':
        return this.upsert(frame.participant);
      case 'left':
        return this.removed(frame.pid);
      case 'host':
        this.host = frame.pid;
        return void this.dispatchEvent(new Event('hostchange'));
      case 'playback':
        this.sync.apply(frame.playback, frame.by === this.participantId);
        return void this.dispatchEvent(new CustomEvent('playbackchange', { detail: { playback: frame.playback, by: frame.by, action: frame.action } }));
      case 'signal':
        return void this.loadMesh().then((mesh) => mesh.receive(frame.from, frame.data));
      case 'answer':
        this.answers.get(frame.iid)?.(frame.answer);
        this.answers.delete(frame.iid);
        return void this.dispatchEvent(new CustomEvent('invitationanswer', { detail: { userId: frame.to, answer: frame.answer } }));
      case 'err':
        if (frame.rid) return; // a request's error: its promise rejects with it
        // A command the server dropped (a flood): this page goes back to the group.
        if (frame.code === ErrorCode.RateLimited && this.sync.group) this.sync.apply(this.sync.group, false);
        return this.report(new VidgetError(frame.code, frame.message));
    }
  }

  private upsert(wire: Parameters<typeof participantOf>[0]): void {
    const previous = this.byId.get(wire.id);
    const participant = participantOf(wire, wire.id === this.participantId);
    this.byId.set(wire.id, participant);
    this.updateSpeaker(participant, previous?.speaking ?? false);
    if (wire.audio || wire.video || wire.screen) void this.loadMesh();
    this.meshLoaded?.connectAll();
    if (previous) this.dispatchEvent(new ParticipantEvent('participantchange', participant));
    else this.dispatch(new ParticipantEvent('participantjoined', participant), this.onParticipantJoined);
  }

  private removed(pid: string): void {
    const participant = this.byId.get(pid);
    if (!participant) return;
    this.byId.delete(pid);
    this.meshLoaded?.connectAll();
    this.dispatch(new ParticipantEvent('participantleft', participant), this.onParticipantLeft);
  }

  private channelState(): void {
    const state = this.channel.state;
    if (this.state === 'stopped' || this.state === 'starting' || this.state === 'failed') return;
    if (state === 'running') {
      // Back: take the same place again (or a new one if the grace period ran out).
      this.channel.request<Joined>({ type: 'join', ...this.joinFields() }).then(
        (frame) => this.joined(frame),
        (error: VidgetError) => {
          if (error.code !== ErrorCode.SessionNotFound) return;
          this.detach();
          this.setState('failed', undefined, error.message);
          this.report(error);
        },
      );
      return;
    }
    if (state === 'reconnecting' || state === 'paused' || state === 'failed') {
      const wasRunning = this.state === 'running';
      this.setState(state);
      if (wasRunning) this.dispatch(new Event('disconnected'), this.onDisconnected);
    }
  }

  private detach(): void {
    this.sync.stop();
    this.meshLoaded?.stop();
    this.channel.removeEventListener('frame', this.onFrame);
    this.channel.removeEventListener('statechange', this.onChannelState);
  }

  private report(error: VidgetError): void {
    this.dispatch(new WatchErrorEvent(error), this.onError);
  }

  private dispatch<E extends Event>(event: E, hook: Hook<E>): void {
    this.dispatchEvent(event);
    try {
      hook?.(event);
    } catch (error) {
      console.error('vidget: a watch session hook threw', error);
    }
  }

  private setState(state: WatchState, code?: number, reason?: string): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.dispatchEvent(new WatchStateEvent(state, previous, code, reason));
  }
}
