import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ServerOptions } from './create-server.js';
import { parseDuration } from './duration.js';
import type { Rate } from './limits/limiter.js';
import { PostgresStore } from './store/postgres-store.js';
import { SqliteStore } from './store/sqlite-store.js';
import { RedisBus } from './bus/redis-bus.js';
import { RedisPresence } from './bus/redis-presence.js';
import { loadProjects } from './trust/project-config.js';

/** Every environment variable the server reads, with what it means (for `--help` and the README). */
export const ENVIRONMENT: Record<string, string> = {
  PORT: 'HTTP and WebSocket port (default 8787)',
  HOST: 'interface to bind (default 127.0.0.1; 0.0.0.0 for all)',
  DATA_DIR: 'where vidget.db (SQLite) and the demo secret live (default ./data)',
  STATIC_DIR: 'folder served at / (default: dist/ if built, else none)',
  VIDGET_CONFIG: 'the projects file (default ./vidget.config.json if present, else the built-in demo project)',
  VIDGET_DEV_TOKENS: '1: anyone may mint tokens at POST /api/tokens (demos only)',
  TRUST_PROXY: 'comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is read',
  VIDGET_MAX_CONNECTIONS_PER_IP: 'WebSocket connections per client address (default 1000)',
  VIDGET_RATE_CONNECTS: 'connects per address, <per second>/<burst> (default 20/100)',
  VIDGET_RATE_ADDRESS_FRAMES: 'frames per address over all its connections (default 500/1000)',
  VIDGET_RATE_PROJECT_FRAMES: 'frames per project (default 5000/10000)',
  VIDGET_RATE_REQUESTS: 'REST requests per address (default 50/100)',
  VIDGET_QUOTA_ROOM_RECORDS: 'stored records per room (default 100000)',
  VIDGET_QUOTA_ROOM_BYTES: 'stored bytes per room (default 67108864)',
  VIDGET_QUOTA_PROJECT_RECORDS: 'stored records per project (default 1000000)',
  VIDGET_QUOTA_PROJECT_BYTES: 'stored bytes per project (default 1073741824)',
  VIDGET_MAX_DB_BYTES: 'a cap on the SQLite file (default none)',
  VIDGET_RETENTION: 'delete records older than this: 90s, 15m, 6h, 30d (default: keep)',
  DATABASE_URL: 'postgres://user@host:5432/db: records in PostgreSQL instead of SQLite (several server processes share it)',
  VIDGET_PG_SCHEMA: "the PostgreSQL schema of Vidget's tables (default vidget)",
  VIDGET_PG_POOL: 'PostgreSQL connections per process (default 10)',
  REDIS_URL: 'redis://host:6379: fan-out and presence across server processes (needs DATABASE_URL)',
  VIDGET_REDIS_PREFIX: 'prefix of every Redis key and pub/sub channel, one per deployment (default vidget:)',
  VIDGET_SECRET: "the built-in demo project's token secret; every node of a deployment needs the same (default: generated in DATA_DIR/secret)",
};

type Env = Record<string, string | undefined>;

