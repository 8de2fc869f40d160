import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Timeline, type Cue } from '../../src/host/timeline.js';

type Named = Cue & { id: string };
const cue = (id: string, start: number, end: number): Named => ({ id, start, end });
const ids = (cues: Named[]) => cues.map((c) => c.id).sort();

describe('Timeline', () => {
  test('shows a cue while start <= t < end, across play and seeks', () => {
    const tl = new Timeline<Named>();
    const a = cue('a', 2, 5);
    tl.add(a);
    assert.deepEqual(ids(tl.seek(0).entered), []);
    assert.deepEqual(ids(tl.seek(2).entered), ['a'], 'enters exactly at start');
    assert.deepEqual(ids(tl.seek(4.99).entered), []);
    assert.deepEqual(ids(tl.seek(5).exited), ['a'], 'leaves exactly at end');
    assert.deepEqual(ids(tl.seek(3).entered), ['a'], 'seeking back into it');
    assert.deepEqual(ids(tl.seek(1).exited), ['a'], 'seeking back before it');
  });

  test("seeking across a cue's whole range does not flash it", () => {
    const tl = new Timeline<Named>();
    tl.add(cue('short', 10, 11));
    tl.seek(0);
    const forward = tl.seek(20);
    assert.deepEqual([forward.entered.length, forward.exited.length], [0, 0]);
    const back = tl.seek(5);
    assert.deepEqual([back.entered.length, back.exited.length], [0, 0]);
  });

  test('agrees with a full scan at every step of random walks over random cues', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const cues = Array.from({ length: 300 }, (_, i) => {
      const start = Math.floor(rand() * 100) / 2;
      return cue(`c${i}`, start, start + Math.floor(rand() * 20) / 2 + 0.5);
    });
    const tl = new Timeline<Named>();
    for (const c of cues) tl.add(c);
    for (let step = 0; step < 2000; step++) {
      const t = step % 7 === 0 ? Math.floor(rand() * 120) / 2 : Math.floor(rand() * 60);
      tl.seek(t);
      const expected = cues
        .filter((c) => c.start <= t && t < c.end)
        .map((c) => c.id)
        .sort();
      assert.deepEqual([...tl.current].map((c) => c.id).sort(), expected, `at t=${t}`);
    }
  });

  test('a move visits only cues with an endpoint in the range (O(log n + changes), not a scan)', () => {
    const tl = new Timeline<Named>();
    const cues = Array.from({ length: 1000 }, (_, i) => cue(`c${i}`, i, i + 1));
    let visited = 0;
    for (const c of cues) {
      tl.add(new Proxy(c, { get: (target, key) => ((key === 'start' || key === 'end') && visited++, Reflect.get(target, key)) }));
    }
    tl.seek(500.5);
    visited = 0;
    tl.seek(500.6); // inside the same cue: nothing can change
    assert.ok(visited < 60, `visited ${visited} endpoints for a move inside one cue of 1000`);
    visited = 0;
    const change = tl.seek(501.5); // one exits, one enters
    assert.equal(change.entered.length + change.exited.length, 2);
    assert.ok(visited < 80, `visited ${visited} endpoints for a one-cue move among 1000`);
  });

  test('cues added or removed at any time report their effect at the current playhead', () => {
    const tl = new Timeline<Named>();
    tl.seek(5);
    const late = cue('late', 4, 6);
    assert.deepEqual(ids(tl.add(late).entered), ['late']);
    assert.deepEqual(ids(tl.add(cue('later', 7, 8)).entered), []);
    assert.deepEqual(ids(tl.remove(late).exited), ['late']);
    assert.equal(tl.size, 1);
  });
});
