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
  page
    .waitForFunction(`JSON.stringify([...(${ROOT}?.querySelectorAll('ol.messages li:not(.pending) .text') ?? [])].map((e) => e.textContent)) === ${JSON.stringify(JSON.stringify(expected))}`, null, {
      timeout: 10_000,
    })
    .catch(async (e) => {
      throw new Error(`${e.message}; shown: ${JSON.stringify(await texts(page))}`);
    });
const say = (page: Page, text: string) =>
  page
    .evaluate(`(() => { const input = ${ROOT}.querySelector('input'); input.value = ${JSON.stringify(text)}; input.dispatchEvent(new Event('input')); })()`)
    .then(() => page.evaluate(`${CHAT}.updateComplete.then(() => ${ROOT}.querySelector('form button').click())`));

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
  const meta = (await b!.evaluate(`[...${ROOT}.querySelectorAll('ol li')].map((li) => [li.querySelector('.name').textContent, li.querySelector('time').getAttribute('datetime')])`)) as [
    string,
    string,
  ][];
  assert.ok(
    meta.every(([name, time]) => /^Viewer [\w-]{4}$/.test(name) && !Number.isNaN(Date.parse(time))),
    JSON.stringify(meta),
  );

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

  // A viewer cannot pin their own message by sending the flag (the server refuses it without the
  // moderate permission); the moderator "host" (token with moderate) can.
  const room = 'comments';
  const viewer = await TestClient.joined(page.server, 'demo', room);
  viewer.send({ type: 'pub', cid: 'pin1', data: { text: 'pin me please', promoted: true }, persist: true });
  assert.equal((await viewer.next('err', (f) => f.cid === 'pin1')).code, 'forbidden');
  await viewer.publish({ text: 'not pinned' });
  await waitTexts(a!, ['not pinned']);
  assert.equal(await a!.evaluate(`${ROOT}.querySelector('.pinned')`), null);
  const moderator = await TestClient.joined(page.server, 'demo', room, { token: token('demo', 'host', { rooms: { '*': ['read', 'publish', 'search', 'moderate'] } }) });
  await moderator.publish({ text: 'Welcome, everyone', promoted: true });
  await a!.waitForFunction(`${ROOT}.querySelector('.pinned')?.textContent.includes('Welcome, everyone')`, null, { timeout: 10_000 });
  assert.match((await a!.evaluate(`${ROOT}.querySelector('.pinned .name').textContent`)) as string, /host/);
  viewer.ws.close();
  moderator.ws.close();
});

const NAMES_PAGE = `
  <vidget-player project="demo">
    <video src="/clip.webm" muted></video>
    <script type="application/json">
      [{ "id": "talk", "type": "chat", "position": "sidebar", "props": { "moderators": ["host"] } },
       { "id": "strict", "type": "chat", "position": "sidebar", "props": { "title": "Verified only", "anonymousNames": false } },
       { "id": "one", "type": "quiz", "position": "top-left", "props": { "questions": [{ "question": "Two?", "options": ["1", "2"], "answer": 1 }] } }]
    </script>
  </vidget-player>`;
const chatOf = (id: string) => widgetEl('chat', id);
const nameLine = (el: string) => `${el}?.shadowRoot?.querySelector('vidget-name-line')?.shadowRoot`;
const shownName = (page: Page, el: string) => page.evaluate(`${nameLine(el)}?.querySelector('strong')?.textContent`) as Promise<string | undefined>;
const sayIn = (page: Page, el: string, text: string) =>
  page.evaluate(
    `(async () => { const c = ${el}; const input = c.shadowRoot.querySelector('form input'); input.value = ${JSON.stringify(text)}; input.dispatchEvent(new Event('input')); await c.updateComplete; c.shadowRoot.querySelector('form button').click(); })()`,
  );
const senderOf = (page: Page, el: string, text: string) =>
  page
    .waitForFunction(
      `[...(${el}?.shadowRoot?.querySelectorAll('ol.messages li:not(.pending)') ?? [])].find((li) => li.querySelector('.text').textContent === ${JSON.stringify(text)})?.querySelector('.name').textContent`,
      null,
      { timeout: 10_000 },
    )
    .then((h) => h.jsonValue() as Promise<string>);

