// The widget socket's figures: its bundle size, and the flush of an offline queue in Chromium
// (real IndexedDB) beside a bare ws client sending the same publishes to the same server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureBundle } from '../scripts/bundle-sizes.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../scripts/chromium.mjs';
import { chromium } from 'playwright-core';
import { createServer, type Action } from '../src/server/index.js';

export interface SocketFigures {
  /** dist/vidget.js: player, widget host, socket, protocol and Lit. */
  core: { bytes: number; gzip: number };
  /** Chunks loaded on demand (partysocket, with the first socket). */
  lazy: Array<{ name: string; bytes: number; gzip: number }>;
  queued: number;
  flushMs: number;
  bareMs: number;
}

async function freePort(): Promise<number> {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * In the page: a persistent socket to a server that is not up yet, `count` publishes, and a wait
 * until IndexedDB really holds them all (as it would after an outage). Strings, like RAW_FLUSH,
 * so the bundler's helpers do not leak into the page.
 */
const QUEUE_OFFLINE = `async ({ url, host, count }) => {
  const { WidgetSocket } = await import(url);
  const s = new WidgetSocket({ host, project: 'bench', widgetId: 'flush', persistent: true, maxQueued: count, reconnectDelayMs: 50 });
  window.s = s;
  s.addEventListener('statechange', (e) => { if (e.state === 'running') window.runningAt = performance.now(); });
  const all = [];
  for (let i = 0; i < count; i++) all.push(s.publish({ n: i }));
  window.all = Promise.all(all);
  const db = await new Promise((resolve) => (indexedDB.open('vidget').onsuccess = (e) => resolve(e.target.result)));
  const stored = () => new Promise((resolve) => (db.transaction('kv').objectStore('kv').count().onsuccess = (e) => resolve(e.target.result)));
  while ((await stored()) < count) await new Promise((r) => setTimeout(r, 50));
  db.close();
}`;

/**
 * The baseline, in the same page: the browser's own WebSocket sending the same persistent
 * publishes to the same server, 64 unacked at a time, until every ack is back. (A string, so
 * the bundler's helpers do not leak into the page.)
 */
const RAW_FLUSH = `async ({ url, count }) => {
  const ws = new WebSocket(url);
  await new Promise((resolve) => (ws.onopen = resolve));
  const start = performance.now();
  let sent = 0;
  let acked = 0;
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < count && sent - acked < 64) ws.send(JSON.stringify({ type: 'pub', cid: 'b' + sent, data: { n: sent++ }, persist: true }));
    };
    ws.onmessage = (e) => {
      if (JSON.parse(e.data).type !== 'ack') return;
      if (++acked === count) resolve();
      else pump();
    };
    pump();
  });
  ws.close();
  return performance.now() - start;
}`;

export async function socketBench({ queued }: { queued: number }): Promise<SocketFigures> {
  const work = mkdtempSync(join(tmpdir(), 'vidget-socket-bench-'));
  const built = await measureBundle(join(work, 'static'));
  writeFileSync(join(work, 'static', 'index.html'), '<!doctype html><title>bench</title>');
  // Page and bundle come from one server; the socket talks to another that starts later.
  const pages = await createServer({ port: 0, dataDir: join(work, 'pages'), staticDir: join(work, 'static'), log: () => {} });
  const port = await freePort();
  const limits = {
    projects: (id: string) => ({ id, anonymous: ['read', 'publish', 'search'] as Action[] }),
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    rates: { connectsPerAddress: { perSecond: 1e6, burst: 1e6 }, framesPerAddress: { perSecond: 1e6, burst: 1e6 } },
    log: () => {},
  };
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`${pages.url}/index.html`);
    await page.evaluate(`(${QUEUE_OFFLINE})(${JSON.stringify({ url: `${pages.url}/vidget.js`, host: `127.0.0.1:${port}`, count: queued })})`);
    // An outage lasts a while: let the browser finish writing the queue to disk before the
    // server comes back, or its IndexedDB work competes with the flush on 2 cores.
    await new Promise((r) => setTimeout(r, 1000));
    const server = await createServer({ port, dataDir: join(work, 'target'), ...limits });
    // From the socket's `running` (reconnect delay and handshake excluded) to the last ack.
    const flushMs = await page.evaluate(async () => {
      const w = window as unknown as { all: Promise<unknown[]>; runningAt: number };
      await w.all;
      return performance.now() - w.runningAt;
    });
    const bareMs = (await page.evaluate(`(${RAW_FLUSH})(${JSON.stringify({ url: `${server.wsUrl}/parties/bench/raw?_pk=raw`, count: queued })})`)) as number;
    await server.close();
    return { core: { bytes: built.core.bytes, gzip: built.core.gzip }, lazy: built.lazy, queued, flushMs, bareMs };
  } finally {
    await browser.close();
    await pages.close();
  }
}
