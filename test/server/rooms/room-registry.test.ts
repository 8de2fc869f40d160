// Rooms are dropped when idle, including when the work that kept them open (publishes being
// stored, records waiting in the order gate) ends after their last connection left. On
// PostgreSQL, where a test can hold a room's row to keep an append waiting; skipped with the
// reason where it is absent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { VidgetServer } from '../../../src/server/index.js';
import { PostgresStore } from '../../../src/server/store/postgres-store.js';
import { TestClient, startServer, until } from '../helpers.js';
import { DATABASE_URL, dropSchema, freshSchema, postgresMissing } from '../services.js';

const missing = await postgresMissing();
if (missing) console.log(`# skipping the room registry tests on PostgreSQL: ${missing}`);

describe('room registry on PostgreSQL', { skip: missing ?? false }, () => {
  const schema = freshSchema();
  let server: VidgetServer;
  before(async () => {
    server = await startServer({ store: new PostgresStore({ connectionString: DATABASE_URL, schema }) });
  });
  after(async () => {
    await server.close();
    await dropSchema(schema);
  });

  test('a room whose last connection left while its publishes were being stored is dropped once they are, and keeps them', async () => {
    const a = await TestClient.joined(server, 'p1', 'leaving');
    await a.publish('first');
    // Another session holds the room's row: the next append waits for it, as a slow commit would.
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".rooms WHERE name = $1 FOR UPDATE`, ['p1/leaving']);
      for (let i = 0; i < 20; i++) a.send({ type: 'pub', cid: `l${i}`, data: i, persist: true });
      a.ws.close();
      await until(() => server.stats().connections === 0, 'the close');
      assert.equal(server.stats().rooms, 1, 'the room is still storing when its last connection goes');
      await admin.query('COMMIT');
    } finally {
      await admin.end();
    }
    await until(() => server.stats().rooms === 0, 'the room to be dropped after its last publishes were stored');
    const b = await TestClient.joined(server, 'p1', 'leaving');
    const answer = await b.search({ limit: 0 });
    assert.equal(answer.type === 'result' && answer.total, 21);
    await b.close();
  });
});
