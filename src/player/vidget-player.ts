import { LitElement, css, html } from 'lit';
import { WidgetHost } from '../host/widget-host.js';
import { parseWidgetConfig, type ConfigError, type WidgetEntry } from '../host/widget-config.js';
import { widgets, type WidgetRegistry } from '../host/widget-registry.js';
import { reserveControlsBand } from './controls-band.js';
import { PlayerApi } from './player-api.js';
import type { Video } from '../protocol/platform.js';

/** `error` event of `<vidget-player>`: a bad config entry or a widget that failed. */
export class PlayerErrorEvent extends Event {
  constructor(
    readonly message: string,
    /** The config entry's index, where the error is about one. */
    readonly index?: number,
    readonly widgetId?: string,
  ) {
    super('error');
  }
}

/**
 * `<vidget-player project="demo" server="ws://localhost:8787" config="/widgets.json">` around a
 * `<video>` (or `for="videoId"`): one {@link PlayerApi} (`playerApi`) and one widget host. The
 * widget list comes from `config` (a URL) or an inline `<script type="application/json">`.
 *
 * Moved in the DOM (detached and attached again in one task, as frameworks do) it keeps running;
 * detached for longer it tears everything down and starts again when attached. Changing
 * `project`, `server`, `config` or `for` later starts it again with them; another `token`
 * remounts the widgets shown, as that viewer.
 *
 * @tagname vidget-player
 * @slot - the `<video>` (unless `for` names one elsewhere), and optionally the widget list as `<script type="application/json">`
 * @fires {PlayerErrorEvent} error - a bad config entry (`index`, `widgetId`, `message`) or a widget that failed to mount
 * @csspart stage - the video's box
 * @csspart overlay - the layer of widgets over the video
 * @csspart aside - the sidebar (beside the video; below it on a narrow player)
 */
export class VidgetPlayer extends LitElement {
  static override properties = {
    project: { reflect: true },
    server: { reflect: true },
    config: { reflect: true },
    for: { reflect: true },
    token: {},
    user: {},
  };
  /**
   * The layout. The overlay is laid out, not stacked: a top edge, the middle, a bottom edge. Each
   * edge is one row of regions (left, centre, right) sharing its width (none narrower than its
   * content's narrowest), and widgets at one position stack in their region, in config order, so
   * no widget covers another; the cards of a region share its width (the widest card's), chips
   * keep the region's side. The overlay and the sidebar end above the native controls' band
   * (`--band`: 72 px, 48 px of buttons over a 24 px timeline, while `controls-shown`; see
   * reserveControlsBand) and clip there (`clip`: not scrollable, not even by focus); short of room
   * the bottom edge gives way. The sidebar sits over the right 30% of the video, which the other
   * widgets then leave free. On a narrow player (480 px or less) the sidebar goes below the video,
   * where a third of the width is too little to read, and overlay cards collapse to chips whose
   * cards open below the video (the host moves them), so the picture stays visible. (No comments
   * in the CSS itself: they would ship in the bundle.)
   */
  static override styles = css`
    :host { display: block; position: relative; width: 100%; container-type: inline-size; --band: 0px; }
    :host([controls-shown]) { --band: 72px; }
    .stage { position: relative; line-height: 0; }
    ::slotted(video) { display: block; width: 100%; height: auto; }
    .overlay { position: absolute; inset: 0 0 var(--band); pointer-events: none; line-height: normal; overflow: clip; display: flex; flex-direction: column; gap: 6px; padding: 8px; box-sizing: border-box; }
    .edge { display: flex; gap: 6px; min-height: 0; }
    .edge.top { flex-shrink: 0; }
    .edge.bottom { align-items: flex-end; }
    .middle { flex: 1; min-height: 0; display: flex; align-items: center; justify-content: center; }
    .region { display: flex; flex-direction: column; gap: 6px; max-width: 100%; max-height: 100%; }
    .region:empty { display: none; }
    .vidget-widget { pointer-events: auto; min-height: 0; max-width: 100%; align-self: stretch; }
    .overlay .vidget-widget { max-width: min(100%, 22rem); }
    .vidget-widget[hidden] { display: none; }
    .pos-top-left, .pos-bottom-left { margin-right: auto; align-items: flex-start; }
    .pos-top, .pos-bottom, .pos-center { margin: 0 auto; align-items: center; }
    .pos-top-right, .pos-bottom-right { margin-left: auto; align-items: flex-end; }
    .pos-full { position: absolute; inset: 0; }
    .pos-full > .vidget-widget { flex: 1; }
    .aside { position: absolute; top: 0; right: 0; bottom: var(--band); width: 30%; line-height: normal; pointer-events: none; overflow: clip; padding: 8px 8px 8px 0; box-sizing: border-box; display: flex; flex-direction: column; gap: 6px; }
    .aside:not(:has(.vidget-widget)) { display: none; }
    .aside .pos-sidebar { height: 100%; }
    .aside .vidget-widget { overflow: auto; }
    .stage:has(+ .aside .vidget-widget) .overlay { right: 30%; }
    .vidget-chip { display: none; flex-shrink: 0; pointer-events: auto; font: 12px/1.2 system-ui, sans-serif; color: #fff; background: rgb(0 0 0 / 0.78); border: 1px solid rgb(255 255 255 / 0.45); border-radius: 1em; padding: 4px 10px; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; cursor: pointer; }
    .vidget-chip::after { content: ' ▸'; }
    .vidget-chip[aria-expanded='true']::after { content: ' ▾'; }
    .vidget-chip:focus-visible { outline: 2px solid #7cf; outline-offset: 1px; }
    @container (max-width: 480px) {
      .overlay { padding: 4px; }
      .aside { position: static; width: auto; padding: 4px; }
      .stage:has(+ .aside .vidget-widget) .overlay { right: 0; }
      .vidget-chip.chip:not([hidden]) { display: block; }
      .vidget-chip.chip[aria-expanded='false'] + .vidget-widget { display: none; }
    }
  `;

