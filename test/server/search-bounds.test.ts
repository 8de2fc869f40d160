// What one search may cost is bounded: keyset pages (`after`) instead of deep offsets, answers
// capped in bytes as well as records, groupBy capped in groups, and groupBy on record columns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, type ResultFrame, type SearchQuery, type VidgetRecord } from '../../src/protocol/index.js';
import type { VidgetServer } from '../../src/server/index.js';
import { TestClient, fillRoom, startServer } from './helpers.js';

/** Sort keys of every kind SQLite orders: ties, missing, null, booleans, numbers and text. */
const mixed = (n: number) => {
  const kinds = [n % 7, `t${n % 5}`, null, true, false, undefined, n * 1.5, n % 7];
  const k = kinds[n % kinds.length];
  return { n, ...(k === undefined ? {} : { k }), ...(n % 4 === 0 ? { deep: { v: n % 3 } } : {}) };
};

const ok = (frame: Awaited<ReturnType<TestClient['search']>>): ResultFrame => {
  assert.equal(frame.type, 'result', JSON.stringify(frame).slice(0, 300));
  return frame as ResultFrame;
};

describe('bounded searches', () => {
  let server: VidgetServer;
  let client: TestClient;

  before(async () => {
    server = await startServer({ rateLimit: { perSecond: 1e6, burst: 1e6 } });
    await fillRoom(server, 'p/mixed', 150, mixed, 13);
    await fillRoom(server, 'p/big', 40, (n) => ({ n, blob: 'x'.repeat(60_000) }));
    await fillRoom(server, 'p/many', 1_500, (n) => ({ u: `value-${n}` }));
    client = await TestClient.joined(server, 'p', 'mixed');
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  test('keyset pages (after) give the same order as one big page, for every sort field and order, nulls and mixed types included', async () => {
    for (const sortField of ['id', 'created', 'client_id', 'username', 'data.k', 'data.deep.v']) {
      for (const sortOrder of ['asc', 'desc'] as const) {
        const base: SearchQuery = { sortField, sortOrder, filters: [{ field: 'data.n', operator: '>=', value: 3 }] };
        const whole = ok(await client.search({ ...base, limit: 1000 }));
        assert.equal(whole.records.length, 147);
        assert.equal(whole.next, undefined, 'nothing follows the whole set');
        const paged: number[] = [];
        for (let next: number | undefined, pages = 0; pages < 100; pages++) {
          const page = ok(await client.search({ ...base, limit: 7, ...(next === undefined ? {} : { after: next }) }));
          assert.equal(page.total, 147, 'total counts the whole filtered set on every page');
          paged.push(...page.records.map((r) => r.id));
          if (page.next === undefined) break;
          assert.equal(page.next, page.records.at(-1)!.id, 'next is the last record of the page');
          next = page.next;
        }
        assert.deepEqual(
          paged,
          whole.records.map((r) => r.id),
          `${sortField} ${sortOrder}`,
        );
      }
    }
  });

  test('after must name a record of the room, and does not combine with offset', async () => {
    const missing = await client.search({ after: 999_999 });
    assert.equal(missing.type === 'err' && missing.code, ErrorCode.BadQuery);
    const id = (await client.search({ after: 999_999, sortField: 'data.k' })) as { type: string; code?: string };
    assert.equal(id.code, ErrorCode.BadQuery);
    const both = await client.search({ after: 1, offset: 2 });
    assert.equal(both.type === 'err' && both.code, ErrorCode.BadQuery);
    // A cursor record that the filters exclude still marks a position.
    const page = ok(await client.search({ after: 2, limit: 3, filters: [{ field: 'data.n', operator: '>=', value: 10 }] }));
    assert.deepEqual(
      page.records.map((r) => (r.data as { n: number }).n),
      [10, 11, 12],
    );
  });

  test('an answer stops at 1 MiB of records: truncated, and next continues where it stopped', async () => {
    const big = await TestClient.joined(server, 'p', 'big');
    const seen: VidgetRecord[] = [];
    let pages = 0;
    for (let next: number | undefined; ;) {
      const page = ok(await big.search({ limit: 1000, ...(next === undefined ? {} : { after: next }) }));
      const bytes = Buffer.byteLength(JSON.stringify(page));
      assert.ok(bytes <= 1024 * 1024 + 1024, `a page of ${bytes} bytes`);
      pages++;
      seen.push(...page.records);
      if (page.next === undefined) break;
      assert.equal(page.truncated, true);
      next = page.next;
    }
    assert.ok(pages >= 3, `40 records of 60 KB take at least 3 pages, took ${pages}`);
    assert.deepEqual(
      seen.map((r) => (r.data as { n: number }).n),
      Array.from({ length: 40 }, (_, i) => i),
    );
    await big.close();
  });

  test('groupBy on client_id and username counts like a model of the records', async () => {
    const all = ok(await client.search({ limit: 1000 })).records;
    for (const field of ['client_id', 'username'] as const) {
      const r = ok(await client.search({ groupBy: field, limit: 0 }));
      const model = new Map<unknown, number>();
      for (const rec of all) model.set(rec[field], (model.get(rec[field]) ?? 0) + 1);
      assert.deepEqual(new Map(r.groups!.map((g) => [g.value, g.count])), model, field);
      assert.equal(r.groupsTruncated, undefined);
    }
  });

  test('groupBy answers the 1,000 largest groups and says there are more', async () => {
    const many = await TestClient.joined(server, 'p', 'many');
    const r = ok(await many.search({ groupBy: 'data.u', limit: 0 }));
    assert.equal(r.total, 1_500);
    assert.equal(r.groups!.length, 1_000);
    assert.equal(r.groupsTruncated, true);
    await many.close();
  });
});
