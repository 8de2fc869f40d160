// A reconnect storm: every client dropped at once (the server restarts) comes back spread out by
// its jittered backoff, not all in the same instant, and resumes with no gap in its room.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { createServer, type VidgetServer } from '../../src/server/index.js';
import { WidgetSocket } from '../../src/socket/index.js';
import { until } from '../helpers/wait.js';
import { openProjects, tempDir, UNLIMITED_RATES } from '../server/helpers.js';

const SOAK = process.env.VIDGET_SOAK === '1';
const CLIENTS = SOAK ? 2000 : 300;
const ROOMS = CLIENTS / 20;
const DELAY_MS = 1000;

test(`reconnect storm: ${CLIENTS} clients dropped at once reconnect spread by jitter and resume with no gap`, { timeout: 180_000 }, async (t) => {
  const dataDir = tempDir();
  const options = { dataDir, log: () => {}, maxConnectionsPerIp: 1e6, rateLimit: { perSecond: 1e6, burst: 1e6 }, rates: UNLIMITED_RATES, projects: openProjects() };
  let server: VidgetServer = await createServer({ port: 0, ...options });
  const port = server.port;
  const sockets: WidgetSocket[] = [];
  const seen: Array<Set<number>> = [];
  t.after(async () => {
    for (const s of sockets) s.close();
    await server.close();
  });
  for (let i = 0; i < CLIENTS; i++) {
    const s = new WidgetSocket({
      host: `127.0.0.1:${port}`,
      project: 'storm',
      widgetId: `r${i % ROOMS}`,
      persistent: true,
      database: `storm-${process.pid}-${i}`,
      reconnectDelayMs: DELAY_MS,
      WebSocket,
    });
    const ids = new Set<number>();
    s.addEventListener('message', (e) => ids.add(e.data.id));
    sockets.push(s);
    seen.push(ids);
  }
  await until(() => sockets.every((s) => s.state === 'running'), 'every socket running', 60_000);
  await Promise.all(sockets.map((s, c) => s.publish({ c, phase: 'before' })));

  // Drop everyone at once; the server is back at once, so every reconnect's timing is the client's.
  await server.close();
  const upgrades: number[] = [];
  server = await createServer({ port, ...options });
  const t0 = performance.now();
  server.http.on('upgrade', () => upgrades.push(performance.now() - t0));
  // Each client, once back, publishes; the others must get it live or by catch-up.
  for (const [c, s] of sockets.entries()) {
    const onState = () => {
      if (s.state !== 'running') return;
      s.removeEventListener('statechange', onState);
      void s.publish({ c, phase: 'after' });
    };
    s.addEventListener('statechange', onState);
  }
  await until(() => upgrades.length >= CLIENTS && sockets.every((s) => s.state === 'running' && s.queued === 0), 'everyone back with an empty outbox', 120_000);

  // The rate: the most reconnects in any 100 ms window. Backoff of DELAY_MS × [0.5, 1.5) spreads
  // N clients over a second, about N/10 per window; the bound stated: at most N/5 (twice that).
  const windows = new Map<number, number>();
  for (const at of upgrades) windows.set(Math.floor(at / 100), (windows.get(Math.floor(at / 100)) ?? 0) + 1);
  const peak = Math.max(...windows.values());
  const spread = Math.max(...upgrades) - Math.min(...upgrades);
  t.diagnostic(`${upgrades.length} reconnects over ${spread.toFixed(0)} ms, peak ${peak} per 100 ms (bound ${CLIENTS / 5})`);
  assert.ok(peak <= CLIENTS / 5, `peak ${peak} reconnects in 100 ms`);
  assert.ok(spread >= DELAY_MS / 2, `reconnects spread over ${spread.toFixed(0)} ms`);

  // No gap: every client has every record of its room (2 per client: before and after).
  const perRoom = (CLIENTS / ROOMS) * 2;
  await until(() => seen.every((ids) => ids.size >= perRoom), 'every client to see its whole room', 30_000);
  for (let r = 0; r < ROOMS; r++) {
    const { records, total } = await sockets[r]!.search({ query: { limit: 1000 } });
    assert.equal(total, perRoom);
    for (let i = r; i < CLIENTS; i += ROOMS)
      assert.deepEqual(
        [...seen[i]!].sort((a, b) => a - b),
        records.map((x) => x.id),
        `client ${i}`,
      );
  }
});