  /** Project id on the Vidget server. */
  declare project: string;
  /** The Vidget server, e.g. `ws://localhost:8787` (default: this page's host). */
  declare server: string;
  /** URL of the widget list (JSON). */
  declare config: string;
  /** Id of the `<video>` to use, when it is not a child. */
  declare for: string;
  /** A viewer token from the server's token endpoint. Setting another remounts the widgets shown, as that viewer. */
  declare token: string;
  /** The viewer's username, for `getAuthenticatedUser()` (the server only trusts the token). */
  declare user: string;
  /** The registry widgets are looked up in (the page-wide one by default). */
  registry: WidgetRegistry = widgets;
  /** The player api, once connected. */
  playerApi: PlayerApi | undefined;
  private host: WidgetHost | undefined;
  private teardown: AbortController | undefined;
  private frameHandle = 0;
  /** What the running player was started with: a change to any of these starts it again. */
  private startedWith: { project: string; server: string; config: string; for: string } | undefined;

  constructor() {
    super();
    this.project = 'default';
    this.server = '';
  }

  override render() {
    return html`<div class="stage" part="stage"><slot></slot><div class="overlay" part="overlay">
      <div class="edge top"><div class="region pos-top-left"></div><div class="region pos-top"></div><div class="region pos-top-right"></div></div>
      <div class="middle"><div class="region pos-center"></div></div>
      <div class="edge bottom"><div class="region pos-bottom-left"></div><div class="region pos-bottom"></div><div class="region pos-bottom-right"></div></div>
      <div class="region pos-full"></div>
    </div></div><div class="aside" part="aside"><div class="region pos-open"></div><div class="region pos-sidebar"></div></div>`;
  }

  /** Adds a widget at any time (validated like a config entry). */
  addWidget(input: unknown): WidgetEntry | undefined {
    const { entries, errors } = parseWidgetConfig([input]);
    this.report(errors);
    if (entries[0]) this.host?.add(entries[0]);
    return entries[0];
  }

  /** Removes a widget (destroying it if shown). */
  removeWidget(id: string): void {
    this.host?.remove(id);
  }

  /** What the mounted widgets hold (widgets, listeners, timers, sockets). */
  held() {
    return this.host?.held() ?? { widgets: 0, listeners: 0, timers: 0, sockets: 0 };
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Attached again after a teardown (it was detached for longer than a move): start again. The
    // first start waits for the first render (firstUpdated), which made the overlay.
    if (this.hasUpdated && !this.startedWith) this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // A framework moves an element by removing it and inserting it elsewhere in the same task: a
    // player still attached once that task's code has run was moved, and keeps running (its
    // widgets, sockets and video with it). Only a player that stays detached is torn down.
    queueMicrotask(() => {
      if (!this.isConnected) this.stop();
    });
  }

  /**
   * Moved with `moveBefore` (where the browser has it): no disconnect and no connect, so nothing to
   * do; the player keeps running as it is.
   */
  connectedMoveCallback(): void {}

  override firstUpdated(): void {
    this.start();
  }

  /** Starts the player api, the widget host, the clock and the config for the current attributes. */
  private start(): void {
    this.startedWith = { project: this.project, server: this.server, config: this.config, for: this.for };
    const video = (this.for ? document.getElementById(this.for) : this.querySelector('video')) as HTMLVideoElement | null;
    if (!video) {
      this.report([{ index: -1, message: 'no <video> inside <vidget-player>, and no for="id" of one' }]);
      return;
    }
    const server = this.server || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
    this.playerApi = new PlayerApi(video, this, { server, project: this.project, ...(this.token ? { token: this.token } : {}) });
    const overlay = this.renderRoot.querySelector('.overlay') as HTMLElement;
    this.host = new WidgetHost(this.playerApi, overlay, this.registry, {
      aside: this.renderRoot.querySelector('.aside') as HTMLElement,
      user: () => this.user || null,
      onError: (entry, error) => this.report([{ index: -1, id: entry.id, message: (error as Error)?.message ?? String(error) }]),
    });
    this.startClock(video);
    this.playerApi.connectProject(this.renderRoot);
    this.playerApi.on('videoChange', (v: Video) => v.config && this.loadWidgets(v.config));
    void this.loadConfig(this.host);
  }

