import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Json, ServerFrame, VidgetRecord } from '../../src/protocol/index.js';
import { clientIdOf } from '../../src/server/client-identity.js';
import { createHmac } from 'node:crypto';
import { createServer, createToken, type ProjectConfig, type ProjectResolver, type ServerOptions, type TokenRequest, type VidgetServer } from '../../src/server/index.js';

/** A fresh data directory under the OS temp folder. */
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'vidget-test-'));

/**
 * Every test client connects from 127.0.0.1, so the shared per-address and per-project rates
 * would throttle whole suites; tests that check those limits set them.
 */
export const UNLIMITED_RATES = {
  connectsPerAddress: { perSecond: 1e6, burst: 1e6 },
  framesPerAddress: { perSecond: 1e6, burst: 1e6 },
  framesPerProject: { perSecond: 1e6, burst: 1e6 },
  requestsPerAddress: { perSecond: 1e6, burst: 1e6 },
  apiKeyCalls: { perSecond: 1e6, burst: 1e6 },
};

/** The secret and API key of the test projects. */
export const TEST_SECRET = 'test-secret-0123456789';
export const TEST_API_KEY = 'test-api-key-0123456789';

/**
 * Every valid project id is a project (tests use many): viewers without a token may read,
 * publish and search; tokens are signed with {@link TEST_SECRET}. `only` limits the ids.
 */
export function openProjects(overrides: Partial<ProjectConfig> = {}, only?: string[]): ProjectResolver {
  return (id) => (only && !only.includes(id) ? undefined : { id, secret: TEST_SECRET, apiKey: TEST_API_KEY, anonymous: ['read', 'publish', 'search'], ...overrides });
}

/** An HS256 client token for a test project (see `createToken`). */
export function token(project: string, sub: string, extra: Omit<TokenRequest, 'project' | 'sub'> = {}, secret = TEST_SECRET): string {
  return createToken(secret, { project, sub, ...extra }).token;
}

/** A JWT with any header and claims (expired, another audience, `alg: none`), signed HS256 with `secret` unless the header says none. */
export function jwt(claims: Record<string, unknown>, { secret = TEST_SECRET, header = { alg: 'HS256', typ: 'JWT' } }: { secret?: string; header?: Record<string, unknown> } = {}): string {
  const body = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return header.alg === 'none' ? `${body}.` : `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** A real server on a random port with a real SQLite file in a temp directory, serving {@link openProjects}. */
export async function startServer(options: ServerOptions = {}): Promise<VidgetServer> {
  return createServer({ port: 0, dataDir: tempDir(), log: () => {}, projects: openProjects(), ...options, rates: { ...UNLIMITED_RATES, ...options.rates } });
}

const WAIT_MS = 5_000;

/** A raw `ws` client that records every server frame and lets a test wait for the one it expects. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private unread: ServerFrame[] = [];
  private waiters: Array<{ match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      this.frames.push(frame);
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(frame);
      else this.unread.push(frame);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connects to `/parties/<project>/<widget>` with query params (`_pk` defaults to a fresh id). */
  static async connect(server: VidgetServer, project: string, widget: string, query: Record<string, string | number> = {}, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const params = new URLSearchParams({ _pk: `c${Math.random().toString(36).slice(2, 10)}`, ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
    const client = new TestClient(new WebSocket(`${server.wsUrl}/parties/${project}/${widget}?${params}`, options));
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('error', reject);
    });
    return client;
  }

  /** Connects and waits for the end of catch-up (`synced`). */
  static async joined(server: VidgetServer, project: string, widget: string, query: Record<string, string | number> = {}, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const client = await TestClient.connect(server, project, widget, query, options);
    await client.next((f) => f.type === 'synced');
    return client;
  }

  /** The secret this client connects with (`_pk`). */
  get clientKey(): string {
    return new URL(this.ws.url).searchParams.get('_pk')!;
  }

  /** The public client id the server derived from the key (and username), as records carry it. */
  get clientId(): string {
    const hello = this.frames.find((f) => f.type === 'hello');
    return hello?.type === 'hello' ? hello.client_id : clientIdOf(this.clientKey, null);
  }

  /** The first unread frame matching `match` (removed from the unread list), waiting for it if needed. */
  next<T extends ServerFrame['type']>(type: T, match?: (f: Extract<ServerFrame, { type: T }>) => boolean): Promise<Extract<ServerFrame, { type: T }>>;
  next(match: (f: ServerFrame) => boolean): Promise<ServerFrame>;
  next(a: string | ((f: ServerFrame) => boolean), b?: (f: never) => boolean): Promise<ServerFrame> {
    const match = typeof a === 'function' ? a : (f: ServerFrame) => f.type === a && (!b || (b as (f: ServerFrame) => boolean)(f));
    const i = this.unread.findIndex(match);
    if (i >= 0) return Promise.resolve(this.unread.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: ServerFrame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${WAIT_MS} ms; got ${JSON.stringify(this.frames).slice(-600)}`));
      }, WAIT_MS);
      this.waiters.push(waiter);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Publishes and waits for this client's ack of it. */
  async publish(data: unknown, persist = true, cid = `m${Math.random().toString(36).slice(2, 12)}`) {
    this.send({ type: 'pub', cid, data, persist });
    return this.next('ack', (f) => f.cid === cid);
  }

  /** Runs a search over the socket and waits for its `result` or `err`. */
  async search(query: unknown, rid = `r${Math.random().toString(36).slice(2, 12)}`) {
    this.send({ type: 'search', rid, query });
    const frame = await this.next((f) => (f.type === 'result' || f.type === 'err') && f.rid === rid);
    return frame as Extract<ServerFrame, { type: 'result' | 'err' }>;
  }

  /** Every stored record of the room, in id order, read in keyset pages of up to 1,000 (`after`). */
  async allRecords(): Promise<VidgetRecord[]> {
    const records: VidgetRecord[] = [];
    for (let after: number | undefined; ;) {
      const page = await this.search({ limit: 1000, ...(after === undefined ? {} : { after }) });
      if (page.type !== 'result') throw new Error(`search failed: ${page.code} ${page.message}`);
      records.push(...page.records);
      if (page.next === undefined) return records;
      after = page.next;
    }
  }

  async close(): Promise<void> {
    this.ws.close();
    await this.closed;
  }
}

export { until } from '../helpers/wait.js';

/**
 * Stores `count` records in a room straight through the server's store, in batches of 1,000 (a
 * big room in seconds, for setup; the publish path is not what such tests measure). Call it
 * before any client joins the room, so the room opens with the right last id.
 */
export async function fillRoom(server: VidgetServer, room: string, count: number, data: (i: number) => Json, clients = 500): Promise<void> {
  await server.store.openRoom(room);
  const created = Date.now() - count;
  for (let i = 0; i < count; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - i) }, (_, k) => {
      const n = i + k;
      return { id: n + 1, client_id: `c${n % clients}`, cid: `fill${n}`, created: created + n, username: n % 3 === 0 ? `user${n % 97}` : null, data: data(n) };
    });
    await server.store.append(room, batch);
  }
}
