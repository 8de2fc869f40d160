import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { BuiltPage } from '../helpers/built-page.js';
import { command, measureDrift, percentile, playerReady, read, sleep, waitFor, watchPage, wt, type DriftSample, type Kind } from './watch-helpers.js';

let site: BuiltPage;
let pages: Page[];
let sid: string;

before(async () => {
  site = await watchPage();
  pages = await site.viewers(4);
  await Promise.all(pages.map(playerReady));
  sid = (await wt<{ sid: string }>(pages[0]!, 'join', { displayName: 'P0' })).sid;
  for (const [i, page] of pages.slice(1, 3).entries()) await wt(page, 'join', { sessionId: sid, displayName: `P${i + 1}` });
});
after(() => site.close());

test('play, pause, seek and rate from each of three pages are applied on the other two, and never echoed back', async () => {
  const group = pages.slice(0, 3);
  const latencies: Record<Kind, number[]> = { play: [], pause: [], seek: [], rate: [] };
  for (const [i, from] of group.entries()) {
    const others = group.filter((p) => p !== from);
    latencies.play.push(...(await command(from, others, 'play')));
    latencies.seek.push(...(await command(from, others, 'seek', 2 + 3 * i)));
    latencies.rate.push(...(await command(from, others, 'rate', [1.25, 1.5, 1][i])));
    latencies.pause.push(...(await command(from, others, 'pause')));
  }
  const all = Object.values(latencies)
    .flat()
    .sort((a, b) => a - b);
  for (const [kind, list] of Object.entries(latencies)) console.log(`command ${kind}: applied on the others in ${list.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  console.log(`command latency over ${all.length}: p50 ${percentile(all, 50).toFixed(0)} ms, max ${all.at(-1)!.toFixed(0)} ms (target 300 ms)`);
  assert.ok(percentile(all, 50) <= 300, 'the median command is applied everywhere within the 300 ms target');
  // Four actions per page; what a page applied for the others never went back out as a command of its own.
  for (const page of group) {
    const sent = await read<Array<{ type: string; action?: string }>>(page, "sent.filter((f) => f.type === 'control')");
    assert.deepEqual(
      sent.map((f) => f.action),
      ['play', 'seek', 'rate', 'pause'],
    );
  }
});

/** Prints the figures; returns the p95 of frames both pages presented on time, and of all (ms). */
function report(label: string, diffs: DriftSample): { onTime: number; all: number } {
  const { all, onTime } = diffs;
  const f = (x: number) => x.toFixed(1);
  console.log(
    `${label}: ${all.length} frame pairs, position difference p50 ${f(percentile(all, 50))} ms, p95 ${f(percentile(all, 95))} ms, max ${f(all.at(-1)!)} ms; ` +
      `leaving out ${all.length - onTime.length} presented late (a starved page): p95 ${f(percentile(onTime, 95))} ms (target p95 ≤ 40 ms)`,
  );
  return { onTime: percentile(onTime, 95), all: percentile(all, 95) };
}

test('while playing for 20 s (across the loop point), presented frames of two and then three pages stay within a frame of each other', async () => {
  const [a, b, c] = pages as [Page, Page, Page];
  await command(a, [b, c], 'seek', 1);
  await command(a, [b, c], 'play');
  await sleep(1500); // the first corrections after the start
  const two = report('drift, 2 pages, 20 s', await measureDrift([a, b], 20));
  const three = report('drift, 3 pages, 20 s', await measureDrift([a, b, c], 20));
  assert.ok(two.onTime <= 40 && three.onTime <= 40, 'p95 within one frame at 25 fps (frames presented on time)');
  // On a machine loaded by others pages get starved; still never more than a few frames apart.
  assert.ok(two.all <= 150 && three.all <= 150, 'p95 of all frames within a few frames');
});

test('a late joiner starts at the group position while the group plays', async () => {
  const [a, , , late] = pages as [Page, Page, Page, Page];
  assert.equal((await wt<{ paused: boolean }>(a, 'videoState')).paused, false, 'the group is playing');
  await wt(late, 'join', { sessionId: sid, displayName: 'Late' });
  await waitFor(late, 'videoState().paused === false');
  await sleep(1000);
  const p95 = report('late joiner vs the group, from 1 s after joining, 3 s', await measureDrift([a, late], 3));
  assert.ok(p95.onTime <= 40);
});
