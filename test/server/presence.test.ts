import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VidgetServer } from '../../src/server/index.js';
import { TestClient, startServer } from './helpers.js';

/** The last presence count a client has received so far. */
const lastCount = (c: TestClient): number | undefined => c.frames.filter((f) => f.type === 'presence').at(-1)?.count as number | undefined;

describe('presence', () => {
  let server: VidgetServer;
  before(async () => (server = await startServer()));
  after(() => server.close());

  test('every connection learns the count as others join and leave', async () => {
    const a = await TestClient.joined(server, 'p', 'count');
    await a.next('presence', (f) => f.count === 1);
    const b = await TestClient.joined(server, 'p', 'count');
    await a.next('presence', (f) => f.count === 2);
    await b.next('presence', (f) => f.count === 2);
    await b.close();
    await a.next('presence', (f) => f.count === 1);
    await a.close();
  });

  test('a burst of joins and leaves ends on the exact count, coalesced into fewer updates', async () => {
    const watcher = await TestClient.joined(server, 'p', 'burst');
    await watcher.next('presence', (f) => f.count === 1);
    const joiners = await Promise.all(Array.from({ length: 60 }, () => TestClient.connect(server, 'p', 'burst')));
    await watcher.next('presence', (f) => f.count === 61);
    // Close half at once; the last value must be exact.
    await Promise.all(joiners.slice(0, 30).map((c) => c.close()));
    await watcher.next('presence', (f) => f.count === 31);
    const updates = watcher.frames.filter((f) => f.type === 'presence').length;
    assert.ok(updates < 91, `expected coalesced updates, got ${updates} for 90 changes`);
    // Every remaining joiner converges on 31 too.
    await Promise.all(joiners.slice(30).map((c) => c.next('presence', (f) => f.count === 31)));
    for (const c of joiners.slice(30)) assert.equal(lastCount(c), 31);
    await Promise.all([watcher, ...joiners.slice(30)].map((c) => c.close()));
  });

  test('a connection that joins while the count does not change still receives it', async () => {
    const a = await TestClient.joined(server, 'p', 'steady');
    await a.next('presence', (f) => f.count === 1);
    const leaving = await TestClient.joined(server, 'p', 'steady');
    await a.next('presence', (f) => f.count === 2);
    // One leaves and one joins in the same turn: the net count stays 2, the newcomer still hears it.
    const [, newcomer] = await Promise.all([leaving.close(), TestClient.connect(server, 'p', 'steady')]);
    await newcomer!.next('presence', (f) => f.count === 2);
    await a.close();
    await newcomer!.close();
  });

  test('the count is per room', async () => {
    const a = await TestClient.joined(server, 'p', 'r1');
    const b = await TestClient.joined(server, 'p', 'r2');
    await a.next('presence', (f) => f.count === 1);
    await b.next('presence', (f) => f.count === 1);
    await a.close();
    await b.close();
  });
});
