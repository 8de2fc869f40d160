// Property-based attacks on the wire (fast-check): random and mutated frames, and random search
// queries, against a real server and a real SQLite file. `npm run test:soak` runs many more.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { CloseCode, ErrorCode, validateQuery, type ServerFrame, type VidgetRecord } from '../../src/protocol/index.js';
import type { VidgetServer } from '../../src/server/index.js';
import { startServer, TestClient } from './helpers.js';

const SOAK = process.env.VIDGET_SOAK === '1';
const FRAME_RUNS = SOAK ? 20_000 : 1_500;
const QUERY_RUNS = SOAK ? 20_000 : 1_500;
const MAX_FRAME = 16 * 1024;
const ERROR_CODES = new Set<string>(Object.values(ErrorCode));
const CLOSE_CODES = new Set<number>(Object.values(CloseCode));

/** Figures for the note: printed at the end. */
const tally = { frames: 0, queries: 0, modelChecked: 0, closes: new Map<number, number>(), errors: new Map<string, number>() };
const count = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

let server: VidgetServer;
const internal: unknown[] = [];

before(async () => {
  server = await startServer({ maxFrameBytes: MAX_FRAME, rateLimit: { perSecond: 1e9, burst: 1e9 }, log: (message, error) => internal.push([message, error]) });
});
after(async () => {
  await server.close();
  console.log(
    `fuzz: ${tally.frames} frames, ${tally.queries} queries (${tally.modelChecked} checked against a model); error codes ${JSON.stringify(Object.fromEntries(tally.errors))}; close codes ${JSON.stringify(Object.fromEntries(tally.closes))}`,
  );
});

// ---- frames ----

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const anyJson = fc.jsonValue({ maxDepth: 6 });
/** JSON text with prototype-pollution keys (JSON.parse makes them own properties, as an attacker would send). */
const pollution = fc.tuple(fc.constantFrom(...PROTO_KEYS), anyJson).map(([k, v]) => `{"type":"pub","cid":"p${k.length}","persist":true,"data":{"${k}":{"polluted":${JSON.stringify(v)}},"x":1}}`);
const nesting = fc.integer({ min: 1, max: 5_000 }).map((n) => `{"type":"pub","cid":"deep","persist":true,"data":${'['.repeat(n)}${']'.repeat(n)}}`);
const huge = fc.integer({ min: MAX_FRAME - 100, max: MAX_FRAME * 4 }).map((n) => `{"type":"pub","cid":"big","persist":true,"data":"${'x'.repeat(n)}"}`);
/** Valid-looking frames with one field wrong: type, cid, data, persist, rid, query. */
const mutated = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom('pub', 'search', 'PUB', '', 'ack', 'msg', 'hello'), anyJson),
      cid: fc.oneof(name, anyJson, fc.string({ maxLength: 80 })),
      rid: fc.oneof(name, anyJson),
      data: anyJson,
      persist: fc.oneof(fc.boolean(), anyJson),
      query: fc.oneof(fc.object({ maxDepth: 3 }), anyJson),
    },
    { requiredKeys: [] },
  )
  .map((f) => JSON.stringify(f));
const valid = fc.record({ cid: name, data: anyJson, persist: fc.boolean() }).map((f) => JSON.stringify({ type: 'pub', ...f }));

/** One fuzz input: text (a string), binary, or text bytes that are not UTF-8. */
type Input = { text: string } | { binary: Buffer } | { badUtf8: Buffer };
const input: fc.Arbitrary<Input> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .oneof(
        valid,
        mutated,
        pollution,
        nesting,
        anyJson.map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 200 }),
      )
      .map((text) => ({ text })),
  },
  { weight: 1, arbitrary: fc.oneof(huge, fc.constant('x'.repeat(10 * 1024 * 1024))).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({ binary: Buffer.from(b) })) },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 0, maxLength: 50 })
      .map((b) => ({ badUtf8: Buffer.concat([Buffer.from('{"type":"pub","cid":"u","data":"'), Buffer.from(b), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]) })),
  },
);

/**
 * A raw client that, after each fuzz input, sends a sentinel search and collects every frame up
 * to its answer, or the close. Reconnects when the server closed it.
 */
class Prober {
  private client: TestClient | undefined;
  private seq = 0;
  constructor(private readonly room: string) {}

  async send(what: Input): Promise<{ frames: ServerFrame[]; close?: number }> {
    this.client ??= await TestClient.joined(server, 'fuzz', this.room);
    const client = this.client;
    const start = client.frames.length;
    const rid = `sentinel${++this.seq}`;
    if ('text' in what) client.ws.send(what.text);
    else if ('binary' in what) client.ws.send(what.binary, { binary: true });
    else client.ws.send(what.badUtf8, { binary: false });
    client.send({ type: 'search', rid, query: { limit: 0 } });
    const closed = client.closed.then((c) => ({ close: c.code }));
    const answered = client.next((f) => f.type === 'result' && f.rid === rid).then(() => ({}));
    const outcome = await Promise.race([answered, closed]);
    const frames = client.frames.slice(start).filter((f) => !(f.type === 'result' && f.rid === rid));
    if ('close' in outcome) this.client = undefined;
    return { frames, ...outcome };
  }
}

