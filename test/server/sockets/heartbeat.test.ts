// The heartbeat pings each socket once per interval, a tenth of the sockets at a time, so a
// server with many connections never sends (and gets back) all its pings in one event-loop turn.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { TestClient, startServer } from '../helpers.js';

test('pings are spread over the interval, and every socket gets one each interval', async (t) => {
  const interval = 600;
  const server = await startServer({ heartbeatMs: interval });
  t.after(() => server.close());
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => TestClient.joined(server, 'p', `hb${i % 2}`)));
  t.after(() => Promise.all(clients.map((c) => c.close())));
  const started = performance.now();
  // Each client's first two pings (ws answers them with pongs by itself).
  const pings = await Promise.all(
    clients.map(async (c) => {
      await once(c.ws, 'ping');
      const first = performance.now() - started;
      await once(c.ws, 'ping');
      return [first, performance.now() - started] as const;
    }),
  );
  const firsts = pings.map(([first]) => first);
  const spread = Math.max(...firsts) - Math.min(...firsts);
  console.log(`# first pings spread over ${spread.toFixed(0)} ms of a ${interval} ms interval`);
  assert.ok(spread >= interval / 2, `first pings within ${spread} ms of each other: sent in one turn`);
  for (const [first, second] of pings) assert.ok(second - first > interval / 2 && second - first < interval * 1.5, `a socket pinged ${second - first} ms apart`);
  assert.equal(server.stats().connections, 20, 'every socket answered its pings');
});
