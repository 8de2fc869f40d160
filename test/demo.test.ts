import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtDemo, widgetEl, type BuiltPage } from './helpers/built-page.js';
import { TestClient } from './server/helpers.js';

/** Where the screenshots go; look at them after `npm test` (kept out of git). */
const SHOTS = join('test-results', 'demo-screenshots');
const WIDGET_SHOTS = join('test-results', 'widget-screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PLAYER = `document.querySelector('vidget-player')`;
const WIDGETS = `[...${PLAYER}.shadowRoot.querySelectorAll('.vidget-widget')]`;
/** Chromium's native controls, by their pseudo ids in the video's user-agent shadow root. */
const CONTROLS = [
  '-webkit-media-controls-play-button',
  '-webkit-media-controls-current-time-display',
  '-webkit-media-controls-mute-button',
  '-webkit-media-controls-fullscreen-button',
  '-internal-media-controls-overflow-button',
  '-webkit-media-controls-timeline',
];
const BAR = ['-internal-media-controls-button-panel', '-webkit-media-controls-timeline'];

interface Box {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  below?: boolean;
}
interface Entry {
  id: string;
  start?: number;
  end?: number;
  position?: string;
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1;
const SIDEBAR = new Set(['toc', 'comments']);

/** The demo's widget list, as the page has it. */
const configOf = (page: Page) => page.evaluate(`JSON.parse(${PLAYER}.querySelector('script[type="application/json"]').textContent)`) as Promise<Entry[]>;
const activeAt = (entries: Entry[], t: number) =>
  entries
    .filter((e) => (e.start ?? 0) <= t && t < (e.end ?? Infinity))
    .map((e) => e.id)
    .sort();

/**
 * Pauses at `t` and waits for exactly the widgets of the config's ranges to be mounted and
 * rendered: each one on screen, or, collapsed on a narrow player, its chip.
 */
async function at(page: Page, entries: Entry[], t: number): Promise<string[]> {
  const ids = activeAt(entries, t);
  await page.evaluate(`(async () => { const api = ${PLAYER}.playerApi; api.pause(); api.seek(${t}); })()`);
  const want = JSON.stringify(ids);
  await page.waitForFunction(`JSON.stringify(${WIDGETS}.map((w) => w.dataset.widgetId).sort()) === ${JSON.stringify(want)}`, null, { timeout: 10_000 }).catch(async (e) => {
    throw new Error(`${e.message}: on screen ${await page.evaluate(`${WIDGETS}.map((w) => w.dataset.widgetId)`)}, want ${want}`);
  });
  // Lit widgets have rendered; function widgets render at once.
  await page.evaluate(`Promise.all(${WIDGETS}.map((w) => w.shadowRoot.firstElementChild?.updateComplete))`);
  await page.waitForFunction(
    `${WIDGETS}.every((w) => w.getBoundingClientRect().height > 0 || ${PLAYER}.shadowRoot.querySelector('.vidget-chip[data-for="' + w.dataset.widgetId + '"]').getBoundingClientRect().height > 0)`,
    null,
    { timeout: 5_000 },
  );
  return ids;
}

/** What covers the video: every widget shown, and every chip shown (a collapsed widget). */
const boxes = (page: Page) =>
  page.evaluate(`[...${PLAYER}.shadowRoot.querySelectorAll('.vidget-widget, .vidget-chip')].flatMap((el) => {
    const r = el.getBoundingClientRect();
    if (r.height === 0) return [];
    const id = el.dataset.widgetId ?? 'chip:' + el.dataset.for;
    return [{ id, x: r.x, y: r.y, width: r.width, height: r.height, below: !!el.closest('.aside') }];
  })`) as Promise<Box[]>;
const videoBox = (page: Page) =>
  page.evaluate(`(() => { const r = document.querySelector('video').getBoundingClientRect(); return { id: 'video', x: r.x, y: r.y, width: r.width, height: r.height }; })()`) as Promise<Box>;

/** Boxes of Chromium's native controls (through its user-agent shadow root, by DevTools). */
async function nativeControls(page: Page, names: string[]): Promise<Box[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const found: Box[] = [];
    type Node = { nodeId: number; attributes?: string[]; children?: Node[]; shadowRoots?: Node[] };
    const walk = async (node: Node): Promise<void> => {
      const attrs = node.attributes ?? [];
      const pseudo = attrs[attrs.indexOf('pseudo') + 1];
      if (attrs.includes('pseudo') && pseudo && names.includes(pseudo)) {
        // The overflow menu holds copies of some buttons that are not laid out: no box.
        const model = await cdp.send('DOM.getBoxModel', { nodeId: node.nodeId }).catch(() => undefined);
        const q = model?.model.border;
        if (q && q[4]! - q[0]! > 0) found.push({ id: pseudo, x: q[0]!, y: q[1]!, width: q[4]! - q[0]!, height: q[5]! - q[1]! });
      }
      for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) await walk(child);
    };
    await walk(root as Node);
    return found;
  } finally {
    await cdp.detach();
  }
}

