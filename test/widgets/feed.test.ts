// The feed widget ("up next") on real pages of the built bundle: the project's videos, kept live
// from the player's project connection as the site's backend creates, processes and deletes
// them; a click plays the video in that player and its widgets follow the video's config.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtPage, widgetEl } from '../helpers/built-page.js';
import { TEST_API_KEY } from '../server/helpers.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const PAGE = `
  <main style="max-width: 960px; margin: 16px auto; font-family: system-ui">
  <vidget-player project="site">
    <video src="/clip.webm" muted></video>
    <script type="application/json">[{ "id": "next", "type": "feed", "position": "sidebar", "start": 0 }]</script>
  </vidget-player>
  </main>`;
const FEED = widgetEl('feed');
/** The feed's items as text, `|`-joined, with `[x]` for the disabled ones. */
const ITEMS = `[...(${FEED}?.shadowRoot?.querySelectorAll('button') ?? [])].map((b) => (b.disabled ? '[x]' : '') + b.querySelector('.title').textContent + ' ' + (b.querySelector('.badge')?.textContent ?? '')).join('|')`;
const shows = (page: Page, expected: string) =>
  page.waitForFunction(`${ITEMS} === ${JSON.stringify(expected)}`, null, { timeout: 10_000 }).catch(async (error: Error) => {
    throw new Error(`${error.message}; the feed shows ${JSON.stringify(await page.evaluate(ITEMS))}, wanted ${JSON.stringify(expected)}`);
  });

test('feed: created, processed, live and deleted videos show on every page live; a click plays one with its widgets', async (t) => {
  const page = await builtPage(PAGE);
  t.after(page.close);
  const api = (path: string, method: string, body?: unknown) =>
    fetch(`${page.server.url}/api/projects/site/${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  await api('videos', 'POST', { id: 'intro', title: 'Introduction', src: '/clip.webm', status: 'ready', duration: 12 });
  const [a, b] = await page.viewers(2);
  for (const p of [a!, b!]) await shows(p, 'Introduction 0:12');
  await api('videos', 'POST', { id: 'demo2', title: 'Product demo', src: '/clip.webm?v=2', status: 'processing', config: '/demo2-widgets.json' });
  for (const p of [a!, b!]) await shows(p, '[x]Product demo Processing…|Introduction 0:12');
  await api('videos/demo2', 'PATCH', { status: 'ready', duration: 95 });
  for (const p of [a!, b!]) await shows(p, 'Product demo 1:35|Introduction 0:12');
  await api('videos', 'POST', { id: 'town', title: 'Town hall', src: '/clip.webm?v=3', status: 'live' });
  for (const p of [a!, b!]) await shows(p, 'Town hall ● Live now|Product demo 1:35|Introduction 0:12');
  await api('videos/intro', 'DELETE');
  for (const p of [a!, b!]) await shows(p, 'Town hall ● Live now|Product demo 1:35');

  mkdirSync('test-results', { recursive: true });
  await a!.setViewportSize({ width: 1280, height: 800 });
  await a!.screenshot({ path: 'test-results/feed-1280.png' });
  await b!.setViewportSize({ width: 390, height: 844 });
  await b!.screenshot({ path: 'test-results/feed-390.png', fullPage: true });
  for (const p of [a!, b!]) {
    await p.addScriptTag({ path: AXE });
    const found = await p.evaluate(
      `axe.run({ fromShadowDom: ['vidget-player', '.vidget-widget[data-widget-id="next"]'] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => ({ violations: r.violations.map((v) => v.id + ": " + v.nodes.map((n) => (n.any[0]?.message ?? "") + " " + n.html.slice(0, 80)).join("; ")), passes: r.passes.length }))`,
    );
    assert.deepEqual(found, { violations: [], passes: (found as { passes: number }).passes }, 'axe-core: no WCAG 2.1 A/AA violations in the feed');
  }

  // The video's own widget list (served by the page's site; here routed by the browser).
  await a!.route('**/demo2-widgets.json', (route) =>
    route.fulfill({ json: [{ id: 'ch', type: 'chapters', start: 0, position: 'top-left', props: { heading: 'Demo chapters', chapters: [{ title: 'Start', start: 0 }] } }] }),
  );
  await a!.evaluate(`${FEED}.shadowRoot.querySelector('button[data-video="demo2"]').click()`);
  await a!.waitForFunction(`document.querySelector('video').src.endsWith('/clip.webm?v=2')`);
  await a!.waitForFunction(`${widgetEl('chapters')}?.shadowRoot?.textContent.includes('Demo chapters')`, null, { timeout: 10_000 });
  assert.equal(await a!.evaluate(`!!${FEED}`), false, "the feed is not in the new video's list");
  assert.equal(await b!.evaluate(`document.querySelector('video').src.endsWith('/clip.webm')`), true, 'the other page plays on');

  // The server goes away: the feed says so and keeps its list; back, it has what changed meanwhile.
  const NOTE = `${FEED}?.shadowRoot?.querySelector('.conn')?.textContent`;
  await page.stop();
  await b!.waitForFunction(`${NOTE} === 'reconnecting…'`, null, { timeout: 10_000 });
  await shows(b!, 'Town hall ● Live now|Product demo 1:35');
  await page.start();
  await api('videos/town', 'PATCH', { status: 'ended' });
  await shows(b!, 'Town hall Ended|Product demo 1:35');
  await b!.waitForFunction(`${NOTE} === ''`, null, { timeout: 10_000 });
});
