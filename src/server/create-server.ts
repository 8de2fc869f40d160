import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { ErrorCode, VidgetError } from '../protocol/index.js';
import { ClientAddress } from './http/client-address.js';
import { ConnectionGuard, type HttpTimeouts } from './http/connection-guard.js';
import type { HttpApiContext } from './http/http-api.js';
import { createRequestHandler } from './http/request-handler.js';
import { StaticFiles, isInside } from './http/static-files.js';
import { Limiter, type SharedRates } from './limits/limiter.js';
import type { StorageQuota } from './rooms/room.js';
import { RoomRegistry } from './rooms/room-registry.js';
import { SocketServer } from './sockets/socket-server.js';
import { startRetention } from './store/retention.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
import type { Bus, PresenceStore } from './bus/bus.js';
import type { ProjectConfig, ProjectResolver } from './trust/project-config.js';
import { Projects } from './trust/projects.js';
import { BayeuxEndpoint } from './bayeux/bayeux-endpoint.js';
import type { AnalyticsOptions } from './platform/analytics-hub.js';
import { Platform } from './platform/platform.js';
import { platformRoutes } from './platform/platform-routes.js';
import { WatchServer, type WatchOptions } from './watch/watch-server.js';

/** Options of {@link createServer}; every one has a default that serves a demo page out of the box. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 8787. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Where the SQLite file (`vidget.db`) and the token secret live. Default `./data`. */
  dataDir?: string;
  /** A store to use instead of the SQLite file in `dataDir` (a `PostgresStore` for several processes). */
  store?: Store;
  /** The other server processes of the deployment (a `RedisBus`): records, deletes and presence changes reach theirs. Needs a shared store. */
  bus?: Bus;
  /** Connection counts over every process (a `RedisPresence`). */
  presence?: PresenceStore;
  /** The built-in demo project's token secret (every process of a deployment needs the same). Default: kept in `<dataDir>/secret`. */
  demoSecret?: string;
  /**
   * The projects this server serves (see {@link ProjectConfig}; the CLI reads them from
   * `vidget.config.json`), or a resolver that looks one up by id. Any other project is refused
   * with 4003 / `forbidden`. Default: one project, `demo`, open to viewers without a token, with
   * a secret kept in `<dataDir>/secret`.
   */
  projects?: ProjectConfig[] | ProjectResolver;
  /** Let anyone get a token from `POST /api/tokens` (demo/dev only). Default false. */
  devTokens?: boolean;
  /**
   * Folder served over HTTP at `/` (the built demo and bundle). Default: none. Dotfiles and
   * symlinks out of it are never served; the server refuses to start if `dataDir` is inside it.
   */
  staticDir?: string;
  /** Largest text frame accepted; bigger ones get `too_large`. Default 65536. */
  maxFrameBytes?: number;
  /** Bytes buffered for one slow reader before it is closed with 4009. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Frames per second per connection, sustained / burst. Default 100 / 200. */
  rateLimit?: { perSecond: number; burst: number };
  /** WebSocket connections from one address (an IPv6 /64 is one); more are closed with 4029. Default 1000. */
  maxConnectionsPerIp?: number;
  /** HTTP sockets (not yet WebSockets) one address may hold open; more are cut at once (slowloris). Default 256. */
  maxPendingPerAddress?: number;
  /** Rates that outlive a connection: connects and frames per address, frames per project, REST requests per address. */
  rates?: Partial<SharedRates>;
  /**
   * Storage quotas; past one, persistent publishes get `quota_exceeded`. Default per room
   * 100,000 records and 64 MiB, per project 1,000,000 records and 1 GiB (bytes of `data` as JSON).
   */
  quota?: Partial<StorageQuota>;
  /** Delete records older than this many ms (a retention policy). Default: keep everything. */
  retentionMs?: number;
  /** Header, request and idle timeouts of HTTP sockets (see {@link HttpTimeouts}). */
  timeouts?: Partial<HttpTimeouts>;
  /**
   * Addresses or CIDR ranges of reverse proxies in front of the server. Only requests from them
   * have `X-Forwarded-For`/`Forwarded` read for the client's address; from anyone else those
   * headers are ignored. Default: none.
   */
  trustProxy?: string[];
  /** Most records replayed by one catch-up. Default 1000. */
  maxReplay?: number;
  /** Most bytes of records replayed by one catch-up (a replay is sent at once). Default 1 MiB. */
  maxReplayBytes?: number;
  /** Least time between two presence updates of one room; joins in between are coalesced. Default 250 ms. */
  presenceIntervalMs?: number;
  /** Ping interval; a peer that has not answered the previous ping is dropped. Default 30000 ms. */
  heartbeatMs?: number;
  /** The Bayeux endpoint (`/bayeux`, `/faye`): how long a `/meta/connect` is held (default 30000 ms) and how long a silent client id lives after (default 40000 ms). */
  bayeux?: { timeoutMs?: number; expiryMs?: number };
  /** Live analytics: series bucket (`seriesMs`, 60,000), push interval (`pushMs`, 1,000), `staleMs` (15,000), per-connection `caps`. */
  analytics?: Partial<AnalyticsOptions>;
  /** Watch together (`/watch/<project>`): grace period, invitation expiry, mesh limit, ICE servers, rates. */
  watch?: WatchOptions;
  /** Where errors are reported. Default `console.error`. */
  log?: (message: string, error?: unknown) => void;
}

