import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWatchFrame, positionAt, type PlaybackState } from '../../src/protocol/index.js';

test('positionAt: a paused group stays put; a playing one advances at its rate from its server time', () => {
  const state: PlaybackState = { paused: false, position: 10, rate: 1.5, at: 1_000, seq: 1 };
  assert.equal(positionAt(state, 3_000), 13);
  assert.equal(positionAt({ ...state, paused: true }, 3_000), 10);
});

test('parseWatchFrame accepts each frame kind and refuses wrong types, ranges and ids with bad_frame', () => {
  const sid = 'AAAAAAAAAAAAAAAAAAAAAA';
  assert.deepEqual(parseWatchFrame(JSON.stringify({ type: 'control', sid, action: 'seek', position: 5, rate: 1, paused: true, at: 1, extra: 'dropped' })), {
    type: 'control',
    sid,
    action: 'seek',
    position: 5,
    rate: 1,
    paused: true,
    at: 1,
  });
  assert.deepEqual(parseWatchFrame(JSON.stringify({ type: 'join', rid: 'r', resume: { pid: 'p', key: 'k' } })), { type: 'join', rid: 'r', resume: { pid: 'p', key: 'k' } });
  const bad = [
    '',
    'null',
    '"join"',
    JSON.stringify({ type: 'control', sid, action: 'seek', position: -1, rate: 1, paused: true, at: 1 }),
    JSON.stringify({ type: 'control', sid, action: 'seek', position: 1, rate: 100, paused: true, at: 1 }),
    JSON.stringify({ type: 'control', sid, action: 'seek', position: Number.MAX_VALUE, rate: 1, paused: true, at: 1 }),
    JSON.stringify({ type: 'control', sid: 'x/../y', action: 'play', position: 1, rate: 1, paused: true, at: 1 }),
    JSON.stringify({ type: 'join', rid: 'r', name: 'x'.repeat(65) }),
    JSON.stringify({ type: 'join', rid: 'r', control: 'everyone' }),
    JSON.stringify({ type: 'join', rid: 'r', resume: 'pid' }),
    JSON.stringify({ type: 'signal', sid, to: 'p' }),
    JSON.stringify({ type: 'signal', sid, to: 'p', data: 'x'.repeat(20_000) }),
    JSON.stringify({ type: 'media', sid, audio: 'yes', video: false, screen: false }),
    JSON.stringify({ type: 'answer', iid: 'i', accept: 1 }),
    JSON.stringify({ type: 'time', t0: 'now' }),
    JSON.stringify({ type: '__proto__' }),
  ];
  for (const text of bad)
    assert.throws(
      () => parseWatchFrame(text),
      (e: { code?: string }) => e.code === 'bad_frame',
      text.slice(0, 80),
    );
});
