import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { parseProjects } from '../../../src/server/index.js';
import { startServer, token } from '../helpers.js';
import { WatchTestClient } from './watch-test-client.js';

test('a session is made with an unguessable id, joined by id, and erased when its last participant leaves: its id is then refused', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const ann = await WatchTestClient.connect(server);
  const bob = await WatchTestClient.connect(server);
  const made = await ann.joined({ name: 'Ann' });
  assert.match(made.sid, /^[A-Za-z0-9_-]{22}$/, '128 random bits, base64url');
  assert.equal(made.host, made.pid, 'the creator is host');
  const joined = await bob.joined({ sid: made.sid, name: 'Bob' });
  assert.deepEqual(
    joined.participants.map((p) => p.name),
    ['Ann', 'Bob'],
  );
  const seen = await ann.next('participant');
  assert.equal(seen.participant.name, 'Bob');
  bob.send({ type: 'leave', sid: made.sid });
  assert.equal((await ann.next('left')).pid, joined.pid);
  ann.send({ type: 'leave', sid: made.sid });
  const again = await bob.join({ sid: made.sid });
  assert.equal(again.type, 'err');
  assert.equal(again.type === 'err' && again.code, 'session_not_found');
  const forged = await bob.join({ sid: 'AAAAAAAAAAAAAAAAAAAAAA' });
  assert.equal(forged.type === 'err' && forged.code, 'session_not_found');
});

test("another project's session id is not found, and a page outside a session cannot control, signal into or invite from it", async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const ann = await WatchTestClient.connect(server, 'site-a');
  const eve = await WatchTestClient.connect(server, 'site-b');
  const mallory = await WatchTestClient.connect(server, 'site-a');
  const { sid, pid } = await ann.joined();
  const other = await eve.join({ sid });
  assert.equal(other.type === 'err' && other.code, 'session_not_found');
  mallory.send({ type: 'control', sid, action: 'seek', position: 50, rate: 1, paused: false, at: Date.now() });
  assert.equal((await mallory.next('err')).code, 'forbidden');
  mallory.send({ type: 'signal', sid, to: pid, data: { sdp: 'x' } });
  assert.equal((await mallory.next('err')).code, 'forbidden');
  mallory.send({ type: 'invite', rid: 'i1', sid, to: 'someone' });
  assert.equal((await mallory.next('err')).code, 'forbidden');
  // Signalling to someone who is not in the session is refused too.
  ann.send({ type: 'signal', sid, to: 'nobody-here', data: {} });
  assert.equal((await ann.next('err')).code, 'forbidden');
  assert.equal(ann.unreadOf('playback').length, 0, 'the group was not moved');
  for (const bad of ['{', '[]', JSON.stringify({ type: 'control', sid, action: 'jump' }), JSON.stringify({ type: 'join', rid: 'x', sid: '../../etc' }), JSON.stringify({ type: 'nope' })]) {
    mallory.send(bad);
    assert.equal((await mallory.next('err')).code, 'bad_frame', bad);
  }
  mallory.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal((await mallory.next('err')).code, 'bad_frame');
});

test('a playback command reaches every participant, the sender included as its reference, with the group state and server time', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => WatchTestClient.connect(server)));
  const { sid, pid } = await a!.joined();
  await b!.joined({ sid });
  await c!.joined({ sid });
  a!.send({ type: 'control', sid, action: 'play', position: 3.5, rate: 1.25, paused: true, at: Date.now() - 10 });
  for (const client of [a!, b!, c!]) {
    const frame = await client.next('playback');
    assert.equal(frame.by, pid);
    assert.deepEqual({ ...frame.playback, at: 0 }, { paused: false, position: 3.5, rate: 1.25, at: 0, seq: 1 });
  }
  // A late joiner gets the group state.
  const late = await WatchTestClient.connect(server);
  const joined = await late.joined({ sid });
  assert.equal(joined.playback.seq, 1);
  assert.equal(joined.playback.paused, false);
  // A command claiming a time far in the past or the future is clamped to the last 2 s.
  const before = Date.now();
  b!.send({ type: 'control', sid, action: 'pause', position: 4, rate: 1.25, paused: false, at: 0 });
  const paused = await a!.next('playback');
  assert.ok(paused.playback.at >= before - 2_100 && paused.playback.at <= Date.now() + 5, `at ${paused.playback.at - before}`);
  assert.equal(paused.playback.paused, true);
});

test('a seek flood from one page is cut at its control rate: the rest get rate_limited and never reach the group', async (t) => {
  const server = await startServer({ watch: { controlRate: { perSecond: 2, burst: 4 } } });
  t.after(() => server.close());
  const a = await WatchTestClient.connect(server);
  const b = await WatchTestClient.connect(server);
  const { sid } = await a.joined();
  await b.joined({ sid });
  for (let i = 0; i < 50; i++) a.send({ type: 'control', sid, action: 'seek', position: i, rate: 1, paused: true, at: Date.now() });
  a.send({ type: 'time', t0: 1 });
  await a.next('time');
  const limited = a.frames.filter((f) => f.type === 'err' && f.code === 'rate_limited').length;
  await b.where((f) => f.type === 'playback' && f.playback.seq === 4);
  b.send({ type: 'time', t0: 2 });
  await b.next('time');
  const applied = b.frames.filter((f) => f.type === 'playback').length;
  console.log(`seek flood: 50 sent, ${applied} applied, ${limited} refused rate_limited`);
  assert.ok(applied <= 5, `${applied} applied`);
  assert.equal(applied + limited, 50);
});

