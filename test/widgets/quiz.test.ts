import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtPage, widgetEl } from '../helpers/built-page.js';
import { TestClient } from '../server/helpers.js';

const QUESTIONS = [
  { question: 'First bar?', options: ['White', 'Black'], answer: 0 },
  { question: 'How many bars?', options: ['5', '7'], answer: '7' },
  { question: 'Last bar?', options: ['Blue', 'Red'], answer: 'Blue' },
];
const PAGE = `
  <vidget-player project="demo">
    <video src="/clip.webm" muted></video>
    <script type="application/json">
      [{ "id": "trivia", "type": "quiz", "position": "top-right", "props": { "title": "Colour quiz", "questions": ${JSON.stringify(QUESTIONS)} } }]
    </script>
  </vidget-player>`;
const QUIZ = widgetEl('quiz');
const ROOT = `${QUIZ}?.shadowRoot`;

/** Answers every question, picking the option `choose(i)` for question i, then finishes. */
async function takeQuiz(page: Page, choose: (i: number) => string): Promise<void> {
  for (let i = 0; i < QUESTIONS.length; i++) {
    await page.waitForFunction(`${ROOT}?.querySelector('h3')?.textContent.startsWith('${i + 1}/')`, null, { timeout: 10_000 });
    await page.evaluate(`[...${ROOT}.querySelectorAll('.options button')].find((b) => b.textContent === ${JSON.stringify(choose(i))}).click()`);
    await page.evaluate(`${QUIZ}.updateComplete.then(() => ${ROOT}.querySelector('button.next').click())`);
  }
}
/** The board as [rank, score, mine] rows, once it has `n` rows. */
async function board(page: Page, n: number): Promise<[number, number, boolean][]> {
  await page.waitForFunction(`${ROOT}?.querySelectorAll('ol li').length === ${n}`, null, { timeout: 10_000 });
  return page.evaluate(`[...${ROOT}.querySelectorAll('ol li')].map((li) => [parseInt(li.children[0].textContent), Number(li.children[2].textContent), li.classList.contains('mine')])`) as Promise<
    [number, number, boolean][]
  >;
}

test('quiz: the leaderboard orders the top 10 by score, ranks ties together, and highlights the viewer', async (t) => {
  const page = await builtPage(PAGE);
  t.after(page.close);
  // Eleven earlier players; one of them improved (0, then 2): only the latest score counts.
  const seeds = [2, 2, 1, 1, 1, 1, 1, 1, 1, 1];
  const players = await Promise.all(seeds.map(() => TestClient.joined(page.server, 'demo', 'trivia')));
  await Promise.all(players.map((p, i) => p.publish({ score: seeds[i]!, of: 3 })));
  const changer = await TestClient.joined(page.server, 'demo', 'trivia');
  await changer.publish({ score: 0, of: 3 });
  await changer.publish({ score: 2, of: 3 });

  const [a, b] = await page.viewers(2);
  await takeQuiz(a!, (i) => (QUESTIONS[i]!.answer === 0 ? 'White' : String(QUESTIONS[i]!.answer))); // all right: 3
  const expectedA = [[1, 3, true], [2, 2, false], [2, 2, false], [2, 2, false], ...Array.from({ length: 6 }, () => [5, 1, false])];
  await a!.waitForFunction(`/rank 1 of 12/.test(${ROOT}.textContent)`, null, { timeout: 10_000 });
  assert.deepEqual(await board(a!, 10), expectedA);

  await takeQuiz(b!, (i) => ['Black', '5', 'Red'][i]!); // all wrong: 0, 13th of 13, outside the top 10
  await b!.waitForFunction(`/Your score: 0 · rank 13 of 13/.test(${ROOT}.textContent)`, null, { timeout: 10_000 });
  const boardB = await board(b!, 10);
  assert.deepEqual(
    boardB,
    expectedA.map(([rank, score]) => [rank, score, false]),
    'b is not on the board, and nothing is highlighted',
  );
  // a's board is live: b joined the count.
  await a!.waitForFunction(`/rank 1 of 13/.test(${ROOT}.textContent)`, null, { timeout: 10_000 });

  // A reload shows the finished viewer their score and the board, not the questions again.
  await b!.reload();
  await b!.waitForFunction(`/Your score: 0 · rank 13 of 13/.test(${ROOT}?.textContent ?? '')`, null, { timeout: 10_000 });
  assert.equal(await b!.evaluate(`${ROOT}.querySelector('.options')`), null);
  for (const p of [...players, changer]) p.ws.close();
});

const LOOP_PAGE = `
  <vidget-player project="demo">
    <video src="/clip.webm" muted loop></video>
    <script type="application/json">
      [{ "id": "loop-quiz", "type": "quiz", "start": 0.5, "end": 11.5, "position": "top-right", "pauseOnShow": true, "props": { "title": "Colour quiz", "questions": ${JSON.stringify(QUESTIONS)} } }]
    </script>
  </vidget-player>`;
const API = `document.querySelector('vidget-player').playerApi`;

test('quiz: progress survives the video looping (the quiz leaves and comes back, pausing the video again) and a reload', async (t) => {
  const page = await builtPage(LOOP_PAGE);
  t.after(page.close);
  const [a] = await page.viewers(1);
  const p = a!;
  await p.waitForFunction(`${API} && document.querySelector('video').readyState >= 1`, null, { timeout: 10_000 });
  await p.evaluate(`(() => { window.shows = []; ${API}.on('widgetShow', () => shows.push(${API}.currentTime)); ${API}.on('widgetDestroy', () => shows.push('left')); ${API}.seek(1); })()`);
  await p.waitForFunction(`${ROOT}?.querySelector('h3')?.textContent.startsWith('1/')`, null, { timeout: 10_000 });
  await p.evaluate(`[...${ROOT}.querySelectorAll('.options button')].find((b) => b.textContent === 'White').click()`);
  await p.evaluate(`${QUIZ}.updateComplete.then(() => ${ROOT}.querySelector('button.next').click())`);
  await p.waitForFunction(`${ROOT}.querySelector('h3').textContent.startsWith('2/')`);

  // Play through the end: the quiz leaves at 11.5 s, the video loops, the quiz is back at 0.5 s.
  await p.evaluate(`(async () => { shows.length = 0; ${API}.seek(11.2); await ${API}.play(); })()`);
  await p.waitForFunction(`shows.length === 2 && ${API}.paused`, null, { timeout: 15_000 });
  const [left, shownAt] = (await p.evaluate('shows')) as [string, number];
  assert.equal(left, 'left');
  assert.ok(shownAt >= 0.45 && shownAt < 1, `shown again at ${shownAt} s`);
  assert.ok(((await p.evaluate(`${API}.currentTime`)) as number) < 1, 'pauseOnShow paused the video where the quiz came back');
  await p.waitForFunction(`${ROOT}?.querySelector('h3')?.textContent.startsWith('2/3')`, null, { timeout: 10_000 });
  assert.match((await p.evaluate(`${ROOT}.querySelector('h3').textContent`)) as string, /^2\/3\. How many bars\?/);

  // A reload resumes there too (the progress is kept in IndexedDB).
  await p.reload();
  await p.waitForFunction(`${API} && document.querySelector('video').readyState >= 1`, null, { timeout: 10_000 });
  await p.evaluate(`${API}.seek(1)`);
  await p.waitForFunction(`${ROOT}?.querySelector('h3')?.textContent.startsWith('2/3')`, null, { timeout: 10_000 });
});
