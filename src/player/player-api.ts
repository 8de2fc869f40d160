import type { Video } from '../protocol/platform.js';
import type { Json } from '../protocol/record.js';
import type { AnalyticsSubscription, AnalyticsSubscriptionOptions } from '../platform/analytics-subscription.js';
import { WidgetSocket, type SocketState, type WidgetSocketOptions } from '../socket/index.js';
import { Emitter, type Listener } from './emitter.js';
import { KeptValues } from './kept-values.js';
import type { WatchClient } from '../watch/watch-client.js';
import type { WatchSession, WatchTogetherOptions } from '../watch/watch-session.js';

/** Media events re-emitted from the `<video>`. */
export const MEDIA_EVENTS = ['play', 'pause', 'timeupdate', 'seeking', 'seeked', 'ended', 'ratechange', 'volumechange', 'loadedmetadata'] as const;
/** A media event name. */
export type MediaEventName = (typeof MEDIA_EVENTS)[number];
/** Runtime events, in Cinema8's camelCase. */
export type RuntimeEventName = 'widgetInit' | 'widgetShow' | 'widgetHide' | 'widgetDestroy' | 'variableChange' | 'fullscreenChange' | PlatformEventName;
/** The project connection's events: `connectionStateChange({ state, previous })`, `videoCreated({ video })`, `videoUpdated({ videoId, changes })`, `videoDeleted({ videoId })`, `videoChange(video)` (after `loadVideo`). */
export type PlatformEventName = 'connectionStateChange' | 'videoCreated' | 'videoUpdated' | 'videoDeleted' | 'videoChange';
/** Every event `on()` accepts. */
export type PlayerEventName = MediaEventName | RuntimeEventName | (string & {});
/** A listener; widget events pass the widget id, `variableChange` passes `(name, previous, next)`. */
export type PlayerListener = Listener;

/** Where a player's sockets connect and as whom. */
export interface PlayerConnection {
  /** The Vidget server, e.g. `ws://localhost:8787`. */
  server: string;
  project: string;
  /** A token for the viewer (sets `username` on records). */
  token?: string;
}

/**
 * The player-API facade over one `<video>`: the HTML5 media API, Cinema8-style events
 * (`on/off/once` with camelCase names), player-wide variables, fullscreen of the whole player,
 * and `webSocket()`.
 */
export class PlayerApi {
  /** Resolves when persistent variables and widget state are loaded. */
  readonly ready: Promise<void>;
  /**
   * Each widget's own state (`api.setState`), by `widgetId/name`: it outlives the widget's time
   * range, so a widget that leaves and comes back (a loop, a seek) finds it again.
   */
  readonly widgetState: KeptValues;
  private readonly events = new Emitter('a player listener');
  private readonly variables: KeptValues;
  private readonly teardown = new AbortController();
  /** The state of the page's project connection (`stopped` until the player opens it). */
  connectionState: SocketState = 'stopped';
  /** The project video shown since `loadVideo`, if any. */
  currentVideo: Video | undefined;
  private unlink: (() => void) | undefined;
  private watch: Promise<WatchClient> | undefined;

  constructor(
    readonly video: HTMLVideoElement,
    /** The element that goes fullscreen (the player, so widgets stay visible over the video). */
    readonly container: HTMLElement,
    readonly connection: PlayerConnection,
    /** Id of the video, for `getVideoId()`. */
    readonly videoId = video.id || '',
  ) {
    const { signal } = this.teardown;
    for (const name of MEDIA_EVENTS) video.addEventListener(name, () => this.emit(name), { signal });
    document.addEventListener('fullscreenchange', () => this.emit('fullscreenChange', document.fullscreenElement === container), { signal });
    this.variables = new KeptValues(['vars', connection.project, videoId]);
    this.widgetState = new KeptValues(['state', connection.project, videoId]);
    this.ready = Promise.all([this.variables.ready, this.widgetState.ready]).then(() => {});
  }

  play(): Promise<void> {
    return this.video.play();
  }
  pause(): void {
    this.video.pause();
  }
  /** Seeks to `t` seconds. */
  seek(t: number): void {
    this.video.currentTime = t;
  }
  get currentTime(): number {
    return this.video.currentTime;
  }
  set currentTime(t: number) {
    this.video.currentTime = t;
  }
  get duration(): number {
    return this.video.duration;
  }
  get paused(): boolean {
    return this.video.paused;
  }
  get volume(): number {
    return this.video.volume;
  }
  set volume(v: number) {
    this.video.volume = v;
  }
  get muted(): boolean {
    return this.video.muted;
  }
  set muted(m: boolean) {
    this.video.muted = m;
  }
  get playbackRate(): number {
    return this.video.playbackRate;
  }
  set playbackRate(r: number) {
    this.video.playbackRate = r;
  }

