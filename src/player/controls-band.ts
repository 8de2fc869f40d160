/**
 * How long after the last pointer or key activity the band stays reserved while playing: Chromium
 * hides its media controls 2.5 s after the last pointer move, then fades them out over 1 s.
 */
const IDLE_MS = 3_500;
/** Chromium starts hiding its controls at once when the pointer leaves a playing video (1 s fade). */
const LEAVE_MS = 1_000;

/**
 * Keeps the native controls of `video` clear of widgets. No event says when they show, so this
 * follows the rule Chromium applies: shown while paused, ended or seeking, with focus on the
 * video, and within 2.5 s of pointer or key activity over the player; hidden otherwise. While they
 * may be shown, `host` has the `controls-shown` attribute and the player's layout keeps their band
 * (72 px at the bottom) free. The timers end after Chromium's fade, so when in doubt the band is
 * kept. Two states: `shown` (band reserved) and `hidden`; a video without `controls` has no band.
 */
export function reserveControlsBand(host: HTMLElement, video: HTMLVideoElement, signal: AbortSignal): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const show = (shown: boolean) => host.toggleAttribute('controls-shown', shown && video.controls);
  const settle = () => show(video.paused || video.ended || video.seeking || document.activeElement === video);
  const wake = (ms: number) => {
    clearTimeout(timer);
    show(true);
    timer = setTimeout(settle, ms);
  };
  const onActivity = () => wake(IDLE_MS);
  for (const name of ['pointermove', 'pointerdown', 'keydown', 'focusin']) host.addEventListener(name, onActivity, { signal });
  host.addEventListener('pointerleave', () => wake(LEAVE_MS), { signal });
  // Media events do not bubble: on the video itself. Playback starting shows the controls too.
  for (const name of ['play', 'pause', 'seeking', 'seeked', 'ended', 'loadedmetadata']) video.addEventListener(name, onActivity, { signal });
  signal.addEventListener('abort', () => clearTimeout(timer));
  onActivity();
}