function count(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number; got "${value}"`);
  return n;
}

/** `<perSecond>/<burst>`, e.g. `20/100`. */
function rate(env: Env, name: string): Rate | undefined {
  const value = env[name];
  if (!value) return undefined;
  const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value.trim());
  if (!match) throw new Error(`${name} must be <perSecond>/<burst>, e.g. 20/100; got "${value}"`);
  return { perSecond: Number(match[1]), burst: Number(match[2]) };
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** What the server stores in and talks to, made only when it starts (not for `vidget token`). */
export type Services = Pick<ServerOptions, 'store' | 'bus' | 'presence'>;

async function services(env: Env, dataDir: string, maxBytes: number | undefined, poolSize: number | undefined): Promise<Services> {
  if (!env.DATABASE_URL) return maxBytes === undefined ? {} : { store: new SqliteStore(resolve(dataDir, 'vidget.db'), { maxBytes }) };
  const store = new PostgresStore({
    connectionString: env.DATABASE_URL,
    schema: env.VIDGET_PG_SCHEMA || 'vidget',
    ...(poolSize ? { poolSize } : {}),
    onError: (e) => console.error('[vidget] postgres', e),
  });
  if (!env.REDIS_URL) return { store };
  const redis = { url: env.REDIS_URL, prefix: env.VIDGET_REDIS_PREFIX ?? 'vidget:' };
  // Unreachable at start: fail now, naming REDIS_URL, rather than run as a node nobody hears.
  const bus = await RedisBus.connect(redis);
  const presence = await RedisPresence.connect({ ...redis, nodeId: bus.nodeId }).catch(async (error: unknown) => {
    await bus.close();
    throw error;
  });
  return { store, bus, presence };
}

/**
 * Server options from environment variables (see {@link ENVIRONMENT}); relative paths are taken
 * from the working directory. Throws an `Error` naming the variable or config field that is wrong.
 */
export function optionsFromEnv(env: Env): ServerOptions & { configFile: string | undefined; services: () => Promise<Services> } {
  const configFile = env.VIDGET_CONFIG ?? (existsSync('vidget.config.json') ? 'vidget.config.json' : undefined);
  // Only a built dist/ or an explicit folder: never the working directory (data, .git, sources).
  const staticDir = env.STATIC_DIR ?? (existsSync('dist/index.html') ? 'dist' : undefined);
  const dataDir = env.DATA_DIR ?? './data';
  const maxBytes = count(env, 'VIDGET_MAX_DB_BYTES');
  const maxPerIp = count(env, 'VIDGET_MAX_CONNECTIONS_PER_IP');
  if (env.REDIS_URL && !env.DATABASE_URL) {
    throw new Error('REDIS_URL is set but DATABASE_URL is not: several server processes need a shared store (PostgreSQL); SQLite serves one process');
  }
  if (env.DATABASE_URL && maxBytes !== undefined) throw new Error('VIDGET_MAX_DB_BYTES caps the SQLite file; with DATABASE_URL, set quotas instead');
  const poolSize = count(env, 'VIDGET_PG_POOL');
  return {
    configFile,
    port: Number(env.PORT ?? 8787),
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    ...(staticDir ? { staticDir: resolve(staticDir) } : {}),
    ...(configFile ? { projects: loadProjects(configFile) } : {}),
    services: () => services(env, dataDir, maxBytes, poolSize),
    ...(env.VIDGET_SECRET ? { demoSecret: env.VIDGET_SECRET } : {}),
    ...(env.TRUST_PROXY ? { trustProxy: list(env.TRUST_PROXY) } : {}),
    ...(maxPerIp !== undefined ? { maxConnectionsPerIp: maxPerIp } : {}),
    ...(env.VIDGET_RETENTION ? { retentionMs: parseDuration(env.VIDGET_RETENTION) } : {}),
    quota: defined({
      roomRecords: count(env, 'VIDGET_QUOTA_ROOM_RECORDS'),
      roomBytes: count(env, 'VIDGET_QUOTA_ROOM_BYTES'),
      projectRecords: count(env, 'VIDGET_QUOTA_PROJECT_RECORDS'),
      projectBytes: count(env, 'VIDGET_QUOTA_PROJECT_BYTES'),
    }),
    rates: defined({
      connectsPerAddress: rate(env, 'VIDGET_RATE_CONNECTS'),
      framesPerAddress: rate(env, 'VIDGET_RATE_ADDRESS_FRAMES'),
      framesPerProject: rate(env, 'VIDGET_RATE_PROJECT_FRAMES'),
      requestsPerAddress: rate(env, 'VIDGET_RATE_REQUESTS'),
    }),
    devTokens: env.VIDGET_DEV_TOKENS === '1' || env.VIDGET_DEV_TOKENS === 'true',
  };
}
