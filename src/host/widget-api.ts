import { ErrorCode, VidgetError } from '../protocol/errors.js';
import type { Video } from '../protocol/platform.js';
import type { Json } from '../protocol/record.js';
import { Emitter } from '../player/emitter.js';
import type { PlayerApi, PlayerEventName, PlayerListener } from '../player/player-api.js';
import type { SocketState, WidgetSocket, WidgetSocketOptions } from '../socket/index.js';
import type { WidgetEntry } from './widget-config.js';

/** This widget's own lifecycle events (other names are the player's). */
const LOCAL_EVENTS = new Set(['widgetInit', 'widgetShow', 'widgetHide', 'widgetDestroy']);

/**
 * The api a widget gets (`this.api` in a class widget, the first argument of a function widget,
 * `c8PlayerApi` in a sandboxed one). Same names as Cinema8's player and widget APIs. Everything a
 * widget adds through it (listeners, timers, sockets) is released when the widget is destroyed.
 */
export interface WidgetApi {
  play(): Promise<void>;
  pause(): void;
  seek(t: number): void;
  currentTime: number;
  readonly duration: number;
  readonly paused: boolean;
  volume: number;
  muted: boolean;
  playbackRate: number;
  launchFullscreen(): Promise<void>;
  exitFullscreen(): Promise<void>;
  on(name: PlayerEventName, fn: PlayerListener): () => void;
  off(name: PlayerEventName, fn: PlayerListener): void;
  once(name: PlayerEventName, fn: PlayerListener): () => void;
  /** A socket to this widget's room (callable with or without `new`, as in Cinema8). */
  webSocket(options?: Partial<Omit<WidgetSocketOptions, 'project' | 'widgetId' | 'host'>>): WidgetSocket;
  getWidgetProps(): Record<string, Json>;
  getWidgetProp(name: string): Json | undefined;
  setVisible(): void;
  setInvisible(): void;
  getAuthenticatedUser(): string | null;
  getVideoId(): string;
  setVariable(name: string, value: Json, persistent?: boolean): void;
  getVariable(name: string): Json | undefined;
  getVariables(): Record<string, Json>;
  /**
   * This widget's own state, kept by the player while the page is open, so it survives the
   * widget leaving and re-entering its time range (a loop, a seek); `persistent` also keeps it
   * in IndexedDB across reloads. Not shared with other widgets (variables are).
   */
  setState(name: string, value: Json, persistent?: boolean): void;
  getState(name: string): Json | undefined;
  /** The player's project id (e.g. to keep something per project in the browser). */
  readonly project: string;
  /** The state of the page's project connection (its changes: `connectionStateChange`). */
  readonly connectionState: SocketState;
  /** The project's videos (their changes: `videoCreated`, `videoUpdated`, `videoDeleted`). */
  videos(): Promise<Video[]>;
  /** Plays a project video in the player (its widgets follow the video's `config`, when it has one). */
  loadVideo(video: Video): void;
  /** Tracked timers: cleared on destroy. */
  setTimeout(fn: () => void, ms?: number): number;
  setInterval(fn: () => void, ms?: number): number;
  clearTimeout(id: number): void;
  clearInterval(id: number): void;
  /** Aborted when the widget is destroyed: pass it to anything the widget wires up itself. */
  readonly signal: AbortSignal;
  /** The widget's id in the config. */
  readonly widgetId: string;
  /** Alias of this api, so Cinema8 widget code ports unchanged. */
  readonly c8PlayerApi: WidgetApi;
}

/** What the host needs from a widget's api: firing its lifecycle events, and the teardown. */
export interface WidgetScope {
  api: WidgetApi;
  /** Fires one of this widget's lifecycle events on its own listeners. */
  emitLocal(name: string, ...args: unknown[]): void;
  /** Releases every listener, timer and socket the widget made, and aborts `api.signal`. */
  destroy(): void;
  /** What the widget holds now (for leak checks). */
  held(): { listeners: number; timers: number; sockets: number };
}