/** A running Vidget server. */
export interface VidgetServer {
  /** `http://host:port` of the HTTP API and demo page. */
  readonly url: string;
  /** `ws://host:port`, the `host` for sockets. */
  readonly wsUrl: string;
  /** The port actually bound. */
  readonly port: number;
  /** The underlying Node HTTP server. */
  readonly http: Server;
  /** The store records go to. */
  readonly store: Store;
  /** Current rooms and connections. */
  stats(): { rooms: number; connections: number };
  /** Closes every socket (1001), stores everything accepted, then closes the store. */
  close(): Promise<void>;
}

/** The project a server without a configuration serves: `demo`, open to viewers without a token. */
export function demoProject(secret: string): ProjectConfig {
  return { id: 'demo', secret, anonymous: ['read', 'publish', 'search'] };
}

/** Default {@link StorageQuota}. */
const DEFAULT_QUOTA: StorageQuota = { roomRecords: 100_000, roomBytes: 64 * 2 ** 20, projectRecords: 1_000_000, projectBytes: 2 ** 30 };

/**
 * The demo project's secret, kept in `<dataDir>/secret` (made there the first time), so tokens
 * minted by `vidget token demo …` and the server agree, whichever runs first.
 */
export function loadSecret(dataDir: string): string {
  const file = join(dataDir, 'secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}

/** The static folder, refused if it would serve the data directory (records, the token secret). */
function staticFiles(staticDir: string | undefined, dataDir: string): StaticFiles | undefined {
  if (!staticDir) return undefined;
  const statics = new StaticFiles(staticDir);
  if (isInside(statics.root, resolve(dataDir))) {
    throw new VidgetError(ErrorCode.Forbidden, `the data directory ${resolve(dataDir)} is inside the static folder ${statics.root}: it would be served over HTTP; move one of them`);
  }
  return statics;
}

/**
 * Starts a Vidget server: WebSocket rooms at `/parties/<project>/<widgetId>`, the REST API under
 * `/api/`, and static files. Resolves once it listens.
 */
export async function createServer(options: ServerOptions = {}): Promise<VidgetServer> {
  const dataDir = options.dataDir ?? './data';
  const statics = staticFiles(options.staticDir, dataDir);
  const log = options.log ?? ((message: string, error?: unknown) => console.error(`[vidget] ${message}`, error ?? ''));
  const projects = new Projects(options.projects ?? [demoProject(options.demoSecret ?? loadSecret(dataDir))]);
  if (Array.isArray(options.projects)) {
    for (const p of options.projects) if (!p.origins) log(`project ${p.id} allows browser connections from any origin; list its origins to refuse other sites' pages`);
  }
  const store: Store = options.store ?? new SqliteStore(join(dataDir, 'vidget.db'));
  if (options.bus && !store.shared) throw new Error('a bus joins several server processes: they need a shared store (PostgresStore), not SQLite');
  // A store that cannot be reached fails the start, with its reason, rather than the first publish.
  await store.open?.();
  const maxFrameBytes = options.maxFrameBytes ?? 65_536;
  const rate = { perSecond: options.rateLimit?.perSecond ?? 100, burst: options.rateLimit?.burst ?? 200 };
  const addresses = new ClientAddress(options.trustProxy);
  const limiter = new Limiter(options.rates);
  const guard = new ConnectionGuard(options.maxPendingPerAddress ?? 256, addresses);

  const registry = new RoomRegistry(store, {
    maxReplay: options.maxReplay ?? 1000,
    maxReplayBytes: options.maxReplayBytes ?? 1024 * 1024,
    presenceIntervalMs: options.presenceIntervalMs ?? 250,
    limits: { rate: rate.perSecond, burst: rate.burst, maxFrameBytes },
    quota: { ...DEFAULT_QUOTA, ...options.quota },
    onError: (e) => log('room', e),
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.presence ? { presence: options.presence } : {}),
  });
  const platform = new Platform(store, registry, { ...(options.bus ? { node: options.bus.nodeId } : {}), ...options.analytics }, (e) => log('platform', e));
  // What both socket endpoints (rooms and Bayeux) share: the same limits per client.
  const socketShared = {
    registry,
    limiter,
    addresses,
    guard,
    log,
    limits: { maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024, ratePerSecond: rate.perSecond, rateBurst: rate.burst },
    maxConnectionsPerIp: options.maxConnectionsPerIp ?? 1000,
    heartbeatMs: options.heartbeatMs ?? 30_000,
    projects,
  };
  const sockets = new SocketServer({ ...socketShared, platform, maxFrameBytes });
  const bayeux = new BayeuxEndpoint({
    ...socketShared,
    maxMessageBytes: maxFrameBytes * 2,
    timeoutMs: options.bayeux?.timeoutMs ?? 30_000,
    expiryMs: options.bayeux?.expiryMs ?? 40_000,
  });
  const stats = () => ({ rooms: registry.size, connections: sockets.connections });
  const api: HttpApiContext = {
    store,
    projects,
    registry,
    limiter,
    stats,
    devTokens: options.devTokens ?? false,
    drainRoom: async (name: string) => registry.get(name)?.settled(),
    extraRoutes: platformRoutes(platform),
  };

  const timeouts: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000, idleMs: 60_000, ...options.timeouts };
  const handler = createRequestHandler({ api, statics, limiter, addresses, log });
  const http = createHttpServer({ connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs / 2) }, (req, res) =>
    bayeux.handles(req) ? void bayeux.request(req, res).catch((error: unknown) => log('bayeux http', error)) : handler(req, res),
  );
  guard.attach(http, timeouts);
  const watch = new WatchServer({ projects, limiter, addresses, guard, maxFrameBytes, log }, options.watch);
  http.on('upgrade', (req, socket, head) => {
    if (bayeux.handles(req)) bayeux.upgrade(req, socket, head);
    else if (watch.handles(req.url)) watch.upgrade(req, socket, head);
    else sockets.upgrade(req, socket, head);
  });
  const stopRetention = options.retentionMs ? startRetention(store, registry, options.retentionMs, log) : () => {};

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  // After listening, errors are about accepting (EMFILE when out of descriptors): logged, not fatal.
  http.on('error', (error) => log('http server', error));
  const { port } = http.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing = false;

  return {
    url: `http://${shownHost}:${port}`,
    wsUrl: `ws://${shownHost}:${port}`,
    port,
    http,
    store,
    stats,
    async close() {
      if (closing) return;
      closing = true;
      stopRetention();
      platform.close();
      sockets.closeAll();
      bayeux.close();
      watch.closeAll();
      await registry.drainAll();
      registry.disposeAll();
      sockets.terminateAll();
      bayeux.terminateAll();
      watch.terminateAll();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
      await Promise.all([options.bus?.close(), options.presence?.close()]);
      await store.close();
    },
  };
}
