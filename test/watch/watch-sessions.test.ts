import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { BuiltPage } from '../helpers/built-page.js';
import { token } from '../server/helpers.js';
import { command, playerReady, read, wait, waitFor, watchPage, wt } from './watch-helpers.js';

let site: BuiltPage;
let pages: Page[];

before(async () => {
  site = await watchPage({ watch: { inviteTtlMs: 4_000 } });
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

const events = (page: Page) => read<Array<{ type: string; name?: string; pstate?: string; state?: string }>>(page, 'events');

test('in Chromium: a dropped connection comes back into the same place by itself; the others see it reconnecting, never leaving', async () => {
  const [ann, bob] = await site.viewers(2);
  await Promise.all([ann!, bob!].map(playerReady));
  const { sid } = await wt<{ sid: string }>(ann!, 'join', { displayName: 'Ann' });
  const { pid } = await wt<{ pid: string }>(bob!, 'join', { sessionId: sid, displayName: 'Bob' });
  await waitFor(ann!, "events.some((e) => e.type === 'participantjoined' && e.name === 'Bob')");
  assert.equal(await wt(bob!, 'dropConnection'), 1);
  await waitFor(ann!, "events.some((e) => e.type === 'participantchange' && e.name === 'Bob' && e.pstate === 'reconnecting')");
  await waitFor(ann!, "events.some((e) => e.type === 'participantchange' && e.name === 'Bob' && e.pstate === 'connected')");
  assert.equal(await read(bob!, 'session.participantId'), pid, 'the same participant');
  assert.deepEqual(
    (await events(bob!)).filter((e) => e.type === 'statechange').map((e) => e.state),
    ['reconnecting', 'running'],
  );
  assert.deepEqual(await read(bob!, 'hooks'), ['disconnected', 'connected']);
  assert.equal((await events(ann!)).filter((e) => e.type === 'participantleft').length, 0, 'never seen leaving');
  assert.deepEqual(
    (await wt<Array<{ name: string; state: string }>>(ann!, 'participants')).map((p) => `${p.name}:${p.state}`),
    ['Ann:connected', 'Bob:connected'],
  );
});

test('in Chromium: a hidden page without a call pauses its connection (the others see it reconnecting) and resumes when shown', async () => {
  const [ann, bob] = await site.viewers(2);
  await Promise.all([ann!, bob!].map(playerReady));
  const { sid } = await wt<{ sid: string }>(ann!, 'join', { displayName: 'Ann' });
  await wt(bob!, 'join', { sessionId: sid, displayName: 'Bob', backgroundPauseMs: 100 });
  await wt(bob!, 'setVisibility', 'hidden');
  await waitFor(bob!, "session.state === 'paused'");
  await waitFor(ann!, "events.some((e) => e.type === 'participantchange' && e.name === 'Bob' && e.pstate === 'reconnecting')");
  await wt(bob!, 'setVisibility', 'visible');
  await waitFor(bob!, "session.state === 'running'");
  await waitFor(ann!, "events.some((e) => e.type === 'participantchange' && e.name === 'Bob' && e.pstate === 'connected')");
  assert.deepEqual(
    (await events(bob!)).filter((e) => e.type === 'statechange').map((e) => e.state),
    ['paused', 'reconnecting', 'running'],
  );
});

test('in Chromium: an invitation reaches the invited user’s page (incomingInvite); accepted joins, declined and expired are told to the inviter', async () => {
  const [ann, bob] = await site.viewers(2);
  await Promise.all([ann!, bob!].map(playerReady));
  for (const [page, sub] of [
    [ann!, 'ann'],
    [bob!, 'bob'],
  ] as const) {
    await page.evaluate((t) => document.querySelector('vidget-player')!.setAttribute('token', t), token('demo', sub, { name: sub === 'ann' ? 'Ann' : 'Bob' }));
  }
  await wt(bob!, 'listen');
  const { sid } = await wt<{ sid: string }>(ann!, 'join', {});
  type Inviter = { wt: { answer?: Promise<string>; session: { invite(u: string): Promise<string> } } };
  // Not awaited in the page: the answer comes later, read by answer().
  const invite = () =>
    ann!.evaluate(() => {
      const w = (window as unknown as Inviter).wt;
      w.answer = w.session.invite('bob');
    });
  const answer = () => ann!.evaluate(() => (window as unknown as { wt: { answer: Promise<string> } }).wt.answer);

  await invite();
  await waitFor(bob!, 'invitations.length === 1');
  assert.deepEqual(await read(bob!, 'invitations.map((i) => ({ from: i.from, sessionId: i.sessionId, state: i.state }))[0]'), {
    from: { userId: 'ann', name: 'Ann' },
    sessionId: sid,
    state: 'pending',
  });
  await bob!.evaluate(() =>
    (window as unknown as { wt: { invitations: Array<{ accept(): Promise<unknown> }>; watch(s: unknown): void } }).wt.invitations[0]!.accept().then((s) =>
      (window as unknown as { wt: { watch(s: unknown): void } }).wt.watch(s),
    ),
  );
  assert.equal(await answer(), 'accepted');
  await waitFor(ann!, "events.some((e) => e.type === 'participantjoined' && e.name === 'Bob')");

  await invite();
  await waitFor(bob!, 'invitations.length === 2');
  await bob!.evaluate(() => (window as unknown as { wt: { invitations: Array<{ decline(): void }> } }).wt.invitations[1]!.decline());
  assert.equal(await answer(), 'declined');

  await invite();
  await waitFor(bob!, 'invitations.length === 3');
  assert.equal(await answer(), 'expired');
  await waitFor(bob!, "invitations[2].answeredAs === 'expired'");
  const late = await bob!.evaluate(() =>
    (window as unknown as { wt: { invitations: Array<{ accept(): Promise<unknown> }> } }).wt.invitations[2]!.accept().then(
      () => 'joined',
      (e: { code: string }) => e.code,
    ),
  );
  assert.equal(late, 'invite_expired');
});

test('in Chromium: in a host-controlled session another participant’s pause is undone and reported forbidden; the host’s applies everywhere', async () => {
  const [host, guest] = await site.viewers(2);
  await Promise.all([host!, guest!].map(playerReady));
  const { sid } = await wt<{ sid: string }>(host!, 'join', { control: 'host' });
  await wt(guest!, 'join', { sessionId: sid });
  await command(host!, [guest!], 'play');
  await wt(guest!, 'act', 'pause');
  await waitFor(guest!, "events.some((e) => e.type === 'error' && e.code === 'forbidden')");
  await waitFor(guest!, 'videoState().paused === false');
  assert.equal((await wt<{ paused: boolean }>(host!, 'videoState')).paused, false, 'the group never paused');
  await command(host!, [guest!], 'pause');
});
