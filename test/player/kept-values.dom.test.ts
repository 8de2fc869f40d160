import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeptValues } from '../../src/player/kept-values.js';

let n = 0;
const key = () => ['state', 'kept-test', `video${n++}`];

describe('KeptValues', () => {
  test('keeps values while the page is open; set returns the previous value', async () => {
    const kept = new KeptValues(key());
    await kept.ready;
    assert.equal(kept.set('a', 1), undefined);
    assert.equal(kept.set('a', 2), 1);
    kept.set('b', { deep: [true] });
    assert.deepEqual(kept.all(), { a: 2, b: { deep: [true] } });
    assert.equal(kept.get('missing'), undefined);
  });

  test('persistent values survive a new instance (a reload); the others do not', async () => {
    const k = key();
    const first = new KeptValues(k);
    await first.ready;
    first.set('page', 'only');
    first.set('visits', 1, true);
    first.set('visits', 2, true);
    first.set('step', 3, true);
    const second = new KeptValues(k);
    await second.ready;
    assert.deepEqual(second.all(), { visits: 2, step: 3 });
  });

  test('a value set before the stored ones are loaded wins over the stored one', async () => {
    const k = key();
    const first = new KeptValues(k);
    await first.ready;
    first.set('x', 'stored', true);
    const second = new KeptValues(k);
    second.set('x', 'newer');
    await second.ready;
    assert.equal(second.get('x'), 'newer');
  });
});