  /** Puts the whole player (video and widgets) in fullscreen. */
  launchFullscreen(): Promise<void> {
    return this.container.requestFullscreen();
  }
  exitFullscreen(): Promise<void> {
    return document.fullscreenElement ? document.exitFullscreen() : Promise.resolve();
  }

  /** Adds a listener; returns a function that removes it. `incomingInvite` connects this page for invitations. */
  on(name: PlayerEventName, fn: PlayerListener): () => void {
    if (name === 'incomingInvite') void this.watchClient().then((c) => c.listen());
    return this.events.on(name, fn);
  }
  off(name: PlayerEventName, fn: PlayerListener): void {
    this.events.off(name, fn);
  }
  /** Adds a listener that runs once. */
  once(name: PlayerEventName, fn: PlayerListener): () => void {
    return this.events.once(name, fn);
  }
  /** Calls every listener of `name`; one that throws is logged and the others still run. */
  emit(name: PlayerEventName, ...args: unknown[]): void {
    this.events.emit(name, ...args);
  }
  /** Listeners registered for `name`, or for every event (for leak checks). */
  listenerCount(name?: PlayerEventName): number {
    return this.events.count(name);
  }

  /** Sets a player-wide variable; `persistent` keeps it in IndexedDB across reloads. Emits `variableChange(name, previous, next)`. */
  setVariable(name: string, value: Json, persistent = false): void {
    const previous = this.variables.set(name, value, persistent);
    if (previous !== value) this.emit('variableChange', name, previous, value);
  }
  getVariable(name: string): Json | undefined {
    return this.variables.get(name);
  }
  getVariables(): Record<string, Json> {
    return this.variables.all();
  }

  /** A socket to the room of `widgetId` in this player's project. */
  webSocket(options: Partial<WidgetSocketOptions> & { widgetId: string }): WidgetSocket {
    return new WidgetSocket({ host: this.connection.server, project: this.connection.project, ...(this.connection.token ? { token: this.connection.token } : {}), ...options });
  }

  /**
   * Joins the page's one connection to the project (opened with the first player, closed with the
   * last): its state as `connectionStateChange`, the project's video notifications, and this
   * player's analytics. Loaded on demand; the page works without it (unreachable server: the
   * state says `reconnecting`). `<vidget-player>` calls it when it starts.
   */
  connectProject(widgetRoot?: EventTarget): void {
    if (this.unlink || this.teardown.signal.aborted) return;
    this.unlink = () => {}; // taken while the module loads
    import('../platform/player-link.js')
      .then(({ linkPlayer }) => {
        if (this.teardown.signal.aborted) return;
        this.unlink = linkPlayer(this, widgetRoot, (state, previous) => {
          if (state === this.connectionState) return;
          this.connectionState = state;
          this.emit('connectionStateChange', { state, previous });
        });
      })
      .catch((error: unknown) => console.error('vidget: the project connection could not load', error));
  }

  /** The project's videos (what the project lets its viewers read); rejects with a `VidgetError`. */
  async videos(): Promise<Video[]> {
    return (await import('../platform/player-link.js')).fetchVideos(this.connection);
  }

  /** Plays a project video in this player: its source and poster, from the start; emits `videoChange(video)` (the element loads its `config`). */
  loadVideo(video: Video): void {
    this.currentVideo = video;
    this.video.src = video.src;
    if (video.poster) this.video.poster = video.poster;
    else this.video.removeAttribute('poster');
    this.emit('videoChange', video);
  }

  /**
   * The project's live analytics (needs a token with `analytics`: `options.token`, else the
   * player's): with `catchup` (`30m`, `6h`) the past series first, then a snapshot a second.
   */
  async analytics(options: Partial<AnalyticsSubscriptionOptions> = {}): Promise<AnalyticsSubscription> {
    const { AnalyticsSubscription } = await import('../platform/analytics-subscription.js');
    const token = options.token ?? this.connection.token;
    return new AnalyticsSubscription({ host: this.connection.server, project: this.connection.project, ...(token ? { token } : {}), ...options });
  }

  /** Watch together: creates (no `sessionId`) or joins a session synced on this player's video. Loaded on first use. */
  async watchTogether(options: WatchTogetherOptions = {}): Promise<WatchSession> {
    return (await this.watchClient()).join(options);
  }

  private watchClient(): Promise<WatchClient> {
    return (this.watch ??= import('../watch/watch-client.js').then((m) => new m.WatchClient(this)));
  }

  /** Removes every listener this api added to the page. */
  destroy(): void {
    void this.watch?.then((c) => c.stop());
    this.teardown.abort();
    this.unlink?.();
    this.unlink = undefined;
    this.events.clear();
  }
}