describe('fuzzed frames', () => {
  test('every frame gets an ack, a documented error or a documented close; nothing bad is stored; the server keeps serving', async () => {
    const prober = new Prober('frames');
    const acked = new Map<number, VidgetRecord>();
    const bystander = await TestClient.joined(server, 'fuzz', 'frames');
    await fc.assert(
      fc.asyncProperty(input, async (what) => {
        tally.frames++;
        const { frames, close } = await prober.send(what);
        for (const f of frames) {
          if (f.type === 'err') {
            assert.ok(ERROR_CODES.has(f.code), `undocumented error code ${f.code}`);
            assert.notEqual(f.code, ErrorCode.Internal, `internal error: ${f.message}`);
            count(tally.errors, f.code);
          } else if (f.type === 'ack') {
            if (f.persisted) acked.set(f.record.id, f.record);
          } else assert.ok(['msg', 'presence', 'hello', 'synced', 'result'].includes(f.type), `unexpected ${f.type}`);
        }
        if (close !== undefined) {
          assert.ok(CLOSE_CODES.has(close), `undocumented close code ${close}`);
          count(tally.closes, close);
        }
        // Whatever was sent: an ack for a valid pub, an error for anything else, or a close.
        if ('text' in what && close === undefined)
          assert.ok(
            frames.some((f) => f.type === 'ack' || f.type === 'err' || f.type === 'result'),
            `no answer to ${what.text.slice(0, 120)}`,
          );
      }),
      { numRuns: FRAME_RUNS, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 1e9) },
    );
    // Nothing polluted, nothing internal, and the store holds exactly the acked records.
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(internal, []);
    assert.deepEqual(
      await bystander.allRecords(),
      [...acked.values()].sort((x, y) => x.id - y.id),
      'the store holds exactly the acked persistent publishes',
    );
    // Still serving: the bystander publishes and is acked.
    const ack = await bystander.publish({ still: 'alive' });
    assert.equal(ack.record.data && (ack.record.data as { still?: string }).still, 'alive');
    await bystander.close();
  });

  test('a 10 MB frame is closed with 1009 and a text frame of invalid UTF-8 with 1007', async () => {
    const big = await TestClient.joined(server, 'fuzz', 'edges');
    big.ws.send('x'.repeat(10 * 1024 * 1024));
    assert.equal((await big.closed).code, CloseCode.MessageTooBig);
    const bad = await TestClient.joined(server, 'fuzz', 'edges');
    bad.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    assert.equal((await bad.closed).code, CloseCode.InvalidPayload);
  });
});

// ---- queries ----

/** Seeded data: room A and room B, same shapes, told apart by `data.room`. */
const SEED = 60;
const seedRecord = (room: string, i: number) => ({ room, n: i % 13, s: ['a', 'b', 'c', "it's", '%_'][i % 5]!, b: i % 3 === 0, ...(i % 4 === 0 ? {} : { o: i % 7 }) });

const FIELDS = ['data.n', 'data.s', 'data.b', 'data.o', 'id', 'client_id', 'username', 'created'];
const scalar = fc.oneof(fc.integer({ min: -2, max: 15 }), fc.constantFrom('a', 'b', 'c', "it's", '%_', '', "' OR 1=1 --", '"; DROP TABLE records; --'), fc.boolean(), fc.constant(null));
const sqlish = fc.constantFrom(
  "data.n') OR 1=1 --",
  'data.n; DROP TABLE records',
  'data."n"',
  'data.__proto__',
  'records.room',
  'room',
  'data..n',
  'data.n[0]',
  'json_extract(data, "$.n")',
  'data.' + 'x.'.repeat(9) + 'y',
  '*',
);
const filter = fc.record(
  {
    field: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: sqlish }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
    operator: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('=', '!=', '>', '>=', '<', '<=', 'in', 'contains', 'exists') }, { weight: 1, arbitrary: fc.string({ maxLength: 4 }) }),
    value: fc.oneof(scalar, fc.array(scalar, { maxLength: 5 })),
  },
  { requiredKeys: ['field', 'operator'] },
);
/** Well-typed filters on the seeded fields: most of these pass, and the model can check them. */
const typedFilter = fc.oneof(
  fc.record({ field: fc.constantFrom('data.n', 'data.o'), operator: fc.constantFrom('=', '>', '>=', '<', '<='), value: fc.integer({ min: -2, max: 15 }) }),
  fc.record({ field: fc.constant('data.s'), operator: fc.constant('='), value: fc.constantFrom('a', 'b', "it's", '%_', "' OR 1=1 --") }),
  fc.record({ field: fc.constant('data.b'), operator: fc.constant('='), value: fc.boolean() }),
  fc.record({ field: fc.constantFrom('data.n', 'data.o', 'data.zz'), operator: fc.constant('exists'), value: fc.boolean() }),
);
const typedQuery = fc.record(
  {
    filters: fc.array(typedFilter, { maxLength: 3 }),
    limit: fc.integer({ min: 0, max: 100 }),
    offset: fc.integer({ min: 0, max: 80 }),
    sortField: fc.constantFrom(...FIELDS),
    sortOrder: fc.constantFrom('asc', 'desc'),
  },
  { requiredKeys: ['filters'] },
);
const wildQuery = fc.record(
  {
    filters: fc.array(filter, { maxLength: 3 }),
    sortField: fc.oneof(fc.constantFrom(...FIELDS), sqlish),
    sortOrder: fc.oneof(fc.constantFrom('asc', 'desc'), fc.string({ maxLength: 5 })),
    limit: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: -5, max: 5000 }), fc.double()),
    offset: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: -3, max: 2_000_000 })),
    groupBy: fc.oneof(fc.constantFrom('data.s', 'data.b', 'data.o'), sqlish),
    latestPerClient: fc.oneof(fc.boolean(), anyJson),
  },
  { requiredKeys: [] },
);
const query = fc.oneof(typedQuery, wildQuery) as fc.Arbitrary<Record<string, unknown> & { latestPerClient?: unknown }>;

