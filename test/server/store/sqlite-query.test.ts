import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { validateQuery } from '../../../src/protocol/index.js';
import { whereSql } from '../../../src/server/store/sqlite-query.js';

const where = ([field, operator, value]: [string, string, unknown]) => whereSql(1, validateQuery({ filters: [{ field, operator, value }] }), '1');

test('a numeric range that cannot match 0 or 1 is answered from an expression index alone (no row reads for the boolean guard)', () => {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE records (room INTEGER, id INTEGER, data BLOB);
    CREATE INDEX by_score ON records (room, json_extract(data, '$."score"'), id)`);
  const plan = (filter: [string, string, unknown]) => {
    const w = where(filter);
    return (db.prepare(`EXPLAIN QUERY PLAN SELECT count(*) FROM records WHERE ${w.sql}`).all(...w.params) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
  };
  for (const filter of [
    ['data.score', '>', 500],
    ['data.score', '<', -3],
    ['data.score', '=', 42],
    ['data.score', 'in', [2, 3]],
  ] as Array<[string, string, unknown]>) {
    assert.doesNotMatch(where(filter).sql, /json_type/, `${filter.join(' ')} needs no guard`);
    assert.match(plan(filter), /COVERING INDEX by_score/, `${filter.join(' ')}: ${plan(filter)}`);
  }
  // Where 0 or 1 could match, true/false (read as 1/0) must be kept out, so the guard stays.
  for (const filter of [
    ['data.score', '>=', 1],
    ['data.score', '<', 0.5],
    ['data.score', '=', 0],
    ['data.score', 'in', [1, 7]],
    ['data.score', '!=', 1],
  ] as Array<[string, string, unknown]>) {
    assert.match(where(filter).sql, /json_type/, `${filter.join(' ')} keeps the guard`);
  }
});
