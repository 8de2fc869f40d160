// The live analytics dashboard (analytics.html, as `npm run build` builds it) against viewers on
// real pages of the built bundle: three pages playing are 3 concurrent viewers, two pausing shows
// in the series, a page closing drops the count, and a dashboard opened later catches up on the
// past series, then continues live.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtDemo } from '../helpers/built-page.js';
import { TEST_API_KEY } from '../server/helpers.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core over a page: its WCAG 2.1 A/AA violations, by id. */
async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ') + ' ' + (n.any[0]?.message ?? '')).join('; ')))`,
  )) as string[];
  return result;
}

const WATCH = `<!doctype html><html lang="en"><meta charset="utf-8"><title>watch</title>
<script type="module" src="/vidget.js"></script>
<vidget-player project="site">
  <video id="launch" src="/clip.webm" muted loop></video>
  <script type="application/json">[{ "id": "toc", "type": "chapters", "position": "sidebar", "props": { "chapters": [{ "title": "Start", "start": 0 }, { "title": "Middle", "start": 5 }] } }]</script>
</vidget-player>`;
const KPI = (id: string) => `document.querySelector('#kpi-${id}')?.textContent`;
/** The stored buckets' viewer counts, oldest first, from the dashboard's data table. */
const VIEWERS_SERIES = `[...document.querySelectorAll('#data tbody tr')].map((r) => Number(r.cells[1].textContent))`;
const waitFor = (page: Page, js: string, what: string) =>
  page.waitForFunction(js, null, { timeout: 15_000 }).catch(async (error: Error) => {
    throw new Error(`${what}: ${error.message}; now ${await page.evaluate(KPI('now'))} watching, series ${JSON.stringify(await page.evaluate(VIEWERS_SERIES))}`);
  });

test('analytics dashboard: concurrent viewers, pauses in the series, a closed page, catch-up then live', async (t) => {
  const site = await builtDemo({ analytics: { seriesMs: 1_000 } }, { 'watch.html': WATCH });
  t.after(site.close);
  const open = async (path: string, viewport = { width: 1280, height: 900 }) => {
    const page = await (await site.browser.newContext({ viewport })).newPage();
    await page.goto(`${site.server.url}/${path}`);
    return page;
  };
  const board = await open(`analytics.html?project=site&catchup=5m&key=${TEST_API_KEY}`);
  await waitFor(board, `document.querySelector('#status').dataset.state === 'running'`, 'the dashboard connects');
  assert.equal(await board.evaluate('location.search.includes("key=")'), false, 'the key is taken out of the address bar');

  const viewers = await Promise.all([0, 1, 2].map(() => open('watch.html')));
  for (const v of viewers) await v.evaluate(`document.querySelector('video').play()`);
  await waitFor(board, `${KPI('now')} === '3'`, 'three pages playing');
  // A widget click counts as an interaction of its widget.
  await viewers[0]!.evaluate(
    `document.querySelector('vidget-player').shadowRoot.querySelector('[data-widget-id="toc"]').shadowRoot.querySelector('vidget-chapters').shadowRoot.querySelector('button').click()`,
  );
  await waitFor(board, `document.querySelector('#widgets')?.textContent.includes('toc')`, 'the chapters click');
  await waitFor(board, `${VIEWERS_SERIES}.includes(3)`, 'a stored bucket with 3 viewers');

  for (const v of viewers.slice(1)) await v.evaluate(`document.querySelector('video').pause()`);
  await waitFor(board, `${KPI('now')} === '1'`, 'two paused');
  await waitFor(board, `(${VIEWERS_SERIES}).slice((${VIEWERS_SERIES}).lastIndexOf(3)).includes(1)`, 'the pause in the series, after the 3');

  const closedAt = Date.now();
  await viewers[0]!.context().close();
  await waitFor(board, `${KPI('now')} === '0'`, 'the playing page closed');
  const dropMs = Date.now() - closedAt;
  t.diagnostic(`a closed page left the count in ${dropMs} ms (bound: the next push, 1 s, after the socket closes)`);
  assert.ok(dropMs < 10_000, `dropped in ${dropMs} ms`);
  assert.ok(Number(await board.evaluate(KPI('plays'))) >= 3, 'three plays counted');

  // A dashboard opened now gets the past buckets first, then new ones live.
  const later = await open(`analytics.html?project=site&catchup=5m&key=${TEST_API_KEY}`);
  await waitFor(later, `${VIEWERS_SERIES}.includes(3) && ${VIEWERS_SERIES}.includes(1)`, 'the caught-up series');
  const rows = (await later.evaluate(`${VIEWERS_SERIES}.length`)) as number;
  await waitFor(later, `${VIEWERS_SERIES}.length > ${rows} || ${VIEWERS_SERIES}.length >= 60`, 'a live bucket after the catch-up');

  mkdirSync('test-results', { recursive: true });
  await board.screenshot({ path: 'test-results/analytics-1280.png', fullPage: true });
  const phone = await open(`analytics.html?project=site&catchup=5m&key=${TEST_API_KEY}`, { width: 390, height: 844 });
  await waitFor(phone, `${VIEWERS_SERIES}.includes(3)`, 'the phone dashboard');
  await phone.screenshot({ path: 'test-results/analytics-390.png', fullPage: true });
  assert.deepEqual(await violations(board), [], 'axe-core at 1280 px');
  assert.deepEqual(await violations(phone), [], 'axe-core at 390 px');
  for (const v of viewers.slice(1)) await v.context().close();
});