/** Builds a widget's scoped api over the player. */
export function createWidgetScope(player: PlayerApi, entry: WidgetEntry, host: { setVisible(id: string, visible: boolean): void; user(): string | null }): WidgetScope {
  const controller = new AbortController();
  const local = new Emitter(`widget ${entry.id}`);
  const removers = new Set<() => void>();
  const timers = new Set<number>();
  const sockets = new Set<WidgetSocket>();
  const alive = () => !controller.signal.aborted;

  const on = (name: PlayerEventName, fn: PlayerListener): (() => void) => {
    if (!alive()) return () => {};
    if (LOCAL_EVENTS.has(name)) return local.on(name, fn);
    const remove = player.on(name, fn);
    const tracked = () => {
      remove();
      removers.delete(tracked);
    };
    removers.add(tracked);
    return tracked;
  };
  const off = (name: PlayerEventName, fn: PlayerListener): void => {
    if (LOCAL_EVENTS.has(name)) local.off(name, fn);
    else player.off(name, fn);
  };
  const timer = (kind: 'timeout' | 'interval', fn: () => void, ms?: number): number => {
    if (!alive()) return 0;
    const id = (
      kind === 'timeout'
        ? window.setTimeout(() => {
            timers.delete(id);
            fn();
          }, ms)
        : window.setInterval(fn, ms)
    ) as number;
    timers.add(id);
    return id;
  };
  const clear = (id: number) => {
    timers.delete(id);
    window.clearTimeout(id); // clears intervals too: one id space in browsers
  };

  const api: WidgetApi = {
    play: () => player.play(),
    pause: () => player.pause(),
    seek: (t) => player.seek(t),
    get currentTime() {
      return player.currentTime;
    },
    set currentTime(t) {
      player.currentTime = t;
    },
    get duration() {
      return player.duration;
    },
    get paused() {
      return player.paused;
    },
    get volume() {
      return player.volume;
    },
    set volume(v) {
      player.volume = v;
    },
    get muted() {
      return player.muted;
    },
    set muted(m) {
      player.muted = m;
    },
    get playbackRate() {
      return player.playbackRate;
    },
    set playbackRate(r) {
      player.playbackRate = r;
    },
    launchFullscreen: () => player.launchFullscreen(),
    exitFullscreen: () => player.exitFullscreen(),
    on,
    off,
    once(name, fn) {
      const remove = on(name, (...args: unknown[]) => {
        remove();
        fn(...args);
      });
      return remove;
    },
    // A plain function, not a method shorthand or arrow: Cinema8 code calls it with `new`.
    webSocket: function webSocket(options = {}) {
      if (!alive()) throw new VidgetError(ErrorCode.Closed, 'the widget was destroyed');
      const socket = player.webSocket({ ...options, widgetId: entry.id });
      sockets.add(socket);
      socket.addEventListener('statechange', (e) => e.state === 'stopped' && sockets.delete(socket));
      return socket;
    } as WidgetApi['webSocket'],
    getWidgetProps: () => structuredClone(entry.props),
    getWidgetProp: (name) => structuredClone(entry.props[name]),
    setVisible: () => host.setVisible(entry.id, true),
    setInvisible: () => host.setVisible(entry.id, false),
    getAuthenticatedUser: () => host.user(),
    getVideoId: () => player.currentVideo?.id ?? player.videoId,
    setVariable: (name, value, persistent) => player.setVariable(name, value, persistent),
    getVariable: (name) => player.getVariable(name),
    getVariables: () => player.getVariables(),
    setState: (name, value, persistent) => player.widgetState.set(`${entry.id}/${name}`, value, persistent),
    getState: (name) => player.widgetState.get(`${entry.id}/${name}`),
    project: player.connection.project,
    get connectionState() {
      return player.connectionState;
    },
    videos: () => player.videos(),
    loadVideo: (video) => player.loadVideo(video),
    setTimeout: (fn, ms) => timer('timeout', fn, ms),
    setInterval: (fn, ms) => timer('interval', fn, ms),
    clearTimeout: clear,
    clearInterval: clear,
    signal: controller.signal,
    widgetId: entry.id,
    get c8PlayerApi() {
      return api;
    },
  };

  return {
    api,
    emitLocal: (name, ...args) => local.emit(name, ...args),
    destroy() {
      if (!alive()) return;
      controller.abort();
      for (const remove of [...removers]) remove();
      for (const id of timers) window.clearTimeout(id);
      timers.clear();
      for (const socket of sockets) socket.close();
      sockets.clear();
      local.clear();
    },
    held: () => ({ listeners: removers.size + local.count(), timers: timers.size, sockets: sockets.size }),
  };
}
