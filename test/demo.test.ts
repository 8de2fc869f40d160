import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtDemo, widgetEl, type BuiltPage } from './helpers/built-page.js';

/** Where the screenshots go; look at them after `npm test` (kept out of git). */
const SHOTS = join('test-results', 'demo-screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PLAYER = `document.querySelector('vidget-player')`;
const WIDGETS = `[...${PLAYER}.shadowRoot.querySelectorAll('.vidget-widget')]`;

interface Box { id: string; x: number; y: number; width: number; height: number }

/** Pauses at `t` and waits for exactly `ids` to be on screen and rendered. */
async function at(page: Page, t: number, ids: string[]): Promise<void> {
  await page.evaluate(`(async () => { const api = ${PLAYER}.playerApi; api.pause(); api.seek(${t}); })()`);
  const want = JSON.stringify([...ids].sort());
  await page.waitForFunction(`JSON.stringify(${WIDGETS}.map((w) => w.dataset.widgetId).sort()) === ${JSON.stringify(want)}`, null, { timeout: 10_000 }).catch(async (e) => {
    throw new Error(`${e.message}: on screen ${await page.evaluate(`${WIDGETS}.map((w) => w.dataset.widgetId)`)}, want ${want}`);
  });
  // Lit widgets have rendered; function widgets render at once.
  await page.evaluate(`Promise.all(${WIDGETS}.map((w) => w.shadowRoot.firstElementChild?.updateComplete))`);
  await page.waitForFunction(`${WIDGETS}.every((w) => w.getBoundingClientRect().height > 0)`, null, { timeout: 5_000 });
}

const boxes = (page: Page) =>
  page.evaluate(`${WIDGETS}.filter((w) => !w.hidden).map((w) => { const r = w.getBoundingClientRect(); return { id: w.dataset.widgetId, x: r.x, y: r.y, width: r.width, height: r.height }; })`) as Promise<Box[]>;
const videoBox = (page: Page) => page.evaluate(`(() => { const r = document.querySelector('video').getBoundingClientRect(); return { id: 'video', x: r.x, y: r.y, width: r.width, height: r.height }; })()`) as Promise<Box>;
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1;

/** The widgets on screen do not cover each other, and the overlay ones stay on the video. */
async function assertLayout(page: Page, width: number, label: string): Promise<void> {
  const all = await boxes(page);
  const video = await videoBox(page);
  for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) assert.ok(!overlaps(all[i]!, all[j]!), `${label}: ${all[i]!.id} overlaps ${all[j]!.id}: ${JSON.stringify([all[i], all[j]])}`);
  for (const box of all) {
    if (box.id === 'comments' || box.id === 'toc') continue;
    assert.ok(box.x >= video.x - 1 && box.y >= video.y - 1 && box.x + box.width <= video.x + video.width + 1 && box.y + box.height <= video.y + video.height + 1, `${label}: ${box.id} leaves the video ${JSON.stringify([box, video])}`);
  }
  for (const side of all.filter((b) => b.id === 'comments' || b.id === 'toc')) {
    if (width <= 480) assert.ok(side.y >= video.y + video.height - 1, `${label}: on a narrow player the sidebar (${side.id}) goes below the video`);
    else assert.ok(side.x >= video.x + video.width * 0.69 && side.y >= video.y - 1 && side.y + side.height <= video.y + video.height + 1, `${label}: ${side.id} is in the sidebar over the video`);
  }
}

/** axe-core over each widget on screen (inside its shadow roots): no WCAG 2.1 A/AA violations. */
async function assertAccessible(page: Page, label: string): Promise<number> {
  if (await page.evaluate("typeof axe === 'undefined'")) await page.addScriptTag({ path: AXE });
  const ids = (await page.evaluate(`${WIDGETS}.map((w) => w.dataset.widgetId)`)) as string[];
  for (const id of ids) {
    const result = (await page.evaluate(`axe.run({ fromShadowDom: ['vidget-player', '.vidget-widget[data-widget-id="${id}"]'] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((r) => ({ passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary) })) }))`)) as { passes: number; violations: unknown[] };
    assert.deepEqual(result.violations, [], `${label}: accessibility of ${id}`);
    // Plain text (the note, the count) has no WCAG rule to pass; widgets with controls do.
    if (id !== 'welcome' && id !== 'watching') assert.ok(result.passes > 0, `${label}: axe checked something in ${id}`);
  }
  return ids.length;
}

async function tour(demo: BuiltPage, width: number, height: number): Promise<void> {
  const [page] = await demo.viewers(1, { width, height });
  const p = page!;
  await p.waitForFunction(`${PLAYER}?.playerApi && document.querySelector('video').readyState >= 1`, null, { timeout: 10_000 });
  const shot = (name: string) => p.screenshot({ path: join(SHOTS, `${width}px-${name}.png`), fullPage: true });

  await at(p, 1, ['welcome', 'watching', 'toc', 'comments', 'react']);
  await assertLayout(p, width, `${width}px at 1 s`);
  await assertAccessible(p, `${width}px at 1 s`);
  await at(p, 3, ['watching', 'toc', 'comments', 'colour', 'react']);
  // Something in them: a vote and a comment, as a viewer would leave.
  await p.evaluate(`${widgetEl('poll', 'colour')}.shadowRoot.querySelector('button').click()`);
  const chat = widgetEl('chat', 'comments');
  await p.evaluate(`(async () => { const c = ${chat}; const input = c.shadowRoot.querySelector('input'); input.value = 'Hello from ${width}px'; input.dispatchEvent(new Event('input')); await c.updateComplete; c.shadowRoot.querySelector('form button').click(); })()`);
  await p.waitForFunction(`[...${chat}.shadowRoot.querySelectorAll('ol li:not(.pending)')].some((li) => li.textContent.includes('Hello from ${width}px'))`, null, { timeout: 10_000 });
  await p.waitForFunction(`/Your vote: Red$/.test(${widgetEl('poll', 'colour')}.shadowRoot.querySelector('[role=status]').textContent)`, null, { timeout: 10_000 });
  await assertLayout(p, width, `${width}px at 3 s`);
  await shot('poll');
  await assertAccessible(p, `${width}px at 3 s`);

  await at(p, 7, ['watching', 'toc', 'comments', 'trivia', 'react']);
  // A narrow player shows the quiz's options in a row: it must fit between the edges.
  await assertLayout(p, width, `${width}px at 7 s`);
  await shot('quiz');
  await assertAccessible(p, `${width}px at 7 s`);

  await at(p, 10.5, ['watching', 'toc', 'comments', 'trivia', 'react', 'again']);
  await assertLayout(p, width, `${width}px at 10.5 s`);
  await shot('hotspot');
  await assertAccessible(p, `${width}px at 10.5 s`);
  await p.context().close();
}

test('demo: every widget on screen at 1280 and 360 px wide, none covering another, each passing axe-core', async (t) => {
  mkdirSync(SHOTS, { recursive: true });
  const demo = await builtDemo();
  t.after(demo.close);
  await tour(demo, 1280, 900);
  await tour(demo, 360, 740);
  t.diagnostic(`screenshots in ${SHOTS}/`);
});