/** A model of the filters over the seeded records of room A: the `total` a correct server answers. */
function modelTotal(q: { filters?: Array<{ field: string; operator: string; value?: unknown }> }, records: VidgetRecord[]): number | undefined {
  let rows = records;
  for (const f of q.filters ?? []) {
    if (!f.field.startsWith('data.')) return undefined; // columns: checked by the server tests
    const key = f.field.slice(5);
    const get = (r: VidgetRecord) => (r.data as Record<string, unknown>)[key];
    const sameType = (a: unknown, b: unknown) => typeof a === typeof b && a !== null && b !== null;
    switch (f.operator) {
      case 'exists':
        rows = rows.filter((r) => (get(r) !== undefined) === (f.value ?? true));
        break;
      case '=':
        if (f.value === null || typeof f.value === 'object') return undefined;
        rows = rows.filter((r) => sameType(get(r), f.value) && get(r) === f.value);
        break;
      case '>':
      case '>=':
      case '<':
      case '<=':
        if (typeof f.value !== 'number') return undefined;
        rows = rows.filter((r) => {
          const v = get(r);
          if (typeof v !== 'number') return false;
          const x = f.value as number;
          return f.operator === '>' ? v > x : f.operator === '>=' ? v >= x : f.operator === '<' ? v < x : v <= x;
        });
        break;
      default:
        return undefined; // !=, in, contains: their edge semantics are the server tests' business
    }
  }
  return rows.length;
}

describe('fuzzed search queries', () => {
  test("every query gets a typed error or a correct result, never SQL text, never another room's records", async () => {
    const a = await TestClient.joined(server, 'fuzz', 'qa');
    const b = await TestClient.joined(server, 'fuzzb', 'qa'); // another project, same room name
    for (let i = 0; i < SEED; i++) {
      await a.publish(seedRecord('A', i));
      await b.publish(seedRecord('B', i));
    }
    const all = (await a.search({ limit: 1000 })) as Extract<ServerFrame, { type: 'result' }>;
    assert.equal(all.records.length, SEED);
    let checkedByModel = 0;
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        tally.queries++;
        const reply = await a.search(q);
        if (reply.type === 'err') {
          assert.ok(reply.code === ErrorCode.BadQuery, `${reply.code}: ${reply.message}`);
          assert.doesNotMatch(reply.message, /sqlite|syntax error|no such|SQL/i);
          // The server refuses exactly what the shared validator refuses.
          assert.throws(() => validateQuery(q), `the server refused what validateQuery accepts: ${JSON.stringify(q)}`);
          count(tally.errors, reply.code);
          return;
        }
        validateQuery(q); // accepted by the server: accepted by the client's validator too
        for (const r of reply.records) assert.equal((r.data as { room?: string }).room, 'A', 'a record of another project leaked');
        if (!q.latestPerClient) {
          const expected = modelTotal(q as never, all.records);
          if (expected !== undefined) {
            checkedByModel++;
            assert.equal(reply.total, expected, `total for ${JSON.stringify(q.filters)}`);
          }
        }
      }),
      { numRuns: QUERY_RUNS, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 1e9) },
    );
    assert.ok(checkedByModel > QUERY_RUNS / 4, `the model checked ${checkedByModel} results`);
    tally.modelChecked = checkedByModel;
    // HTTP search: the same validator, the same answers.
    const bad = JSON.stringify({ filters: [{ field: "data.n') OR 1=1 --", operator: '=', value: 1 }] });
    const res = await fetch(`${server.url}/api/projects/fuzz/widgets/qa/records?query=${encodeURIComponent(bad)}`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, ErrorCode.BadQuery);
    assert.doesNotMatch(body.error.message, /sqlite|syntax error|no such|SQL/i);
    assert.deepEqual(internal, []);
    await a.close();
    await b.close();
  });
});
