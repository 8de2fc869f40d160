import type { AnalyticsReport } from '../protocol/platform.js';
import type { ProjectConnection } from './project-connection.js';

/** How often a playing player tells the server it still plays (the server's `staleMs` is 3 of these). */
const HEARTBEAT_MS = 5_000;
/** A `timeupdate` step longer than this is a seek or a stall, not watching. */
const MAX_STEP_S = 2;

/** What a reporter counts between two reports. */
interface Counts {
  plays: number;
  seeks: number;
  buffering: number;
  watched: number;
  quartiles: Set<number>;
  interactions: Record<string, number>;
}

const zero = (): Counts => ({ plays: 0, seeks: 0, buffering: 0, watched: 0, quartiles: new Set(), interactions: {} });

/**
 * One player's playback and widget interactions, counted from its `<video>` and its widgets'
 * clicks and sent over the page's project connection: a state change (play, pause, end) within
 * a quarter second, otherwise every 5 s while playing. Nothing the viewer does waits on it.
 */
export class AnalyticsReporter {
  private counts = zero();
  private lastTime = 0;
  /** A play was counted for this load of the video (until it ends or its source changes). */
  private started = false;
  private passed = new Set<number>();
  private readonly teardown = new AbortController();
  private readonly heartbeat: ReturnType<typeof setInterval>;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly connection: ProjectConnection,
    private readonly slot: number,
    /** The id the player's video is counted under. */
    private readonly videoId: () => string,
    /** Where widget clicks bubble to (the player's shadow root). */
    widgetRoot?: EventTarget,
  ) {
    const signal = this.teardown.signal;
    const on = (name: string, fn: () => void) => video.addEventListener(name, fn, { signal });
    on('playing', () => {
      if (!this.started) this.counts.plays++;
      this.started = true;
      this.lastTime = video.currentTime;
      this.send();
    });
    on('pause', () => this.send());
    on('ended', () => {
      this.counts.quartiles.add(100);
      this.started = false;
      this.passed.clear();
      this.send();
    });
    on('emptied', () => {
      this.started = false;
      this.passed.clear();
    });
    on('seeking', () => this.counts.seeks++);
    on('seeked', () => (this.lastTime = video.currentTime));
    on('waiting', () => this.counts.buffering++);
    on('timeupdate', () => this.onTime());
    widgetRoot?.addEventListener('click', (e) => this.onClick(e), { signal });
    connection.addEventListener('statechange', (e) => (e as CustomEvent<{ state: string }>).detail.state === 'running' && this.send(), { signal });
    // Started before this reporter was (it loads after the player): that play counts too.
    if (!video.paused) {
      this.counts.plays++;
      this.started = true;
      this.send();
    }
    this.heartbeat = setInterval(() => !video.paused && this.send(), HEARTBEAT_MS);
  }

  /** Sends what is counted, with the current state (or `playing` as given). */
  send(playing = !this.video.paused && !this.video.ended): void {
    const c = this.counts;
    this.counts = zero();
    const report: AnalyticsReport = {
      slot: this.slot,
      videoId: this.videoId(),
      playing,
      plays: c.plays,
      seeks: c.seeks,
      buffering: c.buffering,
      quartiles: [...c.quartiles],
      watched: Math.round(c.watched * 10) / 10,
      interactions: c.interactions,
    };
    this.connection.report(report);
  }

  /** Stops counting; the last report says it no longer plays. */
  stop(): void {
    this.teardown.abort();
    clearInterval(this.heartbeat);
    this.send(false);
  }

  private onTime(): void {
    const t = this.video.currentTime;
    const step = t - this.lastTime;
    this.lastTime = t;
    if (!this.video.paused && step > 0 && step <= MAX_STEP_S) this.counts.watched += step;
    const duration = this.video.duration;
    if (!(duration > 0) || !Number.isFinite(duration)) return;
    for (const q of [25, 50, 75]) {
      if (t / duration >= q / 100 && !this.passed.has(q)) {
        this.passed.add(q);
        this.counts.quartiles.add(q);
      }
    }
  }

  private onClick(event: Event): void {
    for (const el of event.composedPath()) {
      const id = (el as HTMLElement).dataset?.widgetId;
      if (id) {
        this.counts.interactions[id] = (this.counts.interactions[id] ?? 0) + 1;
        return;
      }
    }
  }
}
