// Data from the room is never markup: records carrying HTML/JS payloads are shown by every
// built-in widget as text, and nothing in them runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtPage, widgetEl } from '../helpers/built-page.js';
import { TestClient } from '../server/helpers.js';

const PAYLOADS = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '<svg onload="window.__pwned = \'svg\'"></svg>',
  '"><iframe src="javascript:parent.__pwned=\'iframe\'"></iframe>',
  '${window.__pwned = "template"}',
  'javascript:window.__pwned = "url"',
];
const PAGE = `
  <script>window.__pwned = undefined; addEventListener('securitypolicyviolation', () => {});</script>
  <vidget-player project="demo">
    <video src="/clip.webm" muted></video>
    <script type="application/json">
      [{ "id": "c", "type": "chat", "position": "sidebar", "props": { "moderators": ["mod"] } },
       { "id": "q", "type": "quiz", "position": "top-left", "props": { "questions": [] } },
       { "id": "p", "type": "poll", "position": "bottom-left", "props": { "question": "Q", "options": ["A", "B"], "resultsAt": 0 } },
       { "id": "r", "type": "reactions", "position": "bottom-right" }]
    </script>
  </vidget-player>`;

test('HTML and JS in records are shown as text by chat, quiz and poll, dropped by reactions, and never run', async (t) => {
  const page = await builtPage(PAGE);
  t.after(page.close);
  // Another viewer fills the rooms with payloads first.
  const rooms = Object.fromEntries(await Promise.all(['c', 'q', 'p', 'r'].map(async (id) => [id, await TestClient.joined(page.server, 'demo', id)] as const)));
  for (const [i, payload] of PAYLOADS.entries()) {
    await rooms.c!.publish({ text: payload, name: payload });
    // One player per name: the leaderboard counts each client's latest score.
    const player = await TestClient.joined(page.server, 'demo', 'q');
    await player.publish({ score: PAYLOADS.length - i, name: payload });
    await player.close();
    await rooms.p!.publish({ option: payload });
  }
  const [viewer] = await page.viewers(1);
  const v = viewer!;
  const root = (id: string, tag: string) => `${widgetEl(tag, id)}?.shadowRoot`;
  await v.waitForFunction(`${root('c', 'chat')}?.querySelectorAll('ol li').length === ${PAYLOADS.length}`, null, { timeout: 10_000 });
  await v.waitForFunction(`${root('q', 'quiz')}?.querySelectorAll('ol li').length === ${PAYLOADS.length}`, null, { timeout: 10_000 });
  await v.waitForFunction(`${root('p', 'poll')}?.querySelectorAll('button').length === 2`, null, { timeout: 10_000 });
  // Live too: payloads that arrive while the page is open.
  for (const payload of PAYLOADS) {
    await rooms.c!.publish({ text: `live ${payload}` });
    await rooms.r!.publish({ emoji: payload }, false);
  }
  await v.waitForFunction(`${root('c', 'chat')}.querySelectorAll('ol li').length === ${PAYLOADS.length * 2}`, null, { timeout: 10_000 });

  const texts = (await v.evaluate(`[...${root('c', 'chat')}.querySelectorAll('ol li .text')].map((e) => e.textContent)`)) as string[];
  assert.deepEqual(texts, [...PAYLOADS, ...PAYLOADS.map((p) => `live ${p}`)], 'chat shows each payload as its text');
  const names = (await v.evaluate(`[...${root('q', 'quiz')}.querySelectorAll('ol li .name')].map((e) => e.textContent)`)) as string[];
  assert.deepEqual(
    names,
    PAYLOADS.map((p) => p.slice(0, 40)),
    'the leaderboard shows names as text (cut at 40 characters)',
  );
  // Nothing was parsed into elements: no script, img, svg or iframe in any widget.
  const widgetsShown = [
    ['c', 'chat'],
    ['q', 'quiz'],
    ['p', 'poll'],
    ['r', 'reactions'],
  ];
  const injected = await v.evaluate(`[${widgetsShown.map(([id, tag]) => `'${id}:' + ${root(id!, tag!)}.querySelectorAll('script, img, svg, iframe').length`).join(', ')}]`);
  assert.deepEqual(injected, ['c:0', 'q:0', 'p:0', 'r:0']);
  // A payload that is not one of the reaction emojis is not shown at all.
  assert.equal(await v.evaluate(`${root('r', 'reactions')}.querySelectorAll('.float').length`), 0);
  // No moderator sent these, so nothing is pinned.
  assert.equal(await v.evaluate(`${root('c', 'chat')}.querySelector('.pinned')`), null);
  assert.equal(await v.evaluate('window.__pwned'), undefined, 'no payload ran');
  for (const c of Object.values(rooms)) await c!.close();
});