/**
 * The native controls are never covered: the band is reserved while they show (paused here),
 * no widget or chip intersects the control bar, and a hit test at the centre of each control,
 * through every shadow root on the way, lands on the video.
 */
async function assertControlsFree(page: Page, label: string): Promise<void> {
  assert.equal(await page.evaluate(`${PLAYER}.hasAttribute('controls-shown')`), true, `${label}: the band is reserved while paused`);
  const bar = await nativeControls(page, BAR);
  assert.equal(bar.length, 2, `${label}: Chromium's control bar found: ${JSON.stringify(bar)}`);
  const top = Math.min(...bar.map((b) => b.y));
  const bottom = Math.max(...bar.map((b) => b.y + b.height));
  const barBox: Box = { id: 'control bar', x: bar[0]!.x, y: top, width: bar[0]!.width, height: bottom - top };
  assert.ok(barBox.height >= 70, `${label}: the bar is Chromium's 72 px: ${JSON.stringify(barBox)}`);
  for (const box of await boxes(page)) assert.ok(!overlaps(box, barBox), `${label}: ${box.id} covers the control bar ${JSON.stringify([box, barBox])}`);
  const controls = await nativeControls(page, CONTROLS);
  assert.ok(controls.length >= 5, `${label}: controls found: ${controls.map((c) => c.id)}`);
  for (const c of controls) {
    const [x, y] = [c.x + c.width / 2, c.y + c.height / 2];
    const hit = await page.evaluate(`(() => {
      let el = document.elementFromPoint(${x}, ${y});
      while (el?.shadowRoot) { const inner = el.shadowRoot.elementFromPoint(${x}, ${y}); if (!inner || inner === el) break; el = inner; }
      return el === document.querySelector('video') ? 'video' : (el?.closest?.('[data-widget-id]')?.dataset.widgetId ?? el?.tagName ?? 'nothing');
    })()`);
    assert.equal(hit, 'video', `${label}: ${c.id} at (${x}, ${y}) is hit-testable`);
  }
}

/**
 * Layout rules: nothing covers anything else; overlay widgets stay on the video; sidebar ones are
 * over its right 30% (wide) or below it (narrow); each region keeps config order, its cards
 * share one width, and right-hand regions hug the right edge of their area.
 */
async function assertLayout(page: Page, entries: Entry[], width: number, label: string): Promise<void> {
  const all = await boxes(page);
  const video = await videoBox(page);
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) assert.ok(!overlaps(all[i]!, all[j]!), `${label}: ${all[i]!.id} overlaps ${all[j]!.id}: ${JSON.stringify([all[i], all[j]])}`);
  // On a narrow player the sidebar and every opened chip's card go below the video.
  const opened = (await page.evaluate(
    `[...${PLAYER}.shadowRoot.querySelectorAll('.vidget-chip[aria-expanded=true]')].filter((c) => c.getBoundingClientRect().height > 0).map((c) => c.dataset.for)`,
  )) as string[];
  for (const box of all) {
    const below = SIDEBAR.has(box.id) || opened.includes(box.id);
    assert.equal(box.below, below, `${label}: ${box.id} is ${below ? '' : 'not '}in the sidebar`);
    if (below) {
      if (width <= 480) assert.ok(box.y >= video.y + video.height - 1, `${label}: on a narrow player ${box.id} goes below the video`);
      else assert.ok(box.x >= video.x + video.width * 0.69 && box.y >= video.y - 1 && box.y + box.height <= video.y + video.height + 1, `${label}: ${box.id} is in the sidebar over the video`);
      continue;
    }
    assert.ok(
      box.x >= video.x - 1 && box.y >= video.y - 1 && box.x + box.width <= video.x + video.width + 1 && box.y + box.height <= video.y + video.height + 1,
      `${label}: ${box.id} leaves the video ${JSON.stringify([box, video])}`,
    );
  }
  const order = entries.map((e) => e.id);
  const regions = (await page.evaluate(`(() => {
    const overlay = ${PLAYER}.shadowRoot.querySelector('.overlay');
    const style = getComputedStyle(overlay);
    const area = overlay.getBoundingClientRect().right - parseFloat(style.paddingRight);
    return [...${PLAYER}.shadowRoot.querySelectorAll('.region')].map((r) => ({
      cls: r.className, area,
      widgets: [...r.querySelectorAll(':scope > .vidget-widget')].filter((w) => w.getBoundingClientRect().height > 0).map((w) => { const b = w.getBoundingClientRect(); return { id: w.dataset.widgetId, y: b.y, width: b.width, right: b.right }; }),
    })).filter((r) => r.widgets.length > 0);
  })()`)) as Array<{ cls: string; area: number; widgets: Array<{ id: string; y: number; width: number; right: number }> }>;
  for (const region of regions) {
    const ids = region.widgets.map((w) => w.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
      `${label}: ${region.cls} keeps config order`,
    );
    for (let i = 1; i < region.widgets.length; i++) {
      assert.ok(region.widgets[i]!.y > region.widgets[i - 1]!.y, `${label}: ${region.cls} shows ${ids[i - 1]} above ${ids[i]}`);
      assert.ok(Math.abs(region.widgets[i]!.width - region.widgets[0]!.width) <= 1, `${label}: the cards of ${region.cls} share one width: ${JSON.stringify(region.widgets)}`);
    }
    if (/pos-(top|bottom)-right/.test(region.cls))
      for (const w of region.widgets) assert.ok(Math.abs(w.right - region.area) <= 1, `${label}: ${w.id} hugs the right edge (${w.right} vs ${region.area})`);
  }
}