test('names: set once per project and kept in the browser, used by chat and quiz; none where anonymous names are off; a verified name wins, marked ✓', async (t) => {
  const page = await builtPage(NAMES_PAGE);
  t.after(page.close);
  const [a, b] = await page.viewers(2);
  for (const p of [a!, b!]) await p.waitForFunction(`${chatOf('talk')}?.socket?.state === 'running' && ${chatOf('strict')}?.socket?.state === 'running'`, null, { timeout: 10_000 });
  // Before a name is typed: this browser's anonymous name in the project, the same in every widget.
  const anonymous = (await shownName(a!, chatOf('talk')))!;
  assert.match(anonymous, /^Viewer [\w-]{4}$/);
  await sayIn(a!, chatOf('talk'), 'before a name');
  assert.equal(await senderOf(b!, chatOf('talk'), 'before a name'), anonymous);

  // a sets a name in one chat: every widget of the project uses it.
  await a!.evaluate(`${nameLine(chatOf('talk'))}.querySelector('button').click()`);
  await a!.waitForFunction(`!!${nameLine(chatOf('talk'))}.querySelector('input')`);
  await a!.evaluate(`(() => { const root = ${nameLine(chatOf('talk'))}; root.querySelector('input').value = '  Ann  '; root.querySelector('form button').click(); })()`);
  await a!.waitForFunction(`${nameLine(chatOf('talk'))}.querySelector('strong')?.textContent === 'Ann'`, null, { timeout: 5_000 });
  assert.equal(await a!.evaluate(`${nameLine(chatOf('talk'))}.querySelector('button').textContent`), 'Change name');
  await sayIn(a!, chatOf('talk'), 'hello from ann');
  assert.equal(await senderOf(b!, chatOf('talk'), 'hello from ann'), 'Ann', 'the other viewer sees the typed name, unmarked');
  // Where typed names are off: "Viewer" and the widget's client id, and no way to set a name.
  const strictName = (await shownName(a!, chatOf('strict')))!;
  assert.match(strictName, /^Viewer [\w-]{4}$/);
  assert.equal(await a!.evaluate(`${nameLine(chatOf('strict'))}.querySelector('button')`), null);
  await sayIn(a!, chatOf('strict'), 'strict hello');
  assert.equal(await senderOf(b!, chatOf('strict'), 'strict hello'), strictName);
  // The quiz of the same project: the board shows the name.
  const quiz = widgetEl('quiz', 'one');
  await a!.evaluate(`[...${quiz}.shadowRoot.querySelectorAll('.options button')].find((x) => x.textContent === '2').click()`);
  await a!.evaluate(`${quiz}.updateComplete.then(() => ${quiz}.shadowRoot.querySelector('button.next').click())`);
  await a!.waitForFunction(`${quiz}.shadowRoot.querySelector('li.mine .name')?.textContent === 'Ann (you)'`, null, { timeout: 10_000 });
  assert.equal(await shownName(a!, quiz), 'Ann');

  // Kept in the browser: a reload still knows it (localStorage, per project).
  await a!.reload();
  await a!.waitForFunction(`${nameLine(chatOf('talk'))}?.querySelector('strong')?.textContent === 'Ann'`, null, { timeout: 10_000 });

  // b signs in (a token for "host"): the verified name, marked, not changeable, and it wins over a typed one.
  await b!.evaluate(`localStorage.setItem('vidget:name:demo', 'Bob')`);
  const hostToken = token('demo', 'host');
  await b!.evaluate(`document.querySelector('vidget-player').token = ${JSON.stringify(hostToken)}`);
  await b!.waitForFunction(`${nameLine(chatOf('talk'))}?.querySelector('strong')?.textContent === 'host✓'`, null, { timeout: 10_000 });
  assert.equal(await b!.evaluate(`${nameLine(chatOf('talk'))}.querySelector('button')`), null);
  assert.equal(await b!.evaluate(`${nameLine(chatOf('talk'))}.querySelector('.verified').getAttribute('aria-label')`), '(verified)');
  await sayIn(b!, chatOf('talk'), 'hello from the host');
  assert.equal(await senderOf(a!, chatOf('talk'), 'hello from the host'), 'host✓');
});

test('chat moderation: a moderator hides a message from the chat itself; it disappears live from every open chat, and from a late one', async (t) => {
  const page = await builtPage(PAGE);
  t.after(page.close);
  const [a, b, mod] = await page.viewers(3);
  for (const p of [a!, b!, mod!]) await p.waitForFunction(`${CHAT}?.socket?.state === 'running'`, null, { timeout: 10_000 });
  await say(a!, 'keep this');
  await say(a!, 'rude remark');
  for (const p of [a!, b!, mod!]) await waitTexts(p, ['keep this', 'rude remark']);
  assert.equal(await a!.evaluate(`${ROOT}.querySelectorAll('button.hide').length`), 0, 'viewers get no Hide button');

  // The moderator signs in ("host", listed in `moderators`, with the moderate permission).
  const host = token('demo', 'host', { rooms: { '*': ['read', 'publish', 'search', 'moderate'] } });
  await mod!.evaluate(`document.querySelector('vidget-player').token = ${JSON.stringify(host)}`);
  await mod!.waitForFunction(`${ROOT}?.querySelectorAll('button.hide').length === 2`, null, { timeout: 10_000 });
  await mod!.evaluate(`[...${ROOT}.querySelectorAll('ol.messages li')].find((li) => li.querySelector('.text').textContent === 'rude remark').querySelector('button.hide').click()`);
  for (const p of [a!, b!, mod!]) await waitTexts(p, ['keep this']);
  const [late] = await page.viewers(1);
  await waitTexts(late!, ['keep this']);

  // A viewer who forges the frame is refused by the server: nothing disappears.
  await a!.evaluate(`${CHAT}.socket.remove(1).catch((e) => (window.refused = e.code))`);
  await a!.waitForFunction(`window.refused === 'forbidden'`, null, { timeout: 10_000 });
  await waitTexts(b!, ['keep this']);
});
