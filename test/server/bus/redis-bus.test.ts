import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisBus } from '../../../src/server/bus/redis-bus.js';
import { RedisUnreachableError } from '../../../src/server/bus/redis-connection.js';
import { until } from '../helpers.js';
import { FreezableProxy, REDIS_URL, adminConnection, closedPort, deleteKeys, killConnection, randomPrefix, redisUnavailable } from './redis-test-kit.js';

const unavailable = await redisUnavailable();
if (unavailable) console.log(`# skipping RedisBus tests: ${unavailable}`);
const redisTest = unavailable ? test.skip : test;

let admin: Redis;
const prefixes: string[] = [];
const buses: RedisBus[] = [];

before(() => {
  if (!unavailable) admin = adminConnection();
});
after(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
  if (!admin) return;
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  admin.disconnect();
});

/** A connected bus on `prefix`, closed after the file; errors fail the test unless `quiet`. */
async function bus(prefix: string, options: { quiet?: boolean; url?: string; healthCheckMs?: number; maxPendingPublishes?: number } = {}): Promise<RedisBus> {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const onError = options.quiet ? () => {} : (error: unknown) => assert.fail(`unexpected bus error: ${String(error)}`);
  const created = await RedisBus.connect({
    url: options.url ?? REDIS_URL,
    prefix,
    onError,
    ...(options.healthCheckMs ? { healthCheckMs: options.healthCheckMs } : {}),
    ...(options.maxPendingPublishes ? { maxPendingPublishes: options.maxPendingPublishes } : {}),
  });
  buses.push(created);
  return created;
}

/** A promise of the bus's next `onResync`. */
const nextResync = (b: RedisBus): Promise<void> =>
  new Promise((resolve) => {
    b.onResync = () => resolve();
  });

redisTest('two nodes exchange room messages, each node in its publish order, both in one order', async () => {
  const prefix = randomPrefix();
  const [a, b] = [await bus(prefix), await bus(prefix)];
  const seen = { a: [] as string[], b: [] as string[] };
  await a.subscribe('p/w', (m) => seen.a.push(m));
  await b.subscribe('p/w', (m) => seen.b.push(m));
  const n = 500;
  for (let i = 0; i < n; i++) {
    a.publish('p/w', `a${i}`);
    b.publish('p/w', `b${i}`);
  }
  await until(() => seen.a.length === 2 * n && seen.b.length === 2 * n, 'every message on both nodes');
  for (const list of [seen.a, seen.b]) {
    assert.deepEqual(
      list.filter((m) => m.startsWith('a')),
      Array.from({ length: n }, (_, i) => `a${i}`),
    );
    assert.deepEqual(
      list.filter((m) => m.startsWith('b')),
      Array.from({ length: n }, (_, i) => `b${i}`),
    );
  }
  assert.deepEqual(seen.a, seen.b, 'Redis hands every subscriber the same interleaving');
  assert.notEqual(a.nodeId, b.nodeId);
  assert.equal(a.stats.published, n);
  assert.equal(a.stats.dropped, 0);
});

redisTest('a bus on another prefix hears nothing of the same room name', async () => {
  const [prefix, other] = [randomPrefix(), randomPrefix()];
  const [a, c] = [await bus(prefix), await bus(other)];
  const seen = { a: [] as string[], c: [] as string[] };
  await a.subscribe('p/w', (m) => seen.a.push(m));
  await c.subscribe('p/w', (m) => seen.c.push(m));
  a.publish('p/w', 'for-a');
  await until(() => seen.a.length === 1, "a's own message");
  // Redis queued 'for-a' to every matching subscriber before answering a's PUBLISH; c's fence is
  // published after that, so c reads the fence only after anything queued for it before.
  c.publish('p/w', 'fence');
  await until(() => seen.c.length === 1, "c's fence");
  assert.deepEqual(seen.c, ['fence']);
  assert.deepEqual(seen.a, ['for-a']);
});

