import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtPage, widgetEl } from '../helpers/built-page.js';
import { TestClient, token } from '../server/helpers.js';

const PAGE = `
  <vidget-player project="demo">
    <video src="/clip.webm" muted></video>
    <script type="application/json">
      [{ "id": "comments", "type": "chat", "position": "sidebar", "props": { "history": 3, "maxLength": 40, "moderators": ["host"] } }]
    </script>
  </vidget-player>`;
const CHAT = widgetEl('chat');
const ROOT = `${CHAT}?.shadowRoot`;
const texts = (page: Page) => page.evaluate(`[...${ROOT}.querySelectorAll('ol.messages li:not(.pending) .text')].map((e) => e.textContent)`) as Promise<string[]>;
const waitTexts = (page: Page, expected: string[]) =>
  page.waitForFunction(`JSON.stringify([...(${ROOT}?.querySelectorAll('ol.messages li:not(.pending) .text') ?? [])].map((e) => e.textContent)) === ${JSON.stringify(JSON.stringify(expected))}`, null, { timeout: 10_000 }).catch(async (e) => {
    throw new Error(`${e.message}; shown: ${JSON.stringify(await texts(page))}`);
  });
const say = (page: Page, text: string) =>
  page.evaluate(`(() => { const input = ${ROOT}.querySelector('input'); input.value = ${JSON.stringify(text)}; input.dispatchEvent(new Event('input')); })()`).then(() =>
    page.evaluate(`${CHAT}.updateComplete.then(() => ${ROOT}.querySelector('form button').click())`),
  );

const XSS = ['<script>window.__pwned = 1</script>', '<img src=x onerror="window.__pwned = 1">'];

test('chat: messages are live between viewers, a late viewer catches up on the last N, HTML stays text', async (t) => {
  const page = await builtPage(PAGE);
  t.after(page.close);
  const [a, b] = await page.viewers(2);
  for (const p of [a!, b!]) await p.waitForFunction(`${CHAT}?.socket?.state === 'running'`, null, { timeout: 10_000 });

  await say(a!, 'hello from a');
  await waitTexts(b!, ['hello from a']);
  await say(b!, XSS[0]!);
  await say(b!, XSS[1]!);
  for (const p of [a!, b!]) await waitTexts(p, ['hello from a', ...XSS]);
  // Shown as text: no element came from the payloads, and nothing ran.
  for (const p of [a!, b!]) {
    assert.equal(await p.evaluate(`${ROOT}.querySelectorAll('ol script, ol img').length`), 0);
    assert.equal(await p.evaluate('window.__pwned'), undefined);
  }
  // Names and times: the sender's name (no token: "Viewer" + client id) and a <time>.
  const meta = (await b!.evaluate(`[...${ROOT}.querySelectorAll('ol li')].map((li) => [li.querySelector('.name').textContent, li.querySelector('time').getAttribute('datetime')])`)) as [string, string][];
  assert.ok(meta.every(([name, time]) => /^Viewer \w{4}$/.test(name) && !Number.isNaN(Date.parse(time))), JSON.stringify(meta));

  await say(a!, 'fourth');
  // A viewer arriving now gets the last 3 (history) stored messages, in order.
  const [c] = await page.viewers(1);
  await waitTexts(c!, [...XSS, 'fourth']);
  await waitTexts(a!, [...XSS, 'fourth']); // the list keeps the last `history` on screen too
});

test('chat: a message over maxLength is refused with a clear message; pinned only from a moderator', async (t) => {
  const page = await builtPage(PAGE);
  t.after(page.close);
  const [a] = await page.viewers(1);
  await a!.waitForFunction(`${CHAT}?.socket?.state === 'running'`, null, { timeout: 10_000 });

  await say(a!, 'x'.repeat(41));
  assert.match((await a!.evaluate(`${ROOT}.querySelector('[role=status]').textContent`)) as string, /Too long: 41 of at most 40 characters/);
  assert.equal(await a!.evaluate(`${ROOT}.querySelector('form button').disabled`), true);
  assert.equal(await a!.evaluate(`${ROOT}.querySelector('input').getAttribute('aria-invalid')`), 'true');
  assert.deepEqual(await texts(a!), [], 'nothing was sent');

  // A viewer cannot pin their own message by sending the flag; the moderator "host" (token) can.
  const room = 'comments';
  const viewer = await TestClient.joined(page.server, 'demo', room);
  await viewer.publish({ text: 'pin me please', promoted: true });
  await waitTexts(a!, ['pin me please']);
  assert.equal(await a!.evaluate(`${ROOT}.querySelector('.pinned')`), null);
  const moderator = await TestClient.joined(page.server, 'demo', room, { token: token('demo', 'host') });
  await moderator.publish({ text: 'Welcome, everyone', promoted: true });
  await a!.waitForFunction(`${ROOT}.querySelector('.pinned')?.textContent.includes('Welcome, everyone')`, null, { timeout: 10_000 });
  assert.match((await a!.evaluate(`${ROOT}.querySelector('.pinned .name').textContent`)) as string, /host/);
  viewer.ws.close();
  moderator.ws.close();
});
