// The services going away under traffic: Redis restarted (a real restart of this machine's
// Redis: it keeps nothing on disk) and PostgreSQL stopped and started. Nothing acked is lost, the
// bus gap is filled from the store, and the nodes recover by themselves. These need root on the
// machine that runs the services (as CI here); elsewhere they skip with the reason printed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { ServerFrame } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { TestClient } from '../helpers.js';
import type { ServerProcess } from '../server-process.js';
import { DATABASE_URL, REDIS_URL } from '../services.js';
import { Cluster, servicesMissing } from './cluster.js';

const LOCAL = REDIS_URL === 'redis://127.0.0.1:6379' && DATABASE_URL.includes('127.0.0.1:5432');
const missing =
  (await servicesMissing()) ??
  (!LOCAL ? "the services are not this machine's own (REDIS_URL/DATABASE_URL point elsewhere): not restarting them" : undefined) ??
  (process.getuid?.() !== 0 || !existsSync('/usr/bin/pg_ctlcluster') || !existsSync('/usr/bin/redis-server') ? 'restarting PostgreSQL and Redis needs root and pg_ctlcluster/redis-server' : undefined);
if (missing) console.log(`# skipping the service fault tests: ${missing}`);

const join = (node: ServerProcess, widget: string) => TestClient.joined(node as unknown as VidgetServer, 'scale', widget);
const persistedIds = (c: TestClient) => c.frames.flatMap((f: ServerFrame) => (f.type === 'msg' && f.persisted ? [f.record.id] : []));
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function redisUp(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function restartRedis(): void {
  spawnSync('redis-cli', ['-p', '6379', 'shutdown', 'nosave'], { stdio: 'ignore' });
  execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

const cluster = (() => readdirSync('/etc/postgresql').sort()[0])();
const pgctl = (action: 'stop' | 'start') => execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster ?? '15', 'main', action], { stdio: 'ignore' });

/** Publishes persistent records one after another until stopped; keeps what was acked and counts refusals. */
function steadyPublisher(client: TestClient) {
  const acked: number[] = [];
  let refused = 0;
  let stop = false;
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      const cid = `s${i}`;
      client.send({ type: 'pub', cid, data: { i }, persist: true });
      const answer = await client.next((f) => (f.type === 'ack' || f.type === 'err') && f.cid === cid);
      if (answer.type === 'ack') acked.push(answer.record.id);
      else {
        refused++;
        assert.equal((answer as { code?: string }).code, 'unavailable');
        await new Promise((resolve) => setTimeout(resolve, 50)); // a client's retry pace
      }
    }
  })();
  return { acked, refused: () => refused, stop: async () => ((stop = true), await done) };
}

describe('PostgreSQL and Redis going away under traffic', { skip: missing ?? false }, () => {
  const deployment = new Cluster();
  let a: ServerProcess;
  let b: ServerProcess;
  before(async () => {
    [a, b] = await Promise.all([deployment.start(), deployment.start()]);
  });
  after(async () => {
    if (!(await redisUp())) restartRedis();
    try {
      pgctl('start');
    } catch {
      // already running
    }
    await deployment.destroy();
  });

  test('Redis restarted mid-stream: every acked record reaches the other node once, in order (the bus gap is read from the store); presence comes back', async () => {
    const reader = await join(b, 'redis');
    const writer = await join(a, 'redis');
    const pub = steadyPublisher(writer);
    await until(() => pub.acked.length >= 50, 'some records before the restart');
    restartRedis();
    await until(redisUp, 'Redis back');
    const at = pub.acked.length;
    await until(() => pub.acked.length >= at + 50, 'records after the restart');
    await pub.stop();
    await until(() => persistedIds(reader).length >= pub.acked.length, `all ${pub.acked.length} records on the other node`);
    assert.deepEqual(persistedIds(reader), pub.acked);
    // The counts were lost with Redis's memory; each node tells its own again.
    const count = () => (reader.frames.filter((f) => f.type === 'presence').at(-1) as { count: number } | undefined)?.count;
    await until(() => count() === 2, 'the count of 2 again');
    await Promise.all([reader.close(), writer.close()]);
  });

  test('PostgreSQL stopped and started mid-stream: publishes are refused with unavailable meanwhile, nothing acked is lost, ephemeral traffic flows, the nodes recover by themselves', async () => {
    const reader = await join(b, 'pg');
    const writer = await join(a, 'pg');
    const pub = steadyPublisher(writer);
    await until(() => pub.acked.length >= 30, 'some records first');
    pgctl('stop');
    await until(() => pub.refused() > 0, 'a refused publish');
    // Ephemeral messages do not need the store (the node has ids in hand).
    const ephemeral = await writer.publish({ live: true }, false);
    await until(() => reader.frames.some((f) => f.type === 'msg' && f.record.id === ephemeral.record.id), 'the ephemeral message on the other node');
    pgctl('start');
    const at = pub.acked.length;
    await until(() => pub.acked.length >= at + 30, 'publishes acked again', 60_000);
    await pub.stop();
    await until(() => persistedIds(reader).length >= pub.acked.length, 'every acked record on the other node');
    assert.deepEqual(persistedIds(reader), pub.acked);
    // Every acked record is in the store (and the refused ones are not).
    const stored = await writer.search({ limit: 0 });
    assert.equal((stored as { total: number }).total, pub.acked.length);
    await Promise.all([reader.close(), writer.close()]);
  });
});