test('host control: only the host commands; when the host leaves, the longest-present participant becomes host', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => WatchTestClient.connect(server)));
  const made = await a!.joined({ control: 'host' });
  const sid = made.sid;
  const bj = await b!.joined({ sid });
  await c!.joined({ sid });
  assert.equal(bj.control, 'host');
  b!.send({ type: 'control', sid, action: 'play', position: 0, rate: 1, paused: false, at: Date.now() });
  assert.equal((await b!.next('err')).code, 'forbidden');
  a!.send({ type: 'leave', sid });
  assert.equal((await c!.next('host')).pid, bj.pid);
  b!.send({ type: 'control', sid, action: 'play', position: 0, rate: 1, paused: false, at: Date.now() });
  assert.equal((await c!.next('playback')).by, bj.pid);
});

test('a dropped page shows reconnecting for the grace period, takes its place back with its key, and has left once the grace runs out', async (t) => {
  const server = await startServer({ watch: { graceMs: 400 } });
  t.after(() => server.close());
  const a = await WatchTestClient.connect(server);
  const b = await WatchTestClient.connect(server, 'demo', { _pk: 'bob-browser-secret' });
  const { sid } = await a.joined();
  const bj = await b.joined({ sid });
  assert.equal((await a.next('participant', (f) => f.participant.id === bj.pid)).participant.state, 'connected');
  b.ws.terminate();
  const dropped = await a.next('participant', (f) => f.participant.id === bj.pid);
  assert.equal(dropped.participant.state, 'reconnecting');
  const back = await WatchTestClient.connect(server, 'demo', { _pk: 'bob-browser-secret' });
  // Someone else holding the pid but not the key does not get the place.
  const thief = await WatchTestClient.connect(server);
  const stolen = await thief.joined({ sid, resume: { pid: bj.pid, key: 'A'.repeat(22) } });
  assert.notEqual(stolen.pid, bj.pid);
  const resumed = await back.joined({ sid, resume: { pid: bj.pid, key: bj.key } });
  assert.equal(resumed.pid, bj.pid);
  assert.equal((await a.next('participant', (f) => f.participant.id === bj.pid)).participant.state, 'connected');
  assert.equal(a.unreadOf('left').filter((f) => f.pid === bj.pid).length, 0, 'never seen leaving');
  back.ws.terminate();
  const left = await a.next('left', (f) => f.pid === bj.pid);
  assert.equal(left.reason, 'timeout');
});

test('invitations reach every page of the invited user; accepted and declined are told to the inviter, unanswered ones expire', async (t) => {
  const server = await startServer({ watch: { inviteTtlMs: 300 } });
  t.after(() => server.close());
  const ann = await WatchTestClient.connect(server, 'demo', { token: token('demo', 'ann', { name: 'Ann' }) });
  const bobTab1 = await WatchTestClient.connect(server, 'demo', { token: token('demo', 'bob') });
  const bobTab2 = await WatchTestClient.connect(server, 'demo', { token: token('demo', 'bob') });
  const { sid } = await ann.joined({ name: 'not my token name' });
  ann.send({ type: 'invite', rid: 'i1', sid, to: 'bob' });
  const { iid } = await ann.next('invited');
  for (const tab of [bobTab1, bobTab2]) {
    const invite = await tab.next('invite');
    assert.deepEqual({ iid: invite.iid, sid: invite.sid, from: invite.from }, { iid, sid, from: { uid: 'ann', name: 'Ann' } });
  }
  bobTab1.send({ type: 'answer', iid, accept: true });
  assert.equal((await ann.next('answer')).answer, 'accepted');
  assert.equal((await bobTab2.next('answer')).answer, 'accepted', 'the other tab stops ringing');
  bobTab2.send({ type: 'answer', iid, accept: false });
  assert.equal((await bobTab2.next('err')).code, 'invite_expired');

  ann.send({ type: 'invite', rid: 'i2', sid, to: 'bob' });
  const second = await ann.next('invited');
  bobTab2.send({ type: 'answer', iid: second.iid, accept: false });
  assert.equal((await ann.next('answer', (f) => f.iid === second.iid)).answer, 'declined');

  ann.send({ type: 'invite', rid: 'i3', sid, to: 'bob' });
  const third = await ann.next('invited');
  assert.equal((await ann.next('answer', (f) => f.iid === third.iid)).answer, 'expired');
  assert.equal((await bobTab1.next('answer', (f) => f.iid === third.iid)).answer, 'expired');

  ann.send({ type: 'invite', rid: 'i4', sid, to: 'carol' });
  assert.equal((await ann.next('err')).code, 'not_found', 'nobody of that id is online');
});