/** The share of the video's picture that no widget or chip covers (sampled every 2 px). */
const visibleFraction = (page: Page) =>
  page.evaluate(`(() => {
    const v = document.querySelector('video').getBoundingClientRect();
    const covers = [...${PLAYER}.shadowRoot.querySelectorAll('.vidget-widget, .vidget-chip')].map((el) => el.getBoundingClientRect()).filter((r) => r.height > 0);
    let seen = 0, total = 0;
    for (let y = v.top + 1; y < v.bottom; y += 2) for (let x = v.left + 1; x < v.right; x += 2) {
      total++;
      if (!covers.some((r) => x >= r.left && x < r.right && y >= r.top && y < r.bottom)) seen++;
    }
    return seen / total;
  })()`) as Promise<number>;

/** axe-core over each widget on screen (inside its shadow roots): no WCAG 2.1 A/AA violations. */
async function assertAccessible(page: Page, label: string): Promise<void> {
  if (await page.evaluate("typeof axe === 'undefined'")) await page.addScriptTag({ path: AXE });
  const ids = (await page.evaluate(`${WIDGETS}.filter((w) => w.getBoundingClientRect().height > 0).map((w) => w.dataset.widgetId)`)) as string[];
  for (const id of ids) {
    const result =
      (await page.evaluate(`axe.run({ fromShadowDom: ['vidget-player', '.vidget-widget[data-widget-id="${id}"]'] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((r) => ({ passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary) })) }))`)) as {
        passes: number;
        violations: unknown[];
      };
    assert.deepEqual(result.violations, [], `${label}: accessibility of ${id}`);
    // Plain text (the note, the count) has no WCAG rule to pass; widgets with controls do.
    if (id !== 'welcome' && id !== 'watching') assert.ok(result.passes > 0, `${label}: axe checked something in ${id}`);
  }
  // The chips (narrow players): real buttons, named, with their state.
  const chips = (await page.evaluate(
    `[...${PLAYER}.shadowRoot.querySelectorAll('.vidget-chip')].filter((c) => c.getBoundingClientRect().height > 0).map((c) => [c.tagName, c.textContent, c.getAttribute('aria-expanded'), c.getBoundingClientRect().height])`,
  )) as [string, string, string, number][];
  for (const [tag, text, expanded, height] of chips) {
    assert.equal(tag, 'BUTTON');
    assert.ok(text.trim().length > 0 && (expanded === 'true' || expanded === 'false') && height >= 24, `${label}: chip ${text} is a named toggle of at least 24 px`);
  }
}

