import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { CloseCode, ErrorCode, VidgetError, type VidgetRecord } from '../../src/protocol/index.js';
import { createServer, signRoom, SqliteStore, type ServerOptions, type VidgetServer } from '../../src/server/index.js';
import { WidgetSocket, type RecordEvent, type SocketState, type StateChangeEvent, type WidgetSocketOptions } from '../../src/socket/index.js';
import { nextEvent } from '../helpers/events.js';
import { setVisibility, until } from '../helpers/wait.js';
import { fillRoom, openProjects, tempDir, TestClient, TEST_SECRET, token, UNLIMITED_RATES } from '../server/helpers.js';

let n = 0;
const uniqueWidget = () => `w${Date.now().toString(36)}${n++}`;

/** A server that can be stopped and started again on the same port and data. */
class Restartable {
  server!: VidgetServer;
  private port = 0;
  private readonly dataDir = tempDir();
  constructor(private readonly options: ServerOptions = {}) {}
  async start() {
    this.server = await createServer({ port: this.port, dataDir: this.dataDir, log: () => {}, projects: openProjects(), rates: UNLIMITED_RATES, ...this.options });
    this.port = this.server.port;
    return this;
  }
  stop() {
    return this.server.close();
  }
  get host() {
    return `127.0.0.1:${this.port}`;
  }
}