redisTest('unsubscribe stops delivery; double subscribe and unsubscribe are harmless', async () => {
  const prefix = randomPrefix();
  const [a, b] = [await bus(prefix), await bus(prefix)];
  const seen: string[] = [];
  const fence: string[] = [];
  await b.subscribe('p/w', (m) => seen.push(`first:${m}`));
  await b.subscribe('p/w', (m) => seen.push(m)); // the second replaces the handler, once
  await b.subscribe('p/fence', (m) => fence.push(m));
  a.publish('p/w', 'before');
  a.publish('p/fence', '1');
  await until(() => fence.length === 1, 'fence 1');
  assert.deepEqual(seen, ['before'], 'delivered once, to the latest handler');
  await b.unsubscribe('p/w');
  await b.unsubscribe('p/w');
  await b.unsubscribe('never-subscribed');
  a.publish('p/w', 'after');
  a.publish('p/fence', '2');
  await until(() => fence.length === 2, 'fence 2');
  assert.deepEqual(seen, ['before']);
  await b.subscribe('p/w', (m) => seen.push(m));
  a.publish('p/w', 'again');
  await until(() => seen.length === 2, 'delivery after subscribing again');
  assert.deepEqual(seen, ['before', 'again']);
});

redisTest('a throwing room handler is reported and does not break delivery to other rooms', async () => {
  const prefix = randomPrefix();
  const errors: unknown[] = [];
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const a = await RedisBus.connect({ url: REDIS_URL, prefix, onError: (e) => errors.push(e) });
  buses.push(a);
  const seen: string[] = [];
  await a.subscribe('bad', () => {
    throw new Error('handler bug');
  });
  await a.subscribe('good', (m) => seen.push(m));
  a.publish('bad', 'x');
  a.publish('good', 'y');
  await until(() => seen.length === 1, 'the good room');
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /handler bug/);
});

redisTest('connect fails clearly when Redis is unreachable, naming REDIS_URL', async () => {
  const url = `redis://127.0.0.1:${await closedPort()}`;
  await assert.rejects(RedisBus.connect({ url, onError: () => {} }, 2_000), (error: unknown) => {
    assert.ok(error instanceof RedisUnreachableError);
    assert.match(error.message, /REDIS_URL/);
    assert.match(error.message, /ECONNREFUSED/);
    return true;
  });
});