/** A screenshot of each widget on screen; on a narrow player, each chip collapsed and opened. */
async function shootWidgets(page: Page, width: number, label: string): Promise<void> {
  const ids = (await page.evaluate(`${WIDGETS}.map((w) => w.dataset.widgetId)`)) as string[];
  for (const id of ids) {
    const wrapper = page.locator(`vidget-player .vidget-widget[data-widget-id="${id}"]`);
    const chip = page.locator(`vidget-player .vidget-chip[data-for="${id}"]`);
    if (await chip.isVisible()) {
      const shown = `${PLAYER}.shadowRoot.querySelector('.vidget-widget[data-widget-id="${id}"]').getBoundingClientRect().height > 0`;
      const wasOpen = (await chip.getAttribute('aria-expanded')) === 'true';
      const toggle = async (open: boolean) => {
        await chip.click();
        await page.waitForFunction(open ? shown : `!(${shown})`);
      };
      if (wasOpen) await toggle(false);
      await chip.screenshot({ path: join(WIDGET_SHOTS, `${width}px-${label}-${id}-chip.png`) });
      await toggle(true);
      const player = (await page.evaluate(`(() => { const r = ${PLAYER}.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`)) as {
        x: number;
        y: number;
        width: number;
        height: number;
      };
      await page.screenshot({ path: join(WIDGET_SHOTS, `${width}px-${label}-${id}-open-in-player.png`), clip: player });
      await wrapper.screenshot({ path: join(WIDGET_SHOTS, `${width}px-${label}-${id}-open.png`) });
      if (!wasOpen) await toggle(false);
    } else {
      await wrapper.screenshot({ path: join(WIDGET_SHOTS, `${width}px-${label}-${id}.png`) });
    }
  }
}

async function tour(demo: BuiltPage, width: number, height: number, t: { diagnostic(message: string): void }): Promise<void> {
  const [page] = await demo.viewers(1, { width, height });
  const p = page!;
  await p.waitForFunction(`${PLAYER}?.playerApi && document.querySelector('video').readyState >= 1`, null, { timeout: 10_000 });
  const entries = await configOf(p);
  const shot = (name: string) => p.screenshot({ path: join(SHOTS, `${width}px-${name}.png`), fullPage: true });
  const check = async (moment: string) => {
    await assertLayout(p, entries, width, `${width}px at ${moment}`);
    await assertControlsFree(p, `${width}px at ${moment}`);
    await assertAccessible(p, `${width}px at ${moment}`);
  };

  await at(p, entries, 1);
  await check('1 s');
  await shot('welcome');
  await shootWidgets(p, width, '1s');

  await at(p, entries, 3);
  // Something in them: a vote and a comment, as a viewer would leave (a chip opened first on a narrow player).
  const openChip = (id: string) =>
    p.evaluate(
      `(() => { const c = ${PLAYER}.shadowRoot.querySelector('.vidget-chip[data-for="${id}"]'); if (c.getBoundingClientRect().height > 0 && c.getAttribute('aria-expanded') === 'false') c.click(); })()`,
    );
  await openChip('colour');
  await p.evaluate(`${widgetEl('poll', 'colour')}.shadowRoot.querySelector('button').click()`);
  const chat = widgetEl('chat', 'comments');
  await p.evaluate(
    `(async () => { const c = ${chat}; const input = c.shadowRoot.querySelector('input'); input.value = 'Hello from ${width}px'; input.dispatchEvent(new Event('input')); await c.updateComplete; c.shadowRoot.querySelector('form button').click(); })()`,
  );
  await p.waitForFunction(`[...${chat}.shadowRoot.querySelectorAll('ol li:not(.pending)')].some((li) => li.textContent.includes('Hello from ${width}px'))`, null, { timeout: 10_000 });
  await p.waitForFunction(`/Your vote: Red$/.test(${widgetEl('poll', 'colour')}.shadowRoot.querySelector('[role=status]').textContent)`, null, { timeout: 10_000 });
  await check('3 s');
  await shot('poll');
  await shootWidgets(p, width, '3s');

  await at(p, entries, 7);
  await check('7 s');
  await shot('quiz');
  await shootWidgets(p, width, '7s');

  await at(p, entries, 10.5);
  await check('10.5 s');
  await shot('hotspot');
  await shootWidgets(p, width, '10.5s');

  if (width <= 480) {
    // At least half of the picture stays visible at every moment of the demo: each half second
    // of the clip (widgets change only at 0, 2, 6 and 10 s), with the widgets as they come.
    let least = 1;
    for (let time = 0; time < 12; time += 0.5) {
      await at(p, entries, time);
      const seen = await visibleFraction(p);
      assert.ok(seen >= 0.5, `${width}px at ${time} s: ${Math.round(seen * 100)}% of the picture visible`);
      least = Math.min(least, seen);
    }
    t.diagnostic(`${width}px: at least ${Math.round(least * 100)}% of the picture visible at every moment`);
  }
  await p.context().close();
}