describe('WidgetSocket (happy-dom, real server)', () => {
  const srv = new Restartable();
  const sockets: WidgetSocket[] = [];
  const open = (options: Partial<WidgetSocketOptions> & { widgetId: string }) => {
    const socket = new WidgetSocket({ host: srv.host, project: 'dom', reconnectDelayMs: 20, WebSocket, ...options });
    sockets.push(socket);
    return socket;
  };
  const running = (s: WidgetSocket) => (s.state === 'running' ? Promise.resolve() : nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'running').then(() => {}));

  before(() => srv.start());
  after(async () => {
    for (const s of sockets) s.close();
    await srv.stop();
  });

  test('goes stopped → starting → running, with statechange carrying the previous state', async () => {
    const states: Array<[SocketState, SocketState]> = [];
    const s = open({ widgetId: uniqueWidget() });
    assert.equal(s.state, 'starting');
    s.addEventListener('statechange', (e) => states.push([e.state, e.previous]));
    await running(s);
    assert.deepEqual(states, [['running', 'starting']]);
    // The public id the server derived from this browser's secret (never the secret itself).
    assert.match(s.clientId!, /^[A-Za-z0-9_-]{22}$/);
  });

  test('hooks fire as Cinema8 documents them: onOpen, onMessage(message.data), onActiveConnectionsChange(message.data)', async () => {
    const widgetId = uniqueWidget();
    const a = open({ widgetId, persistent: true });
    const seen: { open: number; messages: VidgetRecord[]; counts: number[] } = { open: 0, messages: [], counts: [] };
    a.onOpen = () => seen.open++;
    a.onMessage = (message) => seen.messages.push(message.data);
    a.onActiveConnectionsChange = (message) => seen.counts.push(message.data);
    await running(a);
    assert.equal(seen.open, 1);
    const b = open({ widgetId, persistent: true });
    await nextEvent(a, 'activeconnectionschange', (e) => (e as unknown as { data: number }).data === 2);
    const fromB = nextEvent<RecordEvent>(a, 'message');
    const record = await b.publish({ msg: 'Hi', user: 'John' });
    assert.deepEqual((await fromB).data, record);
    // Both sockets live in one page, so they share the IndexedDB client id, like two tabs of one browser.
    assert.equal((await fromB).own, true);
    assert.equal(record.client_id, a.clientId);
    assert.deepEqual(seen.messages.at(-1), record);
    assert.ok(seen.counts.includes(2));
  });

  test("publish resolves with the stored record and emits it as the socket's own message", async () => {
    const s = open({ widgetId: uniqueWidget(), persistent: true });
    const own = nextEvent<RecordEvent>(s, 'message');
    const record = await s.publish({ score: 70 });
    assert.equal(record.client_id, s.clientId);
    assert.equal((await own).own, true);
    assert.equal((await own).persisted, true);
    assert.equal(s.queued, 0, 'acked publishes leave the outbox');
  });

  test('search: callbacks and the Promise give the same answer; a bad query fails fast with bad_query', async () => {
    const s = open({ widgetId: uniqueWidget(), persistent: true });
    for (const score of [40, 60, 80]) await s.publish({ score });
    let viaCallback: unknown;
    const viaPromise = await s.search({
      query: { filters: [{ field: 'data.score', operator: '>', value: 55 }], sortField: 'data.score', sortOrder: 'desc' },
      success: (res) => (viaCallback = res),
    });
    assert.deepEqual(
      viaPromise.records.map((r) => (r.data as { score: number }).score),
      [80, 60],
    );
    assert.deepEqual(viaCallback, viaPromise);
    let errorCode: string | undefined;
    await assert.rejects(s.search({ query: { limit: 5000 }, error: (e) => (errorCode = e.code) }), (e: unknown) => e instanceof VidgetError && e.code === ErrorCode.BadQuery);
    assert.equal(errorCode, 'bad_query');
  });

  test('a rejected token fails the socket for good: state failed, onError called, no reconnect loop', async () => {
    const s = open({ widgetId: uniqueWidget(), token: 'v1.forged.token' });
    const errors: VidgetError[] = [];
    s.onError = (e) => errors.push(e);
    const failed = await nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'failed');
    assert.equal(failed.code, 4001);
    assert.equal(errors[0]?.code, 'unauthorized');
    await assert.rejects(s.publish('x'), (e: unknown) => e instanceof VidgetError && e.code === 'unauthorized');
    assert.equal(s.state, 'failed');
  });

  test('a good token sets username; getToken is asked on every connect', async () => {
    let asked = 0;
    const s = open({ widgetId: uniqueWidget(), getToken: async () => (asked++, token('dom', 'ann')) });
    await running(s);
    assert.equal(s.username, 'ann');
    assert.equal(asked, 1);
  });

  test('a drop reconnects (running → reconnecting → running) and catch-up fills the gap with no duplicate', async () => {
    const widgetId = uniqueWidget();
    const reader = open({ widgetId, persistent: true });
    const writer = open({ widgetId, persistent: true });
    await Promise.all([running(reader), running(writer)]);
    const got: unknown[] = [];
    reader.addEventListener('message', (e) => got.push(e.data.data));
    const first = nextEvent<RecordEvent>(reader, 'message', (e) => e.data.data === 1);
    await writer.publish(1);
    await first;
    const states: SocketState[] = [];
    reader.addEventListener('statechange', (e) => states.push(e.state));
    await srv.stop();
    await srv.start();
    // The writer may reconnect first and publish before the reader is back.
    await running(writer);
    await writer.publish(2);
    await running(reader);
    const third = nextEvent<RecordEvent>(reader, 'message', (e) => e.data.data === 3);
    await writer.publish(3);
    await third;
    assert.deepEqual(got, [1, 2, 3]);
    assert.deepEqual(states.slice(0, 2), ['reconnecting', 'running']);
  });

  test('offline publishes wait in IndexedDB and are delivered once, in order, when the server is back', async () => {
    const widgetId = uniqueWidget();
    const s = open({ widgetId, persistent: true });
    await running(s);
    await srv.stop();
    if (s.state === 'running') await nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'reconnecting');
    const sent = Array.from({ length: 20 }, (_, i) => i);
    const acks = sent.map((i) => s.publish({ i }));
    await until(() => s.queued === 20);
    await srv.start();
    const records = await Promise.all(acks);
    assert.deepEqual(
      records.map((r) => (r.data as { i: number }).i),
      sent,
    );
    const ids = records.map((r) => r.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'stored in publish order',
    );
    const stored = await s.search({ query: { limit: 100 } });
    assert.equal(stored.total, 20, 'each stored exactly once');
  });

  test('a publish left in the outbox by a closed page is sent by the next socket of that widget', async () => {
    const widgetId = uniqueWidget();
    await srv.stop();
    const first = open({ widgetId, persistent: true, reconnectDelayMs: 5000 });
    await first.ready;
    const pending = first.publish({ left: 'behind' });
    await until(() => first.queued === 1);
    first.close(); // the page goes away with the publish unsent
    await assert.rejects(pending, (e: unknown) => e instanceof VidgetError && e.code === 'closed');
    await srv.start();
    const second = open({ widgetId, persistent: true });
    const delivered = await nextEvent<RecordEvent>(second, 'message', (e) => (e.data.data as { left?: string }).left === 'behind');
    assert.equal(delivered.own, true);
    assert.equal(delivered.data.client_id, second.clientId, 'the same client id after a "reload"');
    await until(() => second.queued === 0);
    assert.equal((await second.search({ query: {} })).total, 1);
  });

  test('the outbox is bounded: past maxQueued, publish rejects with queue_full and nothing queued is dropped', async () => {
    await srv.stop();
    const s = open({ widgetId: uniqueWidget(), persistent: true, maxQueued: 3, reconnectDelayMs: 5000 });
    const ok = [s.publish(1), s.publish(2), s.publish(3)];
    await assert.rejects(s.publish(4), (e: unknown) => e instanceof VidgetError && e.code === 'queue_full');
    assert.equal(s.queued, 3);
    s.close();
    await Promise.allSettled(ok);
    await srv.start();
  });

  test('ephemeral publishes are not queued in IndexedDB: offline they expire after ephemeralTtlMs', async () => {
    await srv.stop();
    const s = open({ widgetId: uniqueWidget(), ephemeralTtlMs: 50, reconnectDelayMs: 5000 });
    await assert.rejects(s.publish({ reaction: '🎉' }), (e: unknown) => e instanceof VidgetError && e.code === 'expired');
    assert.equal(s.queued, 0);
    s.close();
    await srv.start();
  });

  test('the browser going online retries at once instead of waiting out the backoff', async () => {
    // First retry after a drop waits 5-15 s (jittered); `online` must beat that by far. (The
    // replaced partysocket keeps its backoff timer until it fires, so keep it short for Node.)
    const s = open({ widgetId: uniqueWidget(), reconnectDelayMs: 10_000 });
    await running(s);
    await srv.stop();
    await until(() => s.state === 'reconnecting');
    await srv.start();
    const back = nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'running', 3_000);
    window.dispatchEvent(new Event('online'));
    await back;
    assert.equal(s.state, 'running');
  });

  test('a hidden page pauses the socket after the grace period; visible again resumes it', async () => {
    const s = open({ widgetId: uniqueWidget(), pauseAfterHiddenMs: 30 });
    await running(s);
    const states: SocketState[] = [];
    s.addEventListener('statechange', (e) => states.push(e.state));
    setVisibility('hidden');
    await nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'paused');
    setVisibility('visible');
    await running(s);
    assert.deepEqual(states, ['paused', 'resuming', 'running']);
  });

  test('keepAliveInBackground stays connected while hidden', async () => {
    const s = open({ widgetId: uniqueWidget(), pauseAfterHiddenMs: 0, keepAliveInBackground: true });
    await running(s);
    setVisibility('hidden');
    // A second socket's publish proves the first still receives while hidden.
    const other = open({ widgetId: 'ka-other' });
    void other;
    const record = await s.publish('still here');
    assert.equal(record.data, 'still here');
    assert.equal(s.state, 'running');
    setVisibility('visible');
  });

  test('close() stops for good: state stopped, waiting searches rejected, no more events', async () => {
    const s = open({ widgetId: uniqueWidget() });
    await running(s);
    s.close();
    assert.equal(s.state, 'stopped');
    await assert.rejects(s.publish(1), (e: unknown) => e instanceof VidgetError && e.code === 'closed');
    await assert.rejects(s.search({ query: {} }), (e: unknown) => e instanceof VidgetError && e.code === 'closed');
  });

  test('a throwing hook does not break the socket', async () => {
    const s = open({ widgetId: uniqueWidget() });
    const original = console.error;
    console.error = () => {};
    try {
      s.onMessage = () => {
        throw new Error('widget bug');
      };
      await s.publish(1);
      assert.equal((await s.publish(2)).data, 2);
    } finally {
      console.error = original;
    }
  });
});