redisTest('publish while Redis is unreachable never throws, drops and counts, and keeps no queue', async () => {
  const url = `redis://127.0.0.1:${await closedPort()}`;
  const down = new RedisBus({ url, onError: () => {} });
  try {
    await down.subscribe('p/w', () => {}); // registered, goes live on connect
    const message = 'x'.repeat(1024);
    const heapBefore = process.memoryUsage().heapUsed;
    const n = 200_000;
    for (let i = 0; i < n; i++) down.publish('p/w', message);
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.equal(down.stats.dropped, n);
    assert.equal(down.stats.pending, 0);
    assert.equal(down.connected, false);
    // Queued as ioredis commands these would hold well over 50 MB.
    assert.ok(grown < 20 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB for ${n} dropped publishes`);
  } finally {
    await down.close();
  }
});

redisTest('when Redis stops answering (socket open, no replies), pending publishes stay bounded and the bus recovers', async () => {
  const proxy = await FreezableProxy.start();
  try {
    const prefix = randomPrefix();
    const errors: unknown[] = [];
    if (!prefixes.includes(prefix)) prefixes.push(prefix);
    const frozen = await RedisBus.connect({ url: proxy.url, prefix, healthCheckMs: 300, maxPendingPublishes: 100, onError: (e) => errors.push(e) });
    buses.push(frozen);
    const direct = await bus(prefix);
    const seen: string[] = [];
    await frozen.subscribe('p/w', (m) => seen.push(m));
    const resynced = nextResync(frozen);
    proxy.freeze();
    for (let i = 0; i < 10_000; i++) frozen.publish('p/w', `lost${i}`);
    assert.equal(frozen.stats.pending, 100, 'at most maxPendingPublishes wait for a reply');
    assert.equal(frozen.stats.dropped, 10_000 - 100);
    // The socket timeout finds both dead links; after reconnecting the subscriber resubscribes
    // and the room layer is told to fill the gap.
    await resynced;
    await until(() => frozen.stats.pending === 0, 'pending publishes given up');
    assert.ok(
      errors.some((e) => /timeout/i.test(String(e))),
      `a socket timeout was reported: ${errors.map(String).join('; ')}`,
    );
    await until(() => frozen.connected, 'both connections back');
    direct.publish('p/w', 'live again');
    frozen.publish('p/w', 'from frozen again');
    await until(() => seen.includes('live again') && seen.includes('from frozen again'), 'delivery after recovery');
  } finally {
    await proxy.close();
  }
});

redisTest('after the subscriber connection is killed, the bus resubscribes, then resyncs, and delivers again', async () => {
  const prefix = randomPrefix();
  const [a, b] = [await bus(prefix, { quiet: true }), await bus(prefix)];
  const seen: string[] = [];
  await b.subscribe('p/w', (m) => seen.push(m));
  await b.subscribe('p/other', (m) => seen.push(`other:${m}`));
  await b.subscribe('p/gone', (m) => seen.push(`gone:${m}`));
  await b.unsubscribe('p/gone');
  const resynced = nextResync(b);
  const t0 = performance.now();
  assert.equal(await killConnection(admin, `vidget-sub:${b.nodeId}`), 1);
  await resynced;
  const ms = performance.now() - t0;
  console.log(`# resync ${ms.toFixed(0)} ms after the subscriber connection was killed`);
  assert.equal(b.stats.resyncs, 1);
  // onResync came after the SUBSCRIBE reply: a message published now is delivered.
  a.publish('p/w', 'after');
  a.publish('p/other', 'after');
  a.publish('p/gone', 'after');
  a.publish('p/w', 'fence');
  await until(() => seen.includes('fence'), 'delivery after resync');
  assert.deepEqual(seen, ['after', 'other:after', 'fence'], 'only the rooms still subscribed');
  // The channels are subscribed exactly once on the new connection.
  const counts = (await admin.call('PUBSUB', 'NUMSUB', `${prefix}room:p/w`, `${prefix}room:p/gone`)) as [string, number, string, number];
  assert.deepEqual([counts[1], counts[3]], [1, 0]);
});

redisTest('the publishes of one event-loop turn go to Redis as one command, in order, at most 512 each; a flushed script cache is reloaded', async () => {
  const prefix = randomPrefix();
  const [a, b] = [await bus(prefix), await bus(prefix)];
  const seen: string[] = [];
  await b.subscribe('p/w', (m) => seen.push(m));
  await b.subscribe('p/v', (m) => seen.push(`v:${m}`));
  const turn = (from: number, n: number) => {
    for (let i = from; i < from + n; i++) a.publish(i % 3 === 0 ? 'p/v' : 'p/w', String(i));
  };
  turn(0, 100);
  assert.equal(a.stats.commands, 0, 'nothing is sent before the turn ends');
  await until(() => seen.length === 100, 'the first turn');
  assert.equal(a.stats.commands, 1);
  const expected = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k).map((i) => (i % 3 === 0 ? `v:${i}` : String(i)));
  assert.deepEqual(seen, expected(0, 100));

  // 1,200 in one turn: 512 + 512 + 176.
  turn(100, 1200);
  await until(() => seen.length === 1300, 'the second turn');
  assert.equal(a.stats.commands, 4);
  assert.deepEqual(seen, expected(0, 1300));

  // Redis restarted empty forgets its scripts: the next batch loads the script again.
  await admin.call('SCRIPT', 'FLUSH');
  turn(1300, 10);
  await until(() => seen.length === 1310, 'a batch after SCRIPT FLUSH');
  assert.deepEqual(seen, expected(0, 1310));
  assert.equal(a.stats.published, 1310);
  assert.equal(a.stats.dropped, 0);
});

redisTest('after the publisher connection is killed, publishes are dropped until it is back, then flow', async () => {
  const prefix = randomPrefix();
  const [a, b] = [await bus(prefix, { quiet: true }), await bus(prefix)];
  const seen: string[] = [];
  await b.subscribe('p/w', (m) => seen.push(m));
  assert.equal(await killConnection(admin, `vidget-pub:${a.nodeId}`), 1);
  await until(() => !a.connected, 'a notices');
  a.publish('p/w', 'dropped');
  assert.equal(a.stats.dropped, 1);
  await until(() => a.connected, 'a reconnects');
  a.publish('p/w', 'flows');
  await until(() => seen.length === 1, 'delivery');
  assert.deepEqual(seen, ['flows']);
});

redisTest('close flushes pending publishes and ends both connections', async () => {
  const prefix = randomPrefix();
  const [a, b] = [await bus(prefix), await bus(prefix)];
  const seen: string[] = [];
  await b.subscribe('p/w', (m) => seen.push(m));
  for (let i = 0; i < 1000; i++) a.publish('p/w', String(i));
  await a.close();
  assert.equal(a.stats.published, 1000);
  await until(() => seen.length === 1000, 'every publish sent before close');
  a.publish('p/w', 'after close');
  assert.equal(a.stats.dropped, 1);
  await assert.rejects(
    a.subscribe('p/w', () => {}),
    /closed/,
  );
  assert.equal(await killConnection(admin, `vidget-sub:${a.nodeId}`), 0, 'no connection left');
});

redisTest('watch: every room of a project, once each, whether or not the room is also subscribed on this node; other projects and prefixes unheard', async () => {
  const prefix = randomPrefix();
  const [a, b, other] = [await bus(prefix), await bus(prefix), await bus(randomPrefix())];
  const watched: Array<[string, string]> = [];
  const own: string[] = [];
  await a.watch('p', (room, m) => watched.push([room, m]));
  await a.subscribe('p/open', (m) => own.push(m));
  const n = 200;
  for (let i = 0; i < n; i++) {
    b.publish('p/far', `far${i}`);
    b.publish('p/open', `open${i}`);
    b.publish('q/elsewhere', `q${i}`);
    other.publish('p/far', `stranger${i}`);
  }
  b.publish('p/far', 'last');
  await until(() => watched.at(-1)?.[1] === 'last', 'the last watched message');
  // A subscribed room's messages go to its own handler only (Redis sends them twice: as the channel's and the pattern's).
  assert.deepEqual(watched, [...Array.from({ length: n }, (_, i) => ['p/far', `far${i}`]), ['p/far', 'last']]);
  assert.deepEqual(
    own,
    Array.from({ length: n }, (_, i) => `open${i}`),
  );
  // Subscribing a room while watched: no message is lost or doubled in the switch.
  const switching: string[] = [];
  for (let i = 0; i < n; i++) b.publish('p/switch', `s${i}`);
  const subscribed = a.subscribe('p/switch', (m) => switching.push(m));
  for (let i = n; i < 2 * n; i++) b.publish('p/switch', `s${i}`);
  await subscribed;
  b.publish('p/switch', 'done');
  await until(() => switching.at(-1) === 'done', 'the switch');
  const heardBoth = [...watched.filter(([room]) => room === 'p/switch').map(([, m]) => m), ...switching];
  assert.equal(new Set(heardBoth).size, heardBoth.length, 'nothing twice');
  assert.ok(switching.length >= n + 1, 'the room hears itself once subscribed');
  await a.unwatch('p');
  b.publish('p/far', 'unheard');
  b.publish('p/open', 'still');
  await until(() => own.at(-1) === 'still', 'the subscribed room');
  assert.ok(!watched.some(([, m]) => m === 'unheard'), 'nothing after unwatch');
});

redisTest('watch survives a dropped subscriber connection: the pattern is made again, then onResync', async () => {
  const prefix = randomPrefix();
  const [a, b] = [await bus(prefix, { quiet: true }), await bus(prefix)];
  const watched: string[] = [];
  await a.watch('p', (_room, m) => watched.push(m));
  const resynced = nextResync(a);
  assert.equal(await killConnection(admin, `vidget-sub:${a.nodeId}`), 1);
  await resynced;
  b.publish('p/after', 'after');
  await until(() => watched.includes('after'), 'a message after the reconnect');
});
