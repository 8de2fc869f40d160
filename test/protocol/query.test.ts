import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, VidgetError, parseField, validateQuery } from '../../src/protocol/index.js';

const rejects = (query: unknown, pattern: RegExp) =>
  assert.throws(
    () => validateQuery(query),
    (e: unknown) => e instanceof VidgetError && e.code === ErrorCode.BadQuery && pattern.test(e.message),
  );

describe('validateQuery', () => {
  test('fills defaults: sort by id asc, offset 0, limit 10', () => {
    assert.deepEqual(validateQuery({}), { sortField: { kind: 'column', name: 'id' }, sortOrder: 'asc', offset: 0, limit: 10, filters: [], latestPerClient: false });
    assert.equal(validateQuery(undefined).limit, 10);
  });

  test('accepts the Cinema8 documentation example unchanged', () => {
    const q = validateQuery({
      sortField: 'created',
      sortOrder: 'asc',
      offset: 0,
      limit: 10,
      filters: [
        { field: 'created', operator: '>', value: 1678724096803 },
        { field: 'data.score', operator: '>', value: 55 },
      ],
    });
    assert.deepEqual(q.filters[1]!.field, { kind: 'data', path: ['score'] });
  });

  test('rejects limits over 1000 and negative or fractional paging', () => {
    rejects({ limit: 1001 }, /limit/);
    rejects({ limit: -1 }, /limit/);
    rejects({ offset: 1.5 }, /offset/);
    rejects({ limit: '10' }, /limit/);
    assert.equal(validateQuery({ limit: 1000 }).limit, 1000);
    assert.equal(validateQuery({ limit: 0 }).limit, 0);
  });

  test('rejects unknown operators and options', () => {
    rejects({ filters: [{ field: 'id', operator: 'LIKE', value: 1 }] }, /operator/);
    rejects({ filters: [{ field: 'id', operator: '==', value: 1 }] }, /operator/);
    rejects({ where: '1=1' }, /unknown query option/);
    rejects({ sortOrder: 'up' }, /sortOrder/);
  });

  test('rejects field paths outside the grammar, including SQL-looking ones', () => {
    for (const field of ["data.x'); --", 'data.', 'data..a', 'data.a b', 'score', 'data', 'rowid', 'room', 'data.a.b.c.d.e.f.g.h.i', 'data.$x', 'data.a"b', 'cid']) {
      rejects({ filters: [{ field, operator: '=', value: 1 }] }, /field/);
    }
    rejects({ sortField: 'data.a;drop' }, /sortField/);
    rejects({ groupBy: 'data.a-b' }, /groupBy/);
    assert.deepEqual(parseField('data.a.b_2.C3'), { kind: 'data', path: ['a', 'b_2', 'C3'] });
    assert.deepEqual(parseField('data.a.b.c.d.e.f.g.h'), { kind: 'data', path: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] });
  });

  test('checks value types against the operator and the column', () => {
    rejects({ filters: [{ field: 'created', operator: '>', value: 'yesterday' }] }, /type/);
    rejects({ filters: [{ field: 'client_id', operator: '=', value: 5 }] }, /type/);
    rejects({ filters: [{ field: 'data.a', operator: '>', value: true }] }, /number or string/);
    rejects({ filters: [{ field: 'data.a', operator: '>', value: null }] }, /number or string/);
    rejects({ filters: [{ field: 'data.a', operator: 'in', value: 3 }] }, /array/);
    rejects({ filters: [{ field: 'data.a', operator: 'in', value: [] }] }, /array/);
    rejects({ filters: [{ field: 'data.a', operator: 'in', value: [{}] }] }, /scalars/);
    rejects({ filters: [{ field: 'data.a', operator: 'contains', value: '' }] }, /contains/);
    rejects({ filters: [{ field: 'id', operator: 'contains', value: '1' }] }, /text field/);
    rejects({ filters: [{ field: 'data.a', operator: 'exists', value: 'yes' }] }, /exists/);
    rejects({ filters: [{ field: 'data.a', operator: '=', value: { $gt: 1 } }] }, /=/);
    rejects({ filters: [{ field: 'data.a', operator: '=', value: Number.NaN }] }, /=/);
    rejects({ filters: [{ field: 'data.a', operator: '=', value: 'x'.repeat(1001) }] }, /=/);
    rejects({ filters: 'all' }, /filters/);
    rejects({ filters: [null] }, /filters\[0\]/);
    assert.equal(validateQuery({ filters: [{ field: 'data.a', operator: 'exists' }] }).filters[0]!.value, true);
    assert.equal(validateQuery({ filters: [{ field: 'username', operator: '=', value: null }] }).filters[0]!.value, null);
  });

  test('rejects more than 16 filters and more than 100 in-values', () => {
    rejects({ filters: Array.from({ length: 17 }, () => ({ field: 'id', operator: '>', value: 1 })) }, /at most 16/);
    rejects({ filters: [{ field: 'data.a', operator: 'in', value: Array.from({ length: 101 }, (_, i) => i) }] }, /1-100/);
  });

  test('rejects a query that is not an object', () => {
    rejects('select *', /object/);
    rejects([1], /object/);
  });
});