test('media flags past the mesh limit are refused with mesh_full; that participant stays in, without media', async (t) => {
  const server = await startServer({ watch: { meshLimit: 2 } });
  t.after(() => server.close());
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => WatchTestClient.connect(server)));
  const { sid } = await a!.joined();
  await b!.joined({ sid });
  const cj = await c!.joined({ sid });
  a!.send({ type: 'media', sid, audio: true, video: true, screen: false });
  b!.send({ type: 'media', sid, audio: true, video: false, screen: false });
  await c!.where((f) => f.type === 'participant' && f.participant.audio && !f.participant.video);
  c!.send({ type: 'media', sid, audio: true, video: false, screen: false });
  const refused = await c!.next('err');
  assert.equal(refused.code, 'mesh_full');
  c!.send({ type: 'control', sid, action: 'pause', position: 1, rate: 1, paused: true, at: Date.now() });
  assert.equal((await c!.next('playback')).by, cj.pid, 'still in the session');
});

test('the clock probe is answered with the server time', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const a = await WatchTestClient.connect(server);
  const t0 = performance.timeOrigin + performance.now();
  a.send({ type: 'time', t0 });
  const answer = await a.next('time');
  const t1 = performance.timeOrigin + performance.now();
  assert.equal(answer.t0, t0);
  assert.ok(answer.now >= t0 - 1 && answer.now <= t1 + 1, 'same machine: within the round trip');
});

test("hello hands pages the project's ICE servers (else the server's), and a bad ICE list in a project config is refused naming the field", async (t) => {
  const turn = { urls: ['turn:turn.example.com:3478'], username: 'u', credential: 'c' };
  const server = await startServer({
    projects: (id) => ({ id, anonymous: ['read'], ...(id === 'with-turn' ? { iceServers: [turn] } : {}) }),
    watch: { iceServers: [{ urls: 'stun:stun.example.com' }] },
  });
  t.after(() => server.close());
  const a = await WatchTestClient.connect(server, 'with-turn');
  assert.deepEqual(a.frames[0]!.type === 'hello' && a.frames[0]!.iceServers, [turn]);
  const b = await WatchTestClient.connect(server, 'plain');
  assert.deepEqual(b.frames[0]!.type === 'hello' && b.frames[0]!.iceServers, [{ urls: 'stun:stun.example.com' }]);
  assert.throws(() => parseProjects({ projects: [{ id: 'x', iceServers: [{ urls: 'http://evil' }] }] }), /projects\[0\]\.iceServers\[0\]\.urls/);
});

test('one page cannot pile up sessions or invitations: past 4 sessions and 10 waiting invitations it gets rate_limited', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const spammer = await WatchTestClient.connect(server);
  const victim = await WatchTestClient.connect(server, 'demo', { token: token('demo', 'victim') });
  const sids: string[] = [];
  for (let i = 0; i < 4; i++) sids.push((await spammer.joined()).sid);
  const fifth = await spammer.join();
  assert.equal(fifth.type === 'err' && fifth.code, 'rate_limited');
  for (let i = 0; i < 12; i++) spammer.send({ type: 'invite', rid: `i${i}`, sid: sids[0], to: 'victim' });
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => spammer.where((f) => (f.type === 'invited' || f.type === 'err') && f.rid === `i${i}`)));
  assert.equal(answers.filter((f) => f.type === 'invited').length, 10);
  assert.equal(answers.filter((f) => f.type === 'err' && f.code === 'rate_limited').length, 2);
  victim.send({ type: 'time', t0: 0 });
  await victim.next('time');
  assert.equal(victim.frames.filter((f) => f.type === 'invite').length, 10);
  // Leaving one makes room for another.
  spammer.send({ type: 'leave', sid: sids[0] });
  assert.equal((await spammer.join()).type, 'joined');
});

test('the watch endpoint refuses as the rooms do: no _pk 4000, an unknown project 4003, a tampered token 4001, another path 404', async (t) => {
  const server = await startServer({ projects: (id) => (id === 'demo' ? { id, secret: 'test-secret-0123456789', anonymous: ['read'] } : undefined) });
  t.after(() => server.close());
  const closeOf = async (path: string) => {
    const ws = new WebSocket(`${server.wsUrl}${path}`);
    return new Promise<number | string>((resolve) => {
      ws.on('close', (code) => resolve(code));
      ws.on('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
      ws.on('error', () => {});
    });
  };
  assert.equal(await closeOf('/watch/demo'), 4000);
  assert.equal(await closeOf('/watch/nope?_pk=abc'), 4003);
  assert.equal(await closeOf(`/watch/demo?_pk=abc&token=${token('demo', 'x')}x`), 4001);
  assert.equal(await closeOf('/watch/demo/extra?_pk=abc'), 'HTTP 404');
  // The server is still serving.
  assert.ok((await WatchTestClient.connect(server)).uid);
});
