import { positionAt, type ControlAction, type PlaybackState } from '../protocol/index.js';
import type { ClockSync } from './clock-sync.js';

/** What playback sync sends: a command as done locally. */
export type SendCommand = (action: ControlAction, state: { position: number; rate: number; paused: boolean; at: number }) => void;

/** Past this (s), drift is corrected by a seek; under it by playbackRate nudges (MediaSync's split). */
const SEEK_THRESHOLD = 0.25;
/** Nudging starts above this drift (s) and stops under `SETTLED` (hysteresis). */
const NUDGE_FROM = 0.006;
const SETTLED = 0.002;
/** A nudge aims to close the drift over this long (s), never changing the rate by more than `MAX_NUDGE`. */
const CORRECT_OVER = 0.6;
const MAX_NUDGE = 0.08;
/** Frames whose drifts make the median the controller acts on (under 0.4 s at 24 fps): one display refresh of noise each. */
const WINDOW = 9;
/** A user's seeks go out at most this often (ms): the first at once, the last after the gap. */
const SEEK_GAP_MS = 200;

/** A frame callback where the browser has one (Chromium, Safari, Firefox 132+), else a timer. */
type FrameMeta = { mediaTime: number; expectedDisplayTime: number };

/**
 * Keeps one `<video>` on the group's playback: the user's play, pause, seek and rate changes go
 * out as commands; the group's state, as the server sends it, is applied (and changes this
 * class makes itself are never sent back: each is expected and swallowed). While playing, each
 * presented frame's media time (`requestVideoFrameCallback`) is compared with where the group
 * is at that frame's display time on the server's clock; the median drift over a few frames is
 * corrected by a small `playbackRate` change, or by a seek when it is large.
 *
 * Buffering: the group does not wait for a stalled page. That page catches up by itself (its
 * drift goes past the seek threshold when it plays again), so one slow network never pauses
 * everyone; a user who wants the group to wait presses pause.
 */
export class PlaybackSync {
  /** The group's playback, as last told by the server. */
  group: PlaybackState | undefined;
  /** The median drift of this page from the group (s, positive: ahead), while playing. */
  drift = 0;
  /** Whether drift is corrected while playing (else commands are only applied). */
  correcting = true;
  /** Whether local changes may be sent (false for a non-host in a host-controlled session). */
  mayControl = () => true;
  /** Called when a local change was refused (not the host): it is undone. */
  onRefused: () => void = () => {};
  private readonly expected = { play: 0, pause: 0 };
  private seekingTo: number | undefined;
  private rateSet: number;
  private baseRate = 1;
  private diffs: number[] = [];
  private seekCost = 0.05;
  private seekStarted = 0;
  private nextSeek = 0;
  private seekTimer: ReturnType<typeof setTimeout> | undefined;
  private frameHandle = 0;
  private readonly teardown = new AbortController();

  constructor(
    readonly video: HTMLVideoElement,
    private readonly clock: ClockSync,
    private readonly send: SendCommand,
  ) {
    this.rateSet = video.playbackRate;
    const on = (type: string, fn: () => void) => video.addEventListener(type, fn, { signal: this.teardown.signal });
    on('play', () => this.onPlayPause('play'));
    on('pause', () => this.onPlayPause('pause'));
    on('seeking', () => this.onSeeking());
    on('seeked', () => this.onSeeked());
    on('ratechange', () => this.onRate());
    on('loadedmetadata', () => this.group && this.apply(this.group, false));
    this.watchFrames();
  }

  /** Applies the group's state; `own` (this page's command coming back) only updates the reference. */
  apply(state: PlaybackState, own: boolean): void {
    this.group = state;
    this.baseRate = state.rate;
    this.diffs = [];
    if (own || this.video.readyState < 1) return;
    const target = this.groupPosition(this.clock.now());
    if (state.paused) {
      this.pauseVideo();
      if (Math.abs(this.video.currentTime - target) > 0.01) this.seekVideo(target);
      this.setRate(state.rate);
      return;
    }
    this.setRate(state.rate);
    if (Math.abs(this.video.currentTime - target) > SEEK_THRESHOLD / 2) this.seekVideo(target + this.seekCost * state.rate);
    if (this.video.paused) {
      this.expected.play++;
      this.video.play().catch(() => {
        this.expected.play = 0;
      });
    }
  }

  /** Stops listening and correcting; the video keeps its current state. */
  stop(): void {
    this.teardown.abort();
    clearTimeout(this.seekTimer);
    if (this.frameHandle && 'cancelVideoFrameCallback' in this.video) this.video.cancelVideoFrameCallback(this.frameHandle);
    this.setRate(this.baseRate);
  }

  /** Where the group is at server time `now`, within the video (wrapped when it loops). */
  private groupPosition(now: number): number {
    const at = positionAt(this.group!, now);
    const d = this.video.duration;
    if (!Number.isFinite(d) || d <= 0) return at;
    return this.video.loop ? ((at % d) + d) % d : Math.min(at, d);
  }

