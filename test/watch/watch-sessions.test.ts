import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { BuiltPage } from '../helpers/built-page.js';
import { playerReady, read, wait, waitFor, watchPage, wt } from './watch-helpers.js';

let site: BuiltPage;
let pages: Page[];

before(async () => {
  site = await watchPage();
  pages = await site.viewers(3);
  await Promise.all(pages.map(playerReady));
});
after(() => site.close());

test('in Chromium: create, join, leave and erase, with DOM events and hooks; the erased id is refused with session_not_found', async () => {
  const [ann, bob, cat] = pages as [Page, Page, Page];
  const made = await wt<{ sid: string; pid: string }>(ann, 'join', { displayName: 'Ann' });
  assert.match(made.sid, /^[A-Za-z0-9_-]{22}$/);
  await wt(bob, 'join', { sessionId: made.sid, displayName: 'Bob' });
  await waitFor(ann, "events.some((e) => e.type === 'participantjoined' && e.name === 'Bob')");
  // Hooks set once watchTogether() resolved (connected by then): the join is the first they see.
  assert.deepEqual(await read(ann, 'hooks'), ['joined:Bob']);
  assert.equal(await read(ann, 'session.state'), 'running');
  assert.deepEqual(await wt(bob, 'participants'), [
    { name: 'Ann', local: false, state: 'connected', audioEnabled: false, videoEnabled: false, speaking: false },
    { name: 'Bob', local: true, state: 'connected', audioEnabled: false, videoEnabled: false, speaking: false },
  ]);
  await bob.evaluate(() => (window as unknown as { wt: { session: { leave(): void } } }).wt.session.leave());
  await waitFor(ann, "events.some((e) => e.type === 'participantleft' && e.name === 'Bob')");
  assert.ok((await read<string[]>(ann, 'hooks')).includes('left:Bob'));
  assert.equal(await read(bob, 'session.state'), 'stopped');
  assert.deepEqual(
    (await read<Array<{ type: string; state: string }>>(bob, 'events')).filter((e) => e.type === 'statechange').map((e) => e.state),
    ['stopped'],
  );
  await ann.evaluate(() => (window as unknown as { wt: { session: { leave(): void } } }).wt.session.leave());
  // The last one out erased it: joining its id again is refused, from anyone.
  await wait(async () => (await wt(cat, 'tryJoin', { sessionId: made.sid })) === 'VidgetError:session_not_found', 'the erased id refused');
  assert.equal(await wt(cat, 'tryJoin', { sessionId: 'forgedforgedforgedforg' }), 'VidgetError:session_not_found');
});