describe('WidgetSocket searches on a busy server (happy-dom, real server)', () => {
  // One search worker and a 100 ms budget: four costly searches from other connections hold the
  // worker for several budgets, so a search queued behind them waits its whole budget.
  const dir = tempDir();
  const srv = new Restartable({ dataDir: dir, store: new SqliteStore(join(dir, 'vidget.db'), { readers: 1, searchTimeoutMs: 100 }) });
  before(async () => {
    await srv.start();
    await fillRoom(srv.server, 'dom/busy', 100_000, (i) => ({ text: `message ${i} ${'x'.repeat(100)}` }));
  });
  after(() => srv.stop());

  test('a search answered unavailable (every worker busy) is sent again and resolves: a widget sees the answer, not the error', async () => {
    const frames: Array<{ type: string; code?: string; rid?: string }> = [];
    class Recording extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        this.on('message', (data) => frames.push(JSON.parse(data.toString())));
      }
    }
    const socket = new WidgetSocket({ host: srv.host, project: 'dom', widgetId: 'busy', reconnectDelayMs: 20, WebSocket: Recording });
    const hogs = await Promise.all([0, 1, 2, 3].map(() => TestClient.joined(srv.server, 'dom', 'busy')));
    try {
      await nextEvent(socket, 'synced');
      await hogs[0]!.search({ limit: 1 }); // the worker is up: the wait is timed from here
      const costly = hogs.map((h) => h.search({ groupBy: 'data.text', limit: 0 }));
      const answer = await socket.search({ query: { sortOrder: 'desc', limit: 2 } });
      assert.deepEqual(
        answer.records.map((r) => r.id),
        [100_000, 99_999],
      );
      const refused = frames.filter((f) => f.type === 'err');
      assert.ok(refused.length >= 1 && refused.every((f) => f.code === ErrorCode.Unavailable && f.rid), JSON.stringify(refused));
      await Promise.all(costly);
    } finally {
      socket.close();
      await Promise.all(hogs.map((h) => h.close()));
    }
  });
});