  private pauseVideo(): void {
    if (this.video.paused) return;
    this.expected.pause++;
    this.video.pause();
  }

  private seekVideo(to: number): void {
    this.seekingTo = to;
    this.seekStarted = performance.now();
    this.video.currentTime = to;
  }

  private setRate(rate: number): void {
    if (Math.abs(this.video.playbackRate - rate) < 1e-9) return;
    this.rateSet = rate;
    this.video.playbackRate = rate;
  }

  private local(action: ControlAction): void {
    if (!this.group) return;
    if (!this.mayControl()) {
      this.onRefused();
      return this.apply(this.group, false);
    }
    if (action === 'rate') this.baseRate = this.rateSet = this.video.playbackRate;
    this.send(action, { position: this.video.currentTime, rate: this.baseRate, paused: this.video.paused, at: this.clock.now() });
  }

  private onPlayPause(action: 'play' | 'pause'): void {
    if (this.expected[action] > 0) {
      this.expected[action]--;
      return;
    }
    if (action === 'pause' && this.video.ended) return; // every page reaches the end by itself
    this.local(action);
  }

  private onSeeking(): void {
    if (this.seekingTo !== undefined && Math.abs(this.video.currentTime - this.seekingTo) < 0.05) return;
    this.seekingTo = undefined;
    if (this.looped()) return;
    // A scrubbing user makes many seeks: the first goes at once, the last one after the gap.
    clearTimeout(this.seekTimer);
    const wait = this.nextSeek - performance.now();
    if (wait <= 0) {
      this.nextSeek = performance.now() + SEEK_GAP_MS;
      this.local('seek');
    } else {
      this.seekTimer = setTimeout(() => {
        this.nextSeek = performance.now() + SEEK_GAP_MS;
        this.local('seek');
      }, wait);
    }
  }

  /** A looping video's jump back to the start is a seek too, but every page makes it by itself. */
  private looped(): boolean {
    const group = this.group;
    if (!this.video.loop || !group || group.paused || this.video.currentTime > 0.05) return false;
    const at = this.groupPosition(this.clock.now());
    return at < 0.5 || at > this.video.duration - 0.5;
  }

  private onSeeked(): void {
    if (this.seekingTo === undefined) return;
    this.seekingTo = undefined;
    // What a seek costs while playing is learned, so the next one lands where the group will be.
    if (!this.video.paused) this.seekCost = 0.7 * this.seekCost + 0.3 * Math.min(0.5, (performance.now() - this.seekStarted) / 1000);
  }

  private onRate(): void {
    if (this.rateChangedElsewhere()) this.local('rate');
  }

  /** Whether the video's rate is not the one this class last set: a user's change (its `ratechange` may not have come yet). */
  private rateChangedElsewhere(): boolean {
    return Math.abs(this.video.playbackRate - this.rateSet) >= 1e-9;
  }

  private watchFrames(): void {
    if (!('requestVideoFrameCallback' in this.video)) return;
    const next = () => {
      this.frameHandle = this.video.requestVideoFrameCallback((_now, meta) => {
        this.correct(meta);
        if (!this.teardown.signal.aborted) next();
      });
    };
    next();
  }

  /** One presented frame: measure the drift, and nudge or seek once a few frames agree. */
  private correct(meta: FrameMeta): void {
    const group = this.group;
    if (!group || !this.correcting || group.paused || this.video.paused || this.video.seeking || this.seekingTo !== undefined) return;
    // Correcting before a user's change's `ratechange` (a task later) would overwrite the change,
    // and the event would then look like our own.
    if (this.rateChangedElsewhere()) return;
    let diff = meta.mediaTime - this.groupPosition(this.clock.toServer(meta.expectedDisplayTime));
    const d = this.video.duration;
    if (this.video.loop && Number.isFinite(d)) diff -= Math.round(diff / d) * d; // across the loop point
    this.diffs.push(diff);
    if (this.diffs.length < WINDOW) return;
    if (this.diffs.length > WINDOW) this.diffs.shift();
    const median = [...this.diffs].sort((a, b) => a - b)[WINDOW >> 1]!;
    this.drift = median;
    if (Math.abs(median) > SEEK_THRESHOLD) {
      this.diffs = [];
      this.seekVideo(this.groupPosition(this.clock.now()) + this.seekCost * group.rate);
    } else if (Math.abs(median) > NUDGE_FROM) {
      const nudge = Math.max(-MAX_NUDGE, Math.min(MAX_NUDGE, -median / CORRECT_OVER));
      this.setRate(this.baseRate * (1 + nudge));
    } else if (Math.abs(median) < SETTLED) {
      this.setRate(this.baseRate);
    }
  }
}