test('demo: every widget on screen at 1280 and 390 px wide, controls never covered, config order, half the picture visible on a phone, axe-core clean', async (t) => {
  for (const dir of [SHOTS, WIDGET_SHOTS]) {
    rmSync(dir, { recursive: true, force: true }); // no stale pictures from an earlier run
    mkdirSync(dir, { recursive: true });
  }
  const demo = await builtDemo({ devTokens: true });
  t.after(demo.close);
  await tour(demo, 1280, 900, t);
  await tour(demo, 390, 844, t);
  t.diagnostic(`screenshots in ${SHOTS}/ and ${WIDGET_SHOTS}/`);
});

test('demo: no request fails on load (favicon included); emoji are drawn in colour', async (t) => {
  const demo = await builtDemo();
  t.after(demo.close);
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  const failed: string[] = [];
  page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
  await page.goto(`${demo.server.url}/index.html`);
  await page.waitForFunction(`${widgetEl('reactions', 'react')}?.shadowRoot?.querySelector('button')`, null, { timeout: 10_000 });
  assert.deepEqual(failed, []);
  const icon = await fetch(`${demo.server.url}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get('content-type'), 'image/x-icon');
  // The reactions' font, drawn on a canvas: a colour emoji font paints coloured pixels, a
  // monochrome one or a missing glyph box paints grey.
  const coloured = (await page.evaluate(`(() => {
    const button = ${widgetEl('reactions', 'react')}.shadowRoot.querySelector('button');
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64;
    const ctx = canvas.getContext('2d');
    ctx.font = '40px ' + getComputedStyle(button).fontFamily;
    ctx.textBaseline = 'top';
    ctx.fillText(button.textContent.trim(), 4, 4);
    const d = ctx.getImageData(0, 0, 64, 64).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 128 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
    return { n, family: getComputedStyle(button).fontFamily };
  })()`)) as { n: number; family: string };
  assert.match(coloured.family, /Noto Color Emoji/);
  assert.ok(coloured.n > 50, `the emoji is drawn in colour (${coloured.n} coloured pixels)`);
  await context.close();
});

test('demo: "Sign in as moderator" gets a dev token: the name shows verified and the moderator can pin and hide', async (t) => {
  const demo = await builtDemo({ devTokens: true });
  t.after(demo.close);
  const [page] = await demo.viewers(1, { width: 1280, height: 900 });
  const p = page!;
  const chat = widgetEl('chat', 'comments');
  const nameLine = `${chat}?.shadowRoot?.querySelector('vidget-name-line')?.shadowRoot`;
  await p.waitForFunction(`/^Viewer \\w{4}$/.test(${nameLine}?.querySelector('strong')?.textContent) && ${nameLine}.querySelector('button').textContent === 'Set your name'`, null, {
    timeout: 10_000,
  });
  await p.click('#sign-in');
  await p.waitForFunction(`${nameLine}?.querySelector('strong')?.textContent === 'host✓'`, null, { timeout: 10_000 });
  assert.equal(await p.evaluate(`${nameLine}.querySelector('button')`), null, 'a verified name is not changed here');
  await p.waitForFunction(`!!${chat}?.shadowRoot?.querySelector('label.pin input')`, null, { timeout: 10_000 });
  await p.evaluate(
    `(async () => { const c = ${chat}; c.shadowRoot.querySelector('label.pin input').click(); const input = c.shadowRoot.querySelector('form input'); input.value = 'Welcome, all'; input.dispatchEvent(new Event('input')); await c.updateComplete; c.shadowRoot.querySelector('form button').click(); })()`,
  );
  await p.waitForFunction(`${chat}.shadowRoot.querySelector('.pinned')?.textContent.includes('Welcome, all')`, null, { timeout: 10_000 });
  assert.match((await p.evaluate(`${chat}.shadowRoot.querySelector('.pinned .name').textContent`)) as string, /host✓/);
  assert.match((await p.textContent('#account')) ?? '', /Signed in as host/);
  // And can take a viewer's message down from the chat itself.
  const viewer = await TestClient.joined(demo.server, 'demo', 'comments');
  await viewer.publish({ text: 'buy cheap pills' });
  const line = `[...${chat}.shadowRoot.querySelectorAll('ol.messages li')].find((li) => li.querySelector('.text').textContent === 'buy cheap pills')`;
  await p.waitForFunction(`!!${line}?.querySelector('button.hide')`, null, { timeout: 10_000 });
  await p.evaluate(`${line}.querySelector('button.hide').click()`);
  await viewer.next((f) => f.type === 'deleted');
  await p.waitForFunction(`!${line}`, null, { timeout: 10_000 });
  viewer.ws.close();
  mkdirSync(WIDGET_SHOTS, { recursive: true });
  await p.locator('vidget-player .vidget-widget[data-widget-id="comments"]').screenshot({ path: join(WIDGET_SHOTS, '1280px-moderator-comments.png') });
});
