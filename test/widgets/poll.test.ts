import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtPage, widgetEl } from '../helpers/built-page.js';
import { TestClient } from '../server/helpers.js';

const PAGE = `
  <vidget-player project="demo">
    <video src="/clip.webm" muted></video>
    <script type="application/json">
      [{ "id": "color-poll", "type": "poll", "position": "top-left", "props": { "question": "Best colour?", "options": ["Red", "Blue", "Green"] } }]
    </script>
  </vidget-player>`;

/** The poll's shadow root in the page (player → widget wrapper → <vidget-poll>). */
const POLL_EL = widgetEl('poll');
const POLL = `${POLL_EL}?.shadowRoot`;
const labels = (page: Page) => page.evaluate(`[...${POLL}.querySelectorAll('button')].map((b) => b.getAttribute('aria-label'))`) as Promise<string[]>;
const waitLabels = (page: Page, expected: string[]) =>
  page.waitForFunction(`JSON.stringify([...${POLL}.querySelectorAll('button')].map((b) => b.getAttribute('aria-label'))) === ${JSON.stringify(JSON.stringify(expected))}`, null, { timeout: 10_000 });
const vote = (page: Page, option: string) => page.evaluate(`[...${POLL}.querySelectorAll('button')].find((b) => b.textContent.includes(${JSON.stringify(option)})).click()`);

test("poll: two viewers see each other's votes live; a changed vote moves, it never counts twice", async (t) => {
  const { server, browser, close } = await builtPage(PAGE);
  t.after(close);
  // Two browser contexts: two IndexedDBs, so two distinct viewers (client ids).
  const [a, b] = await Promise.all([browser.newContext(), browser.newContext()].map(async (c) => (await c).newPage()));
  await Promise.all([a!, b!].map((p) => p.goto(`${server.url}/index.html`)));
  for (const page of [a!, b!]) await page.waitForFunction(`!!${POLL}?.querySelector('button')`, null, { timeout: 10_000 });
  assert.deepEqual(await labels(b!), ['Red', 'Blue', 'Green'], 'no results before voting');

  await vote(a!, 'Red');
  await waitLabels(a!, ['Red: 100%, 1 vote', 'Blue: 0%, 0 votes', 'Green: 0%, 0 votes']);
  await vote(b!, 'Blue');
  await waitLabels(b!, ['Red: 50%, 1 vote', 'Blue: 50%, 1 vote', 'Green: 0%, 0 votes']);
  await waitLabels(a!, ['Red: 50%, 1 vote', 'Blue: 50%, 1 vote', 'Green: 0%, 0 votes']);

  await vote(a!, 'Blue'); // a changes its mind
  await waitLabels(b!, ['Red: 0%, 0 votes', 'Blue: 100%, 2 votes', 'Green: 0%, 0 votes']);
  assert.match((await a!.evaluate(`${POLL}.querySelector('[role=status]').textContent`)) as string, /Your vote: Blue/);

  // A reload keeps the viewer's vote (same client id from IndexedDB) and counts nothing new.
  await a!.reload();
  await a!.waitForFunction(`/Your vote: Blue/.test(${POLL}?.querySelector('[role=status]')?.textContent ?? '')`, null, { timeout: 10_000 });
  await waitLabels(a!, ['Red: 0%, 0 votes', 'Blue: 100%, 2 votes', 'Green: 0%, 0 votes']);
});

test('poll: a vote cast while the server is down shows as waiting, then counts once when it is back', async (t) => {
  const page = await builtPage(PAGE);
  t.after(page.close);
  const [a, b] = await page.viewers(2);
  for (const p of [a!, b!]) await p.waitForFunction(`${POLL_EL}?.socket?.state === 'running'`, null, { timeout: 10_000 });
  await page.stop();
  await a!.waitForFunction(`${POLL_EL}.socket.state === 'reconnecting'`, null, { timeout: 10_000 });
  await vote(a!, 'Green');
  await a!.waitForFunction(`/Your vote: Green \\(waiting for the connection\\)/.test(${POLL}.querySelector('[role=status]').textContent)`, null, { timeout: 5_000 });

  await page.start();
  await waitLabels(a!, ['Red: 0%, 0 votes', 'Blue: 0%, 0 votes', 'Green: 100%, 1 vote']);
  await a!.waitForFunction(`${POLL}.querySelector('[role=status]').textContent === 'Your vote: Green'`, null, { timeout: 10_000 });
  await vote(b!, 'Red');
  await waitLabels(b!, ['Red: 50%, 1 vote', 'Blue: 0%, 0 votes', 'Green: 50%, 1 vote']);
  // Stored once: every record in the room, not just each client's latest.
  const reader = await TestClient.joined(page.server, 'demo', 'color-poll');
  const result = await reader.search({ limit: 100 });
  assert.equal(result.type, 'result');
  assert.deepEqual(
    (result as { records: { data: unknown }[] }).records.map((r) => r.data),
    [{ option: 'Green' }, { option: 'Red' }],
  );
  reader.ws.close();
});
