import { expect } from '@esm-bundle/chai';
import { WidgetSocket, type RecordEvent, type SocketState, type StateChangeEvent, type WidgetSocketOptions } from '../../src/socket/index.js';
import { nextEvent, startServer, stopServer, testEnv, type TestEnv } from '../browser/test-env.js';
import { setVisibility, until } from '../helpers/wait.js';
// @ts-expect-error: plain JavaScript, kept exactly as the Cinema8 documentation has it
import { createAndListen, searchScores } from './cinema8-snippets.js';

let env: TestEnv;
let count = 0;
const widget = () => `bw${Date.now().toString(36)}${count++}`;
const sockets: WidgetSocket[] = [];
const open = (options: Partial<WidgetSocketOptions> & { widgetId: string }) => {
  const s = new WidgetSocket({ host: env.host, project: 'browser', reconnectDelayMs: 50, ...options });
  sockets.push(s);
  return s;
};
const running = (s: WidgetSocket) => (s.state === 'running' ? Promise.resolve() : nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'running').then(() => {}));

describe('WidgetSocket in Chromium against a real server', () => {
  before(async () => (env = await testEnv()));
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  it('runs the Cinema8 documentation snippets unchanged', async () => {
    const logged: unknown[][] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => logged.push(args);
    const destroyListeners: Array<() => void> = [];
    const widgetId = widget();
    // The widget-facing api as the player will expose it: webSocket callable with `new`.
    const c8PlayerApi = {
      webSocket: function (options: { persistent?: boolean }) {
        return open({ widgetId, ...options });
      } as unknown as new (options: { persistent?: boolean }) => WidgetSocket,
      on: (name: string, fn: () => void) => name === 'widgetDestroy' && destroyListeners.push(fn),
    };
    let socket!: WidgetSocket;
    try {
      socket = createAndListen(c8PlayerApi);
      await until(() => logged.some((a) => (a[0] as { data?: { msg?: string } })?.data?.msg === 'Hi'));
      await socket.publish({ score: 60 });
      searchScores(socket);
      await until(() => logged.some((a) => (a[0] as { total?: number })?.total === 1));
      for (const fn of destroyListeners) fn();
    } finally {
      console.log = log;
    }
    expect(logged.map((a) => a[0])).to.include('Socket Con. Open!');
    expect(logged.some((a) => a[0] === 1)).to.equal(true, 'onActiveConnectionsChange logged the count');
    const result = logged.find((a) => (a[0] as { total?: number })?.total === 1)![0] as { records: Array<{ data: { score: number } }> };
    expect(result.records[0]!.data.score).to.equal(60);
    expect(sockets.at(-1)!.state).to.equal('stopped');
    expect(logged.at(-1)).to.deep.equal(['Socket Con. Closed!'], 'the widgetDestroy snippet closes the socket: onClose fires');
  });

  it('Cinema8 hooks: onClose once per open connection that ends (a drop, then close()), onError once per outage, nothing per failed retry', async () => {
    const logged: unknown[][] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => logged.push(args);
    const destroyListeners: Array<() => void> = [];
    const widgetId = widget();
    // Counts connection attempts, so the test knows partysocket retried while the server was down.
    let attempts = 0;
    class Counting extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        attempts++;
      }
    }
    const c8PlayerApi = {
      webSocket: function (options: { persistent?: boolean }) {
        return open({ widgetId, WebSocket: Counting, ...options });
      } as unknown as new (options: { persistent?: boolean }) => WidgetSocket,
      on: (name: string, fn: () => void) => name === 'widgetDestroy' && destroyListeners.push(fn),
    };
    const count = (text: string) => logged.filter((a) => a[0] === text).length;
    let socket!: WidgetSocket;
    try {
      socket = createAndListen(c8PlayerApi);
      await running(socket);
      await until(() => count('Socket Con. Open!') === 1);
      await stopServer();
      await until(() => socket.state === 'reconnecting');
      const before = attempts;
      await until(() => attempts >= before + 3, 'three failed retries');
      expect(count('Socket Con. Closed!')).to.equal(1, 'one onClose for the dropped connection, none per failed retry');
      expect(count('Socket Con. Error!')).to.equal(1, 'one onError for the outage');
      const error = logged.find((a) => a[0] === 'Socket Con. Error!')![1] as { code: string; message: string };
      expect(error.code).to.equal('unavailable');
      expect(error.message).to.match(/dropped/);
      await startServer();
      await running(socket);
      await until(() => count('Socket Con. Open!') === 2);
      for (const fn of destroyListeners) fn(); // the snippet's widgetDestroy: socket.close()
    } finally {
      console.log = log;
    }
    expect(count('Socket Con. Closed!')).to.equal(2, 'close() ends the second connection: onClose again');
    expect(count('Socket Con. Error!')).to.equal(1, 'close() is not an error');
    expect(socket.state).to.equal('stopped');
  });

  it('Cinema8 hooks: a socket that cannot connect reports onError once and never onClose (nothing was open)', async () => {
    await stopServer();
    try {
      let attempts = 0;
      class Counting extends WebSocket {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          attempts++;
        }
      }
      const s = open({ widgetId: widget(), WebSocket: Counting });
      const errors: string[] = [];
      let closes = 0;
      s.onError = (e) => errors.push(e.code);
      s.onClose = () => closes++;
      await until(() => attempts >= 4, 'four failed attempts');
      expect(errors).to.deep.equal(['unavailable']);
      expect(closes).to.equal(0);
      expect(s.state).to.equal('starting');
      s.close();
      expect(closes).to.equal(0, 'close() of a socket that never opened is no onClose');
    } finally {
      await startServer();
    }
  });

  it('counts connections across several sockets as they open and close', async () => {
    const widgetId = widget();
    const a = open({ widgetId });
    const b = open({ widgetId });
    const c = open({ widgetId });
    await Promise.all([a, b, c].map(running));
    await until(() => a.activeConnections === 3);
    c.close();
    await nextEvent(a, 'activeconnectionschange', (e) => (e as unknown as { data: number }).data === 2);
    expect(b.activeConnections === 2 || b.activeConnections === 3).to.equal(true);
    await until(() => b.activeConnections === 2);
  });

  it('publishes made while the server is down arrive exactly once, in order, when it is back', async () => {
    const widgetId = widget();
    const s = open({ widgetId, persistent: true });
    await running(s);
    const states: SocketState[] = [];
    s.addEventListener('statechange', (e) => states.push(e.state));
    await stopServer();
    await until(() => s.state === 'reconnecting');
    const acks = [1, 2, 3, 4, 5].map((i) => s.publish({ i }));
    await until(() => s.queued === 5);
    await startServer();
    const records = await Promise.all(acks);
    expect(records.map((r) => (r.data as { i: number }).i)).to.deep.equal([1, 2, 3, 4, 5]);
    const ids = records.map((r) => r.id);
    expect([...ids].sort((x, y) => x - y)).to.deep.equal(ids);
    expect((await s.search({ query: { limit: 100 } })).total).to.equal(5);
    expect(states.slice(0, 2)).to.deep.equal(['reconnecting', 'running']);
  });

  it('a page closed while offline leaves its publishes queued; the next page load sends them once', async () => {
    const widgetId = widget();
    await stopServer();
    // A real separate page (same origin, same IndexedDB) that publishes while offline and goes away.
    const page1 = await framePage(
      widgetId,
      `
      const s = new WidgetSocket({ host, project: 'browser', widgetId, persistent: true, reconnectDelayMs: 60000 });
      s.publish({ n: 1 }).catch(() => {});
      s.publish({ n: 2 }).catch(() => {});
      // Until both are on disk (the outbox write is batched; a page closed before it commits loses them).
      const db = await new Promise((resolve) => (indexedDB.open('vidget').onsuccess = (e) => resolve(e.target.result)));
      const range = IDBKeyRange.bound(['outbox', 'browser/' + widgetId], ['outbox', 'browser/' + widgetId, []]);
      const stored = () => new Promise((resolve) => (db.transaction('kv').objectStore('kv').count(range).onsuccess = (e) => resolve(e.target.result)));
      while ((await stored()) < 2) await new Promise((r) => setTimeout(r, 10));
      db.close();
      parent.postMessage({ queued: s.queued }, '*');`,
    );
    expect(await page1.reply).to.deep.equal({ queued: 2 });
    page1.frame.remove(); // unload
    await startServer();
    const page2 = await framePage(
      widgetId,
      `
      const s = new WidgetSocket({ host, project: 'browser', widgetId, persistent: true });
      const got = [];
      s.onMessage = (m) => got.push(m.data.data.n);
      await new Promise((resolve) => { const t = setInterval(() => got.length === 2 && s.queued === 0 && (clearInterval(t), resolve()), 10); });
      const { total } = await s.search({ query: {} });
      parent.postMessage({ got, total }, '*');`,
    );
    expect(await page2.reply).to.deep.equal({ got: [1, 2], total: 2 });
    page2.frame.remove();
  });

  it('a tampered token fails the socket with 4001 and no reconnect loop', async () => {
    const s = open({ widgetId: widget(), token: 'v1.e30.AAAA' });
    const errors: string[] = [];
    s.onError = (e) => errors.push(e.code);
    const failed = await nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'failed');
    expect(failed.code).to.equal(4001);
    expect(errors).to.deep.equal(['unauthorized']);
  });

  it('pauses when the page stays hidden and resumes when it is visible again', async () => {
    const s = open({ widgetId: widget(), pauseAfterHiddenMs: 20 });
    await running(s);
    const states: SocketState[] = [];
    s.addEventListener('statechange', (e) => states.push(e.state));
    setVisibility('hidden');
    await nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'paused');
    setVisibility('visible');
    await running(s);
    expect(states).to.deep.equal(['paused', 'resuming', 'running']);
  });

  it('delivers records published by another socket, with the replayed flag on catch-up', async () => {
    const widgetId = widget();
    const writer = open({ widgetId, persistent: true });
    await writer.publish('before');
    const reader = open({ widgetId, persistent: true, catchup: '1h' });
    const replayed = await nextEvent<RecordEvent>(reader, 'message', (e) => e.data.data === 'before');
    expect(replayed.replayed).to.equal(true);
    await running(reader);
    const live = nextEvent<RecordEvent>(reader, 'message', (e) => e.data.data === 'after');
    await writer.publish('after');
    expect((await live).replayed).to.equal(false);
  });
});

/** Loads a same-origin page in an iframe that runs `body` with WidgetSocket, host and widgetId in scope. */
async function framePage(widgetId: string, body: string): Promise<{ frame: HTMLIFrameElement; reply: Promise<unknown> }> {
  const frame = document.createElement('iframe');
  const reply = new Promise<unknown>((resolve) => {
    const listener = (e: MessageEvent) => {
      if (e.source !== frame.contentWindow) return;
      window.removeEventListener('message', listener);
      resolve(e.data);
    };
    window.addEventListener('message', listener);
  });
  frame.srcdoc = `<script>window.onerror = (m) => parent.postMessage({ error: String(m) }, '*');</script>
  <script type="module">
    try {
      const { WidgetSocket } = await import('${new URL('/src/socket/index.ts', location.href)}');
      const host = ${JSON.stringify(env.host)}; const widgetId = ${JSON.stringify(widgetId)};
      ${body}
    } catch (e) { parent.postMessage({ error: String(e && e.stack || e) }, '*'); }
  </script>`;
  document.body.append(frame);
  return { frame, reply };
}
