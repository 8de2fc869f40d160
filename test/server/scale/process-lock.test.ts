import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../helpers.js';
import { spawnServer } from '../server-process.js';

test('a second server process on the same SQLite data directory is refused at start with a clear message; the first keeps serving', async (t) => {
  const dataDir = tempDir();
  const first = await spawnServer({ DATA_DIR: dataDir });
  t.after(() => first.stop());
  await assert.rejects(spawnServer({ DATA_DIR: dataDir }), (error: Error) => {
    assert.match(error.message, /in use by another process \(pid \d+/);
    assert.match(error.message, /DATABASE_URL/);
    return true;
  });
  assert.ok(first.alive());
  assert.equal((await fetch(`${first.url}/api/health`)).status, 200);
  // A lock left by a process that died is taken over.
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  const next = await spawnServer({ DATA_DIR: dataDir });
  await next.stop();
});
