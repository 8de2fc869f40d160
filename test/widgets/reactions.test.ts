import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtPage, widgetEl } from '../helpers/built-page.js';

const PAGE = `
  <vidget-player project="demo">
    <video src="/clip.webm" muted></video>
    <script type="application/json">
      [{ "id": "react", "type": "reactions", "position": "bottom-right", "props": { "emojis": ["👍", "🎉"], "perSecond": 3 } }]
    </script>
  </vidget-player>`;
const EL = widgetEl('reactions');
const count = (page: Page, what: 'shown' | 'received') => page.evaluate(`${EL}.${what}`) as Promise<number>;
/** Waits until `page` has processed `n` reactions from others (messages arrive in order). */
const received = (page: Page, n: number) => page.waitForFunction(`${EL}?.received >= ${n}`, null, { timeout: 10_000 });

test("reactions: one viewer's reaction floats on the other's screen; a burst is rate limited on both sides", async (t) => {
  const { server, browser, close } = await builtPage(PAGE);
  t.after(close);
  const [a, b] = await Promise.all([browser.newContext(), browser.newContext()].map(async (c) => (await c).newPage()));
  await Promise.all([a!, b!].map((p) => p.goto(`${server.url}/index.html`)));
  // Both widgets connected (their socket is internal; the test waits on it to avoid a race).
  for (const page of [a!, b!]) await page.waitForFunction(`${EL}?.socket?.state === 'running'`, null, { timeout: 10_000 });

  await a!.evaluate(`${EL}.shadowRoot.querySelector('button[aria-label="React with 🎉"]').click()`);
  await received(b!, 1);
  assert.equal(await count(b!, 'shown'), 1);
  assert.equal(await b!.evaluate(`${EL}.shadowRoot.querySelector('.float').textContent`), '🎉');

  // Both sides' buckets full again first: the receiver's for A starts at A's first reaction's
  // arrival, not its click, so right after it the two can differ by the message's latency.
  await a!.waitForFunction(`${EL}.bucket.full`);
  await b!.waitForFunction(`[...${EL}.senders.values()].every((bucket) => bucket.full)`);
  // Ten clicks at once: the sender lets at most its burst of 3 through.
  await a!.evaluate(`for (let i = 0; i < 10; i++) ${EL}.shadowRoot.querySelector('button').click()`);
  await a!.waitForFunction(`/Slow down/.test(${EL}.shadowRoot.querySelector('[role=status]').textContent)`);
  const sentByA = (await count(a!, 'shown')) - 1;
  assert.ok(sentByA >= 1 && sentByA <= 3, `the sender let ${sentByA} of 10 clicks through`);
  await received(b!, 1 + sentByA);
  assert.equal(await count(b!, 'shown'), 1 + sentByA);

  // A client that bypasses the widget's own limit and floods the room is limited where shown.
  const shownBefore = await count(b!, 'shown');
  await a!.evaluate(`(() => { const s = ${EL}.socket; for (let i = 0; i < 30; i++) s.publish({ emoji: '👍' }).catch(() => {}); })()`);
  await received(b!, 1 + sentByA + 30);
  assert.ok((await count(b!, 'shown')) - shownBefore <= 3, 'at most a burst of 3 from one sender is shown');
  // Anything outside the widget's emoji list is never shown, whatever the sender's budget.
  const before = await count(b!, 'shown');
  await a!.evaluate(`${EL}.socket.publish({ emoji: '<img src=x onerror=alert(1)>' })`);
  await received(b!, 1 + sentByA + 31);
  assert.equal(await count(b!, 'shown'), before);
});
