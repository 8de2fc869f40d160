import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCode, type ServerFrame, type VidgetRecord } from '../../src/protocol/index.js';
import { SqliteStore } from '../../src/server/index.js';
import { startServer, tempDir, TestClient } from './helpers.js';

test('a full disk: publishes get err unavailable (not a crash), the server keeps serving, nothing acked is lost, a resend lands once later', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'vidget.db');
  const errors: unknown[] = [];
  // A real SQLite file capped at 160 KiB: SQLITE_FULL, exactly as when the disk fills.
  const server = await startServer({ dataDir: dir, store: new SqliteStore(file, { maxBytes: 160 * 1024 }), rateLimit: { perSecond: 1e6, burst: 1e6 }, log: (_m, e) => errors.push(e) });
  const client = await TestClient.joined(server, 'p', 'full');
  const watcher = await TestClient.joined(server, 'p', 'full');
  const acked: VidgetRecord[] = [];
  let refused: { cid: string; data: unknown } | undefined;
  for (let i = 0; i < 2000 && !refused; i++) {
    const cid = `c${i}`;
    const data = { i, text: 'z'.repeat(1000) };
    client.send({ type: 'pub', cid, data, persist: true });
    const reply = await client.next((f) => (f.type === 'ack' || f.type === 'err') && f.cid === cid);
    if (reply.type === 'ack') acked.push(reply.record);
    else {
      assert.equal(reply.type === 'err' && reply.code, ErrorCode.Unavailable);
      refused = { cid, data };
    }
  }
  assert.ok(refused, 'the cap was reached');
  assert.ok(acked.length > 50, `${acked.length} acked before the disk filled`);
  assert.ok(
    errors.some((e) => /full/i.test(String(e))),
    'the store error was logged',
  );

  // Still serving: ephemeral messages, searches, new connections.
  const eph = await client.publish({ hello: 'still here' }, false);
  assert.equal(eph.persisted, false);
  await watcher.next('msg', (f) => (f.record.data as { hello?: string }).hello === 'still here');
  const found = (await watcher.search({ limit: 0 })) as Extract<ServerFrame, { type: 'result' }>;
  assert.equal(found.total, acked.length);
  const late = await TestClient.joined(server, 'p', 'full');
  await late.close();
  await client.close();
  await watcher.close();
  await server.close();

  // Space again (the cap lifted): every acked record is there, and the refused one, resent with
  // its cid as the socket's outbox does, is stored once.
  const again = await startServer({ dataDir: dir });
  t.after(() => again.close());
  const reader = await TestClient.joined(again, 'p', 'full');
  assert.deepEqual(await reader.allRecords(), acked);
  const resend = await TestClient.connect(again, 'p', 'full', { _pk: client.clientKey });
  await resend.next('synced');
  for (let k = 0; k < 2; k++) {
    resend.send({ type: 'pub', cid: refused.cid, data: refused.data, persist: true });
    await resend.next('ack', (f) => f.cid === refused.cid);
  }
  const after = (await reader.search({ filters: [{ field: 'data.i', operator: '=', value: (refused.data as { i: number }).i }] })) as Extract<ServerFrame, { type: 'result' }>;
  assert.equal(after.total, 1);
  await resend.close();
  await reader.close();
});
