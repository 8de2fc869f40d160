import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SearchQuery, VidgetRecord } from '../../src/protocol/index.js';
import type { VidgetServer } from '../../src/server/index.js';
import { TestClient, startServer, token as makeToken } from './helpers.js';

const ROWS = [
  { name: 'ann', score: 90, liked: true, tags: 'red blue', nested: { level: 3 } },
  { name: 'bob', score: 55, liked: false, tags: 'blue' },
  { name: 'cid', score: 70, liked: true, nested: { level: 1 } },
  { name: 'dee', score: '80', liked: true }, // a string score must not pass numeric comparisons
  { name: 'eve', score: 40, liked: null, nested: { level: 2 } },
  { name: 'fay', liked: 1 }, // 1 and true are different groups
];

describe('search', () => {
  let server: VidgetServer;
  let client: TestClient;
  let records: VidgetRecord[];

  const names = async (query: SearchQuery): Promise<string[]> => {
    const r = await client.search(query);
    assert.equal(r.type, 'result', JSON.stringify(r));
    return (r.type === 'result' ? r.records : []).map((x) => (x.data as { name: string }).name);
  };

  before(async () => {
    server = await startServer();
    client = await TestClient.joined(server, 'proj', 'quiz');
    records = [];
    for (const row of ROWS) records.push((await client.publish(row)).record);
    // Another room's records must never show up.
    const other = await TestClient.joined(server, 'proj', 'other');
    await other.publish({ name: 'zed', score: 99, liked: true });
    await other.close();
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  test('with no query: the first 10 records in publish order, and the total', async () => {
    const r = await client.search({});
    assert.equal(r.type === 'result' && r.total, ROWS.length);
    assert.deepEqual(await names({}), ['ann', 'bob', 'cid', 'dee', 'eve', 'fay']);
  });

  test('numeric comparisons: > >= < <= on data fields, ignoring text values', async () => {
    const f = (operator: string, value: number) => names({ filters: [{ field: 'data.score', operator: operator as '>', value }] });
    assert.deepEqual(await f('>', 55), ['ann', 'cid']);
    assert.deepEqual(await f('>=', 55), ['ann', 'bob', 'cid']);
    assert.deepEqual(await f('<', 55), ['eve']);
    assert.deepEqual(await f('<=', 55), ['bob', 'eve']);
  });

  test('= and != on strings, numbers, booleans and null; != matches records without the field', async () => {
    assert.deepEqual(await names({ filters: [{ field: 'data.name', operator: '=', value: 'cid' }] }), ['cid']);
    assert.deepEqual(await names({ filters: [{ field: 'data.score', operator: '=', value: 55 }] }), ['bob']);
    assert.deepEqual(await names({ filters: [{ field: 'data.score', operator: '=', value: '80' }] }), ['dee']);
    assert.deepEqual(await names({ filters: [{ field: 'data.liked', operator: '=', value: false }] }), ['bob']);
    assert.deepEqual(await names({ filters: [{ field: 'data.liked', operator: '=', value: null }] }), ['eve']);
    assert.deepEqual(await names({ filters: [{ field: 'data.score', operator: '!=', value: 55 }] }), ['ann', 'cid', 'dee', 'eve', 'fay']);
  });

  test('in, contains and exists', async () => {
    assert.deepEqual(await names({ filters: [{ field: 'data.name', operator: 'in', value: ['bob', 'eve', 'nobody'] }] }), ['bob', 'eve']);
    assert.deepEqual(await names({ filters: [{ field: 'data.score', operator: 'in', value: [90, 40] }] }), ['ann', 'eve']);
    assert.deepEqual(await names({ filters: [{ field: 'data.liked', operator: 'in', value: [null, false] }] }), ['bob', 'eve']);
    assert.deepEqual(await names({ filters: [{ field: 'data.tags', operator: 'contains', value: 'blue' }] }), ['ann', 'bob']);
    assert.deepEqual(await names({ filters: [{ field: 'data.tags', operator: 'contains', value: '%' }] }), [], 'contains is a substring, not a LIKE pattern');
    assert.deepEqual(await names({ filters: [{ field: 'data.score', operator: 'exists' }] }), ['ann', 'bob', 'cid', 'dee', 'eve']);
    assert.deepEqual(await names({ filters: [{ field: 'data.score', operator: 'exists', value: false }] }), ['fay']);
    assert.deepEqual(await names({ filters: [{ field: 'data.liked', operator: 'exists' }] }).then((n) => n.length), 6, 'a JSON null exists');
    assert.deepEqual(await names({ filters: [{ field: 'username', operator: 'exists' }] }), []);
  });

  test('nested data paths and record columns', async () => {
    assert.deepEqual(await names({ filters: [{ field: 'data.nested.level', operator: '>=', value: 2 }] }), ['ann', 'eve']);
    assert.deepEqual(await names({ filters: [{ field: 'id', operator: '>', value: records[3]!.id }] }), ['eve', 'fay']);
    assert.deepEqual(await names({ filters: [{ field: 'created', operator: '>=', value: records[0]!.created }] }).then((n) => n.length), 6);
    assert.deepEqual(await names({ filters: [{ field: 'client_id', operator: '=', value: client.clientId }] }).then((n) => n.length), 6);
    assert.deepEqual(await names({ filters: [{ field: 'username', operator: '=', value: null }] }).then((n) => n.length), 6);
  });

  test('filters combine with AND', async () => {
    assert.deepEqual(
      await names({
        filters: [
          { field: 'data.liked', operator: '=', value: true },
          { field: 'data.score', operator: '>', value: 75 },
        ],
      }),
      ['ann'],
    );
  });

  test('sorts by any field asc or desc; ties and missing values keep a stable order', async () => {
    assert.deepEqual(await names({ sortField: 'data.score', sortOrder: 'desc', filters: [{ field: 'data.score', operator: '>', value: 0 }] }), ['ann', 'cid', 'bob', 'eve']);
    assert.deepEqual(await names({ sortField: 'data.name', sortOrder: 'desc', limit: 2 }), ['fay', 'eve']);
    assert.deepEqual(await names({ sortField: 'id', sortOrder: 'desc', limit: 1 }), ['fay']);
    assert.deepEqual(await names({ sortField: 'created', sortOrder: 'asc', limit: 1 }), ['ann']);
  });

  test('pages with offset and limit; total counts the whole filtered set', async () => {
    const pages = [];
    for (let offset = 0; offset < 6; offset += 4) pages.push(...(await names({ offset, limit: 4 })));
    assert.deepEqual(pages, ['ann', 'bob', 'cid', 'dee', 'eve', 'fay']);
    const r = await client.search({ offset: 1, limit: 1, filters: [{ field: 'data.liked', operator: '=', value: true }] });
    assert.equal(r.type === 'result' && r.total, 3);
    assert.equal(r.type === 'result' && r.records.length, 1);
    const countOnly = await client.search({ limit: 0 });
    assert.equal(countOnly.type === 'result' && countOnly.records.length, 0);
    assert.equal(countOnly.type === 'result' && countOnly.total, 6);
  });

  test('groupBy counts the filtered set by value, keeping true, 1 and null apart', async () => {
    const r = await client.search({ groupBy: 'data.liked', limit: 0 });
    assert.equal(r.type, 'result');
    const groups = r.type === 'result' ? r.groups! : [];
    assert.deepEqual(groups[0], { value: true, count: 3 });
    assert.deepEqual(
      new Map(groups.map((g) => [JSON.stringify(g.value), g.count])),
      new Map([
        ['true', 3],
        ['false', 1],
        ['null', 1],
        ['1', 1],
      ]),
    );
    const filtered = await client.search({ groupBy: 'data.liked', filters: [{ field: 'data.score', operator: '>', value: 60 }] });
    assert.deepEqual(filtered.type === 'result' && filtered.groups, [{ value: true, count: 2 }]);
  });

  test('a number never matches a boolean: = 0, != 0, in [0, 1] and ranges treat true/false as booleans (found by the fuzzer)', async () => {
    const c = await TestClient.joined(server, 'proj', 'bools');
    for (const b of [true, false, 0, 1]) await c.publish({ b });
    const total = async (filter: object) => {
      const r = await c.search({ filters: [filter], limit: 0 });
      return r.type === 'result' ? r.total : -1;
    };
    assert.equal(await total({ field: 'data.b', operator: '=', value: 0 }), 1);
    assert.equal(await total({ field: 'data.b', operator: '!=', value: 0 }), 3);
    assert.equal(await total({ field: 'data.b', operator: 'in', value: [0, 1] }), 2);
    assert.equal(await total({ field: 'data.b', operator: '>=', value: 0 }), 2);
    assert.equal(await total({ field: 'data.b', operator: '=', value: false }), 1);
    await c.close();
  });

  test('latestPerClient counts each client once, by its newest record (a changed vote is not counted twice)', async () => {
    const a = await TestClient.joined(server, 'proj', 'poll', { _pk: 'voter-a' });
    const b = await TestClient.joined(server, 'proj', 'poll', { _pk: 'voter-b' });
    await a.publish({ option: 'x' });
    await b.publish({ option: 'x' });
    await a.publish({ option: 'y' }); // a changes its vote
    const all = await a.search({ groupBy: 'data.option', limit: 0 });
    assert.deepEqual(
      all.type === 'result' && all.groups,
      [
        { value: 'x', count: 2 },
        { value: 'y', count: 1 },
      ],
      'without it every record counts',
    );
    const latest = await a.search({ groupBy: 'data.option', limit: 0, latestPerClient: true });
    assert.deepEqual(latest.type === 'result' && latest.groups, [
      { value: 'x', count: 1 },
      { value: 'y', count: 1 },
    ]);
    assert.equal(latest.type === 'result' && latest.total, 2);
    const mine = await a.search({ latestPerClient: true, filters: [{ field: 'client_id', operator: '=', value: a.clientId }] });
    assert.deepEqual(mine.type === 'result' && mine.records.map((r) => r.data), [{ option: 'y' }]);
    assert.equal((await a.search({ latestPerClient: 'yes' })).type, 'err');
    await a.close();
    await b.close();
  });

  test('a bad query answers err bad_query with the request id and the connection keeps working', async () => {
    for (const query of [
      { limit: 5000 },
      { filters: [{ field: "data.x'); DROP TABLE records; --", operator: '=', value: 1 }] },
      { filters: [{ field: 'data.score', operator: 'regex', value: '.*' }] },
      { filters: [{ field: 'created', operator: '>', value: 'yesterday' }] },
      'not an object',
    ]) {
      const r = await client.search(query);
      assert.equal(r.type, 'err');
      assert.equal(r.type === 'err' && r.code, 'bad_query');
    }
    assert.equal((await names({ limit: 1 })).length, 1);
  });

  test('HTTP: GET /api/projects/:p/widgets/:w/records?query= answers like the socket', async () => {
    const q = { filters: [{ field: 'data.score', operator: '>', value: 55 }], sortField: 'data.score', sortOrder: 'desc' };
    const res = await fetch(`${server.url}/api/projects/proj/widgets/quiz/records?query=${encodeURIComponent(JSON.stringify(q))}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { records: VidgetRecord[]; total: number };
    assert.deepEqual(
      body.records.map((r) => (r.data as { name: string }).name),
      ['ann', 'cid'],
    );
    assert.equal(body.total, 2);
    const bad = await fetch(`${server.url}/api/projects/proj/widgets/quiz/records?query=${encodeURIComponent('{"limit":"all"}')}`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_query');
    const notJson = await fetch(`${server.url}/api/projects/proj/widgets/quiz/records?query=%7B`);
    assert.equal(notJson.status, 400);
    const empty = await fetch(`${server.url}/api/projects/proj/widgets/never-used/records`);
    assert.deepEqual(await empty.json(), { records: [], total: 0 });
    const token = makeToken('proj', 'u');
    const withToken = await fetch(`${server.url}/api/projects/proj/widgets/quiz/records`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(withToken.status, 200);
    const otherProject = await fetch(`${server.url}/api/projects/proj2/widgets/quiz/records`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(otherProject.status, 403);
  });
});