  override updated(changed: Map<string, unknown>): void {
    const started = this.startedWith;
    if (started && (started.project !== this.project || started.server !== this.server || started.config !== this.config || started.for !== this.for)) {
      // Another project, server, video or widget list: everything the player made depends on them
      // (sockets, kept variables, the widgets shown), so it starts again.
      this.stop();
      this.start();
      return;
    }
    const connection = this.playerApi?.connection;
    if (changed.has('token') && connection && connection.token !== this.token) {
      connection.token = this.token;
      this.host!.remount();
    }
  }

  /** Tears down everything `start` made: widgets (and their sockets), listeners, the clock. */
  private stop(): void {
    this.startedWith = undefined;
    this.teardown?.abort();
    this.host?.destroy();
    this.playerApi?.destroy();
    const video = this.playerApi?.video;
    if (typeof (video as Partial<HTMLVideoElement> | undefined)?.cancelVideoFrameCallback === 'function') video!.cancelVideoFrameCallback(this.frameHandle);
    cancelAnimationFrame(this.frameHandle);
    this.host = undefined;
    this.playerApi = undefined;
  }

  /**
   * Cue timing: `timeupdate` comes only every ~250 ms, so while playing the host is updated on
   * every presented frame (`requestVideoFrameCallback`, with the frame's media time), falling
   * back to `requestAnimationFrame`; seeks, pauses and rate changes update it at once.
   */
  private startClock(video: HTMLVideoElement): void {
    this.teardown = new AbortController();
    const { signal } = this.teardown;
    const host = this.host!;
    const now = () => host.update(video.currentTime);
    reserveControlsBand(this, video, signal);
    // The container queries' breakpoint, for what CSS cannot do: moving widgets below the video.
    // The stage is watched, not the player, whose height changes with what is moved below it.
    const stage = this.renderRoot.querySelector('.stage')!;
    const resize = new ResizeObserver(() => host.setNarrow(stage.clientWidth <= 480));
    resize.observe(stage);
    signal.addEventListener('abort', () => resize.disconnect());
    for (const name of ['loadedmetadata', 'seeking', 'seeked', 'timeupdate', 'pause', 'ratechange', 'ended']) {
      video.addEventListener(name, now, { signal });
    }
    // The DOM types declare it everywhere; Firefox < 132 and older Safari lack it.
    const hasFrameCallbacks = typeof (video as Partial<HTMLVideoElement>).requestVideoFrameCallback === 'function';
    if (hasFrameCallbacks) {
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
        // During a seek a callback can still carry a frame from before it, and a paused video's
        // frame can lead or trail the time it was paused at (pauseOnShow seeks to `start`):
        // trust currentTime then; frame times matter while playing.
        host.update(video.seeking || video.paused ? video.currentTime : meta.mediaTime);
        this.frameHandle = video.requestVideoFrameCallback(onFrame);
      };
      this.frameHandle = video.requestVideoFrameCallback(onFrame);
    } else {
      const onFrame = () => {
        now();
        if (!video.paused) this.frameHandle = requestAnimationFrame(onFrame);
      };
      video.addEventListener('play', () => (this.frameHandle = requestAnimationFrame(onFrame)), { signal });
    }
    now();
  }

  /** Reads the widget list into `host`, unless the player was stopped or started again meanwhile. */
  private async loadConfig(host: WidgetHost): Promise<void> {
    let raw: unknown;
    try {
      const inline = this.querySelector('script[type="application/json"]');
      if (inline) raw = JSON.parse(inline.textContent ?? '');
      else if (this.config) {
        const res = await fetch(this.config);
        if (!res.ok) throw new Error(`config ${this.config} answered ${res.status}`);
        raw = await res.json();
      } else return;
    } catch (error) {
      this.report([{ index: -1, message: `the widget config could not be read: ${(error as Error).message}` }]);
      return;
    }
    if (this.host !== host) return;
    const { entries, errors } = parseWidgetConfig(raw);
    this.report(errors);
    for (const entry of entries) host.add(entry);
  }

  /** A project video with its own widget list: the widgets shown give way to that list's. */
  private async loadWidgets(url: string): Promise<void> {
    const host = this.host!;
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`config ${url} answered ${res.status}`);
      const { entries, errors } = parseWidgetConfig(await res.json());
      if (this.host !== host) return;
      this.report(errors);
      host.replaceAll(entries);
    } catch (error) {
      this.report([{ index: -1, message: `the video's widget config could not be read: ${(error as Error).message}` }]);
    }
  }

  private report(errors: ConfigError[]): void {
    for (const e of errors) {
      const where = e.id ? `widget "${e.id}"` : e.index >= 0 ? `config entry ${e.index}` : 'config';
      console.error(`vidget-player: ${where}: ${e.message}`);
      this.dispatchEvent(new PlayerErrorEvent(e.message, e.index >= 0 ? e.index : undefined, e.id));
    }
  }
}