describe('WidgetSocket in signed rooms (happy-dom, real server)', () => {
  const srv = new Restartable({ projects: openProjects({ signedRooms: true }) });
  before(() => srv.start());
  after(() => srv.stop());

  test('joins a room the site signed, and a sub-room of it; an unsigned name is refused', async () => {
    const signed = signRoom(TEST_SECRET, 'dom', 'show');
    const sockets = [signed, signed, `${signed}/promoted`].map((widgetId) => new WidgetSocket({ host: srv.host, project: 'dom', widgetId, reconnectDelayMs: 20, WebSocket }));
    try {
      const [a, b, sub] = sockets as [WidgetSocket, WidgetSocket, WidgetSocket];
      const heard = nextEvent<RecordEvent>(b, 'message');
      await Promise.all(sockets.map((s) => (s.state === 'running' ? undefined : nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'running'))));
      await a.publish({ hello: 'signed' });
      assert.deepEqual((await heard).data.data, { hello: 'signed' });
      assert.equal(sub.state, 'running', 'the sub-room (a / in the URL path) is joined too');
      const unsigned = new WidgetSocket({ host: srv.host, project: 'dom', widgetId: 'show', reconnectDelayMs: 20, WebSocket });
      sockets.push(unsigned);
      const failed = await nextEvent<StateChangeEvent>(unsigned, 'statechange', (e) => e.state === 'failed');
      assert.equal(failed.code, CloseCode.Forbidden);
    } finally {
      for (const s of sockets) s.close();
    }
  });

  test('a widgetId that is no room name is refused at once with bad_frame', () => {
    assert.throws(
      () => new WidgetSocket({ host: srv.host, project: 'dom', widgetId: 'show~short', WebSocket }),
      (e: unknown) => e instanceof VidgetError && e.code === ErrorCode.BadFrame,
    );
  });
});
