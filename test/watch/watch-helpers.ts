import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { builtPage, type BuiltPage } from '../helpers/built-page.js';
import type { ServerOptions } from '../../src/server/index.js';

/** The page every watch test opens: the built bundle, a player around the looping test clip, and the probe (`window.wt`). */
export function watchPage(options: ServerOptions = {}): Promise<BuiltPage> {
  const probe = readFileSync('test/fixtures/watch-probe.js', 'utf8');
  const body = `<vidget-player project="demo"><video src="/clip.webm" muted loop preload="auto" playsinline></video></vidget-player>\n<script type="module">${probe}</script>`;
  return builtPage(body, options);
}

/** Waits until the page's player has its api and its video its metadata. */
export async function playerReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const player = document.querySelector('vidget-player') as (HTMLElement & { playerApi?: { video: HTMLVideoElement } }) | null;
    return !!player?.playerApi && player.playerApi.video.readyState >= 1 && 'wt' in window;
  });
}

/** Evaluates `wt.<method>(...args)` in the page. */
export function wt<T = unknown>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(([m, a]) => (window as unknown as { wt: Record<string, (...x: unknown[]) => unknown> }).wt[m as string]!(...(a as unknown[])), [method, args] as const) as Promise<T>;
}

/** Reads `wt.<path>` in the page. */
export function read<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate((e) => new Function(`return wt.${e}`)() as unknown, expression) as Promise<T>;
}

/** Waits until `wt.<expression>` is truthy in the page. */
export async function waitFor(page: Page, expression: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction((e) => new Function(`return wt.${e}`)() as unknown, expression, { timeout });
}

/** A percentile of sorted-ascending numbers. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Pairwise position differences (ms, ascending): all of them, and those where neither page was stalled. */
export interface DriftSample {
  all: number[];
  onTime: number[];
}

/** A frame presented more than this many frame intervals after the previous one: the page stalled (a loaded machine). */
const STALL = 2.5;

/** The usual gap between presented frames (ms): their median. */
function frameInterval(frames: Array<[number, number]>): number {
  const gaps = frames.slice(1).map(([t], i) => t - frames[i]![0]);
  return gaps.sort((x, y) => x - y)[gaps.length >> 1] ?? Infinity;
}

/**
 * Position differences between two pages from their presented frames (`[wall ms, media s]`):
 * for each frame of `a`, `b`'s position at the same wall time, interpolated between its
 * neighbouring frames (never across a loop point), wrapped into ±half the duration. In ms.
 * `onTime` leaves out frames either page presented late (a gap over 2.5 frames: it was starved
 * of CPU), which are rendering stalls rather than drift.
 */
export function positionDiffs(a: Array<[number, number]>, b: Array<[number, number]>, duration: number): DriftSample {
  const out: DriftSample = { all: [], onTime: [] };
  const limit = STALL * Math.max(frameInterval(a), frameInterval(b));
  let j = 0;
  for (const [i, [t, m]] of a.entries()) {
    while (j + 1 < b.length && b[j + 1]![0] <= t) j++;
    const p = b[j];
    const q = b[j + 1];
    if (!p || !q || p[0] > t || q[1] < p[1]) continue;
    const bAt = p[1] + ((q[1] - p[1]) * (t - p[0])) / (q[0] - p[0]);
    let d = m - bAt;
    d -= Math.round(d / duration) * duration;
    out.all.push(Math.abs(d) * 1000);
    if (q[0] - p[0] <= limit && (i === 0 || t - a[i - 1]![0] <= limit)) out.onTime.push(Math.abs(d) * 1000);
  }
  return out;
}

/** Retries `check` until it holds (for a state that settles over a round trip); fails after `ms`. */
export async function wait(check: () => Promise<boolean>, what: string, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A playback command. */
export type Kind = 'play' | 'pause' | 'seek' | 'rate';

/** One command from `from`: the wall-clock delay until each other page's video shows it (ms). */
export async function command(from: Page, others: Page[], kind: Kind, value?: number): Promise<number[]> {
  await Promise.all(others.map((p) => wt(p, 'arm', kind, value)));
  const t0 = await wt<number>(from, 'act', kind, value);
  const applied = await Promise.all(
    others.map((p) => p.evaluate(() => Promise.race([(window as unknown as { wt: { armed: Promise<number> } }).wt.armed, new Promise<number>((resolve) => setTimeout(() => resolve(NaN), 5_000))]))),
  );
  const states = await Promise.all(others.map((p) => wt(p, 'videoState')));
  assert.ok(applied.every(Number.isFinite), `${kind} ${value ?? ''} not applied within 5 s: ${JSON.stringify(states)}`);
  return applied.map((t) => t - t0);
}

/** The frames a page recorded since `recordFrames`. */
export const frames = (page: Page) => wt<{ frames: Array<[number, number]>; duration: number }>(page, 'stopFrames');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Plays for `seconds` and returns every pairwise position difference of `group`'s presented frames (ms, ascending). */
export async function measureDrift(group: Page[], seconds: number): Promise<DriftSample> {
  await Promise.all(group.map((p) => wt(p, 'recordFrames')));
  await sleep(seconds * 1000);
  const recorded = await Promise.all(group.map(frames));
  const out: DriftSample = { all: [], onTime: [] };
  for (let i = 0; i < recorded.length; i++) {
    for (let j = i + 1; j < recorded.length; j++) {
      const pair = positionDiffs(recorded[i]!.frames, recorded[j]!.frames, recorded[i]!.duration);
      out.all.push(...pair.all);
      out.onTime.push(...pair.onTime);
    }
  }
  out.all.sort((x, y) => x - y);
  out.onTime.sort((x, y) => x - y);
  return out;
}
