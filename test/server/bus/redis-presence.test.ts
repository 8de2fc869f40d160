import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisPresence, type RedisPresenceOptions } from '../../../src/server/bus/redis-presence.js';
import { until } from '../helpers.js';
import { REDIS_URL, adminConnection, deleteKeys, killConnection, randomPrefix, redisUnavailable } from './redis-test-kit.js';

const unavailable = await redisUnavailable();
if (unavailable) console.log(`# skipping RedisPresence tests: ${unavailable}`);
const redisTest = unavailable ? test.skip : test;

let admin: Redis;
const prefixes: string[] = [];
const stores: RedisPresence[] = [];

before(() => {
  if (!unavailable) admin = adminConnection();
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  if (!admin) return;
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  admin.disconnect();
});

/** A connected presence node on `prefix`, closed after the file; errors fail the test. */
async function node(prefix: string, nodeId: string, options: Partial<RedisPresenceOptions> = {}): Promise<RedisPresence> {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const store = await RedisPresence.connect({ url: REDIS_URL, prefix, nodeId, onError: (e) => assert.fail(`unexpected presence error: ${String(e)}`), ...options });
  stores.push(store);
  return store;
}

/** Polls `total` until it is `expected` (Redis state has no event of its own). */
async function totalBecomes(store: RedisPresence, room: string, expected: number, ms = 8_000): Promise<void> {
  let last: number;
  const deadline = Date.now() + ms;
  while ((last = await store.total(room)) !== expected) {
    if (Date.now() > deadline) throw new Error(`total of ${room} is ${last}, not ${expected}, after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

redisTest('totals across three nodes, per room, exact after each change', async () => {
  const prefix = randomPrefix();
  const [n1, n2, n3] = [await node(prefix, 'n1'), await node(prefix, 'n2'), await node(prefix, 'n3')];
  await Promise.all([n1.set('p/w', 2), n2.set('p/w', 3), n3.set('p/w', 5), n2.set('p/x', 7)]);
  for (const n of [n1, n2, n3]) assert.equal(await n.total('p/w'), 10);
  assert.equal(await n1.total('p/x'), 7);
  assert.equal(await n1.total('p/empty'), 0);
  await n2.set('p/w', 0);
  assert.equal(await n3.total('p/w'), 7);
  await n2.set('p/w', 1);
  await n1.set('p/w', 4);
  assert.equal(await n3.total('p/w'), 10);
  assert.deepEqual(await admin.hgetall(`${prefix}presence:p/w`), { n1: '4', n2: '1', n3: '5' });
  const other = await node(randomPrefix(), 'n1');
  assert.equal(await other.total('p/w'), 0, 'another prefix is another deployment');
});

redisTest('close removes the node and its counts at once; the others hear onNodesChanged', async () => {
  const prefix = randomPrefix();
  const opts = { heartbeatMs: 100, nodeTtlMs: 300 };
  const [n1, n2] = [await node(prefix, 'n1', opts), await node(prefix, 'n2', opts)];
  await n1.set('p/w', 2);
  await n2.set('p/w', 3);
  await n2.set('p/x', 1);
  await n2.set('p/x', 0); // left: its field must not linger either
  await n2.set('p/y', 4);
  // Wait until n1 has seen n2 in the live set, so the goodbye is a change for it.
  await until(() => (n1 as unknown as { liveNodes?: string }).liveNodes === 'n1\nn2', 'n1 sees both nodes');
  let changed = 0;
  n1.onNodesChanged = () => changed++;
  await n2.close();
  assert.equal(await n1.total('p/w'), 2, 'counts gone with the goodbye, not after the TTL');
  assert.equal(await admin.hexists(`${prefix}presence:p/y`, 'n2'), 0);
  assert.equal(await admin.zscore(`${prefix}nodes`, 'n2'), null);
  await until(() => changed === 1, 'onNodesChanged on n1', 2_000);
  assert.equal((n2 as unknown as { redis: Redis }).redis.status, 'end', 'connection ended');
  await n2.set('p/w', 9); // after close: ignored, no throw
  assert.equal(await n1.total('p/w'), 2);
});

redisTest('a node SIGKILLed without goodbye stops counting within nodeTtlMs, onNodesChanged fires within nodeTtlMs + heartbeatMs (defaults), and its fields go from rooms nobody reads', async () => {
  const prefix = randomPrefix();
  const watcher = await node(prefix, 'watcher');
  await watcher.set('p/w', 1);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./presence-node.ts', import.meta.url)), REDIS_URL, prefix, 'doomed', 'p/w=4', 'p/lonely=3'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [chunk] = (await once(child.stdout!, 'data', { signal: AbortSignal.timeout(15_000) })) as [Buffer];
    assert.equal(chunk.toString().trim(), 'ready');
    assert.equal(await watcher.total('p/w'), 5);
    // The watcher's baseline must include the child before the kill, or the change is not seen.
    await until(() => (watcher as unknown as { liveNodes?: string }).liveNodes === 'doomed\nwatcher', 'watcher sees the child', 5_000);
    let nodesChangedAt = 0;
    watcher.onNodesChanged = () => {
      nodesChangedAt ||= performance.now();
    };
    const killedAt = performance.now();
    child.kill('SIGKILL');
    await once(child, 'exit');
    await totalBecomes(watcher, 'p/w', 1, 10_000);
    const dropped = performance.now() - killedAt;
    await until(() => nodesChangedAt > 0, 'onNodesChanged', 10_000);
    const heard = nodesChangedAt - killedAt;
    console.log(`# killed node stopped counting after ${dropped.toFixed(0)} ms; onNodesChanged after ${heard.toFixed(0)} ms (bounds 6000 / 8000 ms)`);
    assert.ok(dropped <= 6_000 + 250, `stopped counting after ${dropped} ms`);
    assert.ok(heard <= 8_000 + 250, `onNodesChanged after ${heard} ms`);
    assert.equal(await admin.hexists(`${prefix}presence:p/w`, 'doomed'), 0, 'the dead field was deleted by total');
    // A room nobody reads any more loses the dead node's field too (the survivors' heartbeat).
    const deadline = Date.now() + 10_000;
    while ((await admin.exists(`${prefix}presence:p/lonely`, `${prefix}node-rooms:doomed`)) !== 0) {
      if (Date.now() > deadline) assert.fail('the dead node left its field in a room nobody reads');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

redisTest('a node taken for dead (its entries deleted) writes its counts again on its next heartbeat', async () => {
  const prefix = randomPrefix();
  const opts = { heartbeatMs: 100, nodeTtlMs: 300 };
  const [n1, n2] = [await node(prefix, 'n1', opts), await node(prefix, 'n2', opts)];
  await n1.set('p/w', 2);
  await n2.set('p/w', 3);
  // What other nodes do to a node whose event loop stalled past the TTL.
  await admin.zrem(`${prefix}nodes`, 'n2');
  await admin.hdel(`${prefix}presence:p/w`, 'n2');
  assert.equal(await n1.total('p/w'), 2);
  await totalBecomes(n1, 'p/w', 5, 2_000);
});

redisTest('counts set while the connection is down are written when it is back', async () => {
  const prefix = randomPrefix();
  const errors: unknown[] = [];
  const opts = { heartbeatMs: 100, nodeTtlMs: 1_000, onError: (e: unknown) => errors.push(e) };
  // Node ids unique on this Redis: the connection is found by its name.
  const [n1, n2] = [await node(prefix, 'down-n1', opts), await node(prefix, 'down-n2', opts)];
  await n2.set('p/w', 3);
  await n2.set('p/gone', 2);
  const down = once((n2 as unknown as { redis: Redis }).redis, 'close', { signal: AbortSignal.timeout(5_000) });
  assert.equal(await killConnection(admin, 'vidget-presence:down-n2'), 1);
  await down;
  await n2.set('p/w', 6); // while down: kept locally, nothing queued, no throw
  await n2.set('p/gone', 0);
  await totalBecomes(n1, 'p/w', 6, 3_000);
  await totalBecomes(n1, 'p/gone', 0, 3_000);
  assert.equal(await admin.hexists(`${prefix}presence:p/gone`, 'down-n2'), 0);
});

redisTest('total rejects while Redis is unreachable; nodeTtlMs must exceed heartbeatMs', async () => {
  assert.throws(() => new RedisPresence({ url: REDIS_URL, nodeId: 'x', heartbeatMs: 1_000, nodeTtlMs: 1_000 }), RangeError);
  const down = new RedisPresence({ url: 'redis://127.0.0.1:1', nodeId: 'x', onError: () => {} });
  try {
    await down.set('p/w', 1); // kept for later, no throw
    await assert.rejects(down.total('p/w'));
  } finally {
    await down.close();
  }
});
