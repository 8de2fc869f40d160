import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, VidgetError, frameRef, parseClientFrame, parseConnectParams, parseInterval } from '../../src/protocol/index.js';

const badFrame = (text: string, pattern: RegExp) =>
  assert.throws(
    () => parseClientFrame(text),
    (e: unknown) => e instanceof VidgetError && e.code === ErrorCode.BadFrame && pattern.test(e.message),
  );

describe('parseClientFrame', () => {
  test('reads publish and search frames', () => {
    assert.deepEqual(parseClientFrame('{"type":"pub","cid":"a1","data":{"x":1}}'), { type: 'pub', cid: 'a1', data: { x: 1 }, persist: false });
    assert.deepEqual(parseClientFrame('{"type":"pub","cid":"a1","data":null,"persist":true}'), { type: 'pub', cid: 'a1', data: null, persist: true });
    assert.equal(parseClientFrame('{"type":"search","rid":"r1","query":{}}').type, 'search');
  });

  test('rejects non-JSON, non-objects and unknown types with bad_frame', () => {
    badFrame('hello', /not JSON/);
    badFrame('[1,2]', /object/);
    badFrame('"pub"', /object/);
    badFrame('{"type":"remove","cid":"a"}', /unknown frame type/);
    badFrame('{"type":"delete","rid":"a"}', /delete.id/);
    badFrame('{"type":"refresh"}', /refresh.token/);
    badFrame('{}', /unknown frame type/);
  });

  test('rejects missing or mistyped fields', () => {
    badFrame('{"type":"pub","data":1}', /cid/);
    badFrame('{"type":"pub","cid":"a b","data":1}', /cid/);
    badFrame(`{"type":"pub","cid":"${'a'.repeat(65)}","data":1}`, /cid/);
    badFrame('{"type":"pub","cid":"a"}', /data is missing/);
    badFrame('{"type":"pub","cid":"a","data":1,"persist":"yes"}', /persist/);
    badFrame('{"type":"search","query":{}}', /rid/);
  });

  test('rejects data nested deeper than 32 levels', () => {
    badFrame(`{"type":"pub","cid":"a","data":${'['.repeat(40)}${']'.repeat(40)}}`, /deeper/);
    assert.ok(parseClientFrame(`{"type":"pub","cid":"a","data":${'['.repeat(31)}${']'.repeat(31)}}`));
  });

  test('keeps __proto__ as plain data, never as a prototype', () => {
    const frame = parseClientFrame('{"type":"pub","cid":"a","data":{"__proto__":{"polluted":true}}}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(frame.type === 'pub' && Object.hasOwn(frame.data as object, '__proto__'), true);
  });

  test('frameRef names the cid or rid of a rejected frame where it can', () => {
    assert.deepEqual(frameRef('{"type":"pub","cid":"c9","data":1,"persist":3}'), { cid: 'c9' });
    assert.deepEqual(frameRef('{"rid":"r2"}'), { rid: 'r2' });
    assert.deepEqual(frameRef('garbage'), {});
  });
});

describe('parseInterval', () => {
  test('reads s, m and h', () => {
    assert.equal(parseInterval('30s'), 30_000);
    assert.equal(parseInterval('15m'), 900_000);
    assert.equal(parseInterval('6h'), 21_600_000);
  });
  test('rejects other units, fractions and more than 30 days', () => {
    for (const bad of ['30', '1d', '1.5h', '-1m', 'h', '721h', ' 5m']) assert.throws(() => parseInterval(bad), VidgetError);
  });
});

describe('parseConnectParams', () => {
  test('reads the partysocket _pk and the resume cursor', () => {
    assert.deepEqual(parseConnectParams(new URLSearchParams('_pk=abc-1&since=42&epoch=e1&catchup=5m&token=t')), {
      clientId: 'abc-1',
      since: 42,
      epoch: 'e1',
      catchupMs: 300_000,
      token: 't',
    });
  });
  test('rejects a missing or malformed client id, since or catchup', () => {
    for (const q of ['', '_pk=', '_pk=a/b', '_pk=a&since=-1', '_pk=a&since=1e3', '_pk=a&catchup=forever', '_pk=a&epoch=x%20y']) {
      assert.throws(() => parseConnectParams(new URLSearchParams(q)), VidgetError, q);
    }
  });
});
