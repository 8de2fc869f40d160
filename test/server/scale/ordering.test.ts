// The ordering model of a shared store (src/server/README.md): publishers on two nodes race, a
// reader hops between the nodes resuming by cursor, and sees every record once, in id order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PostgresStore } from '../../../src/server/store/postgres-store.js';
import type { VidgetServer } from '../../../src/server/index.js';
import { startServer, TestClient } from '../helpers.js';
import { DATABASE_URL, dropSchema, freshSchema, postgresMissing } from '../services.js';

const missing = await postgresMissing();
if (missing) console.log(`# skipping: ${missing}`);
const schema = freshSchema();
let nodes: VidgetServer[] = [];

before(async () => {
  if (missing) return;
  nodes = await Promise.all([0, 1].map(() => startServer({ store: new PostgresStore({ connectionString: DATABASE_URL, schema }), rateLimit: { perSecond: 1e6, burst: 1e6 } })));
});
after(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  if (!missing) await dropSchema(schema);
});

test('publishers on two nodes race; a reader resuming by cursor on either node misses nothing and sees nothing twice', { skip: missing ?? false }, async () => {
  const PER_PUBLISHER = 150;
  const publishers = await Promise.all([0, 1, 2, 3].map((i) => TestClient.joined(nodes[i % 2]!, 'race', 'room')));
  const acked = new Set<number>();
  let done = false;
  const publishing = Promise.all(
    publishers.map(async (p, n) => {
      // Eight in flight each: appends of both nodes overlap in PostgreSQL.
      for (let i = 0; i < PER_PUBLISHER; i += 8) {
        const acks = await Promise.all(Array.from({ length: Math.min(8, PER_PUBLISHER - i) }, (_, k) => p.publish({ n, i: i + k }, true, `p${n}-${i + k}`)));
        for (const ack of acks) acked.add(ack.record.id);
      }
    }),
  ).then(() => (done = true));

  // The reader: connect with its cursor, take the replay and whatever live records came, leave; again, on the other node.
  // It starts from the room's beginning (cursor 0): records stored before its first visit count too.
  const seen: number[] = [];
  let since = 0;
  let epoch: string | undefined;
  for (let hop = 0; !done || seen.length < acked.size; hop++) {
    assert.ok(hop < 20_000, `still ${acked.size - seen.length} records short after ${hop} hops (${acked.size} acked, done: ${done})`);
    const reader = await TestClient.connect(nodes[hop % 2]!, 'race', 'room', epoch === undefined ? { since } : { since, epoch });
    const synced = await reader.next('synced');
    assert.equal(synced.recovered, true);
    epoch = synced.epoch;
    await reader.close();
    for (const frame of reader.frames) {
      if (frame.type !== 'msg' || !frame.persisted) continue;
      assert.ok(frame.record.id > since, `record ${frame.record.id} again (cursor ${since})`);
      seen.push(frame.record.id);
      since = frame.record.id;
    }
  }
  await publishing;
  assert.equal(acked.size, 4 * PER_PUBLISHER);
  assert.deepEqual(
    seen,
    [...acked].sort((a, b) => a - b),
    'every acked record, once, in id order',
  );
  await Promise.all(publishers.map((p) => p.close()));
});

test("a node delivers the other node's records live in the room's order, even without a bus (read from the store when its own next record names them)", { skip: missing ?? false }, async () => {
  const onA = await TestClient.joined(nodes[0]!, 'race', 'live');
  const onB = await TestClient.joined(nodes[1]!, 'race', 'live');
  const fromB = await onB.publish({ from: 'B' });
  const fromA = await onA.publish({ from: 'A' });
  // A's own record names B's as its predecessor: A reads B's from the store and sends it first.
  const first = await onA.next('msg');
  assert.equal(first.record.id, fromB.record.id);
  assert.ok(fromA.record.id > fromB.record.id);
  await Promise.all([onA.close(), onB.close()]);
});
