/** `npm start` / `npm run serve`: a Vidget server configured from the environment. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration } from './duration.js';
import { createServer, type ServerOptions } from './create-server.js';
import type { Rate } from './limits/limiter.js';
import { SqliteStore } from './store/sqlite-store.js';

const env = process.env;
/** `<perSecond>/<burst>`, e.g. `20/100`. */
function rate(name: string): Rate | undefined {
  const value = env[name];
  if (!value) return undefined;
  const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value.trim());
  if (!match) throw new Error(`${name} must be <perSecond>/<burst>, e.g. 20/100; got "${value}"`);
  return { perSecond: Number(match[1]), burst: Number(match[2]) };
}
const list = (value: string | undefined): string[] | undefined => value?.split(',').map((s) => s.trim()).filter(Boolean);
const flag = (value: string | undefined): boolean => value === '1' || value === 'true';
function count(name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number; got "${value}"`);
  return n;
}

// Only a built dist/ or an explicit folder is served: never the working directory, which holds
// the data directory, .git and the sources.
const staticDir = env.STATIC_DIR ?? (existsSync('dist/index.html') ? 'dist' : undefined);
const dataDir = env.DATA_DIR ?? './data';
const maxBytes = count('VIDGET_MAX_DB_BYTES');
const quota = {
  roomRecords: count('VIDGET_QUOTA_ROOM_RECORDS'),
  roomBytes: count('VIDGET_QUOTA_ROOM_BYTES'),
  projectRecords: count('VIDGET_QUOTA_PROJECT_RECORDS'),
  projectBytes: count('VIDGET_QUOTA_PROJECT_BYTES'),
};

const rates = {
  connectsPerAddress: rate('VIDGET_RATE_CONNECTS'),
  framesPerAddress: rate('VIDGET_RATE_ADDRESS_FRAMES'),
  framesPerProject: rate('VIDGET_RATE_PROJECT_FRAMES'),
  requestsPerAddress: rate('VIDGET_RATE_REQUESTS'),
};
const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

const options: ServerOptions = {
  port: Number(env.PORT ?? 8787),
  host: env.HOST ?? '127.0.0.1',
  dataDir,
  ...(staticDir ? { staticDir: resolve(staticDir) } : {}),
  ...(maxBytes !== undefined ? { store: new SqliteStore(resolve(dataDir, 'vidget.db'), { maxBytes }) } : {}),
  ...(env.VIDGET_PROJECTS ? { projects: list(env.VIDGET_PROJECTS)! } : {}),
  ...(env.VIDGET_SECRET ? { secret: env.VIDGET_SECRET } : {}),
  ...(env.VIDGET_API_KEY ? { apiKey: env.VIDGET_API_KEY } : {}),
  ...(env.TRUST_PROXY ? { trustProxy: list(env.TRUST_PROXY)! } : {}),
  ...(count('VIDGET_MAX_CONNECTIONS_PER_IP') !== undefined ? { maxConnectionsPerIp: count('VIDGET_MAX_CONNECTIONS_PER_IP')! } : {}),
  ...(env.VIDGET_RETENTION ? { retentionMs: parseDuration(env.VIDGET_RETENTION) } : {}),
  quota: defined(quota),
  rates: defined(rates) as ServerOptions['rates'],
  devTokens: flag(env.VIDGET_DEV_TOKENS),
  requireToken: flag(env.VIDGET_REQUIRE_TOKEN),
};

let server;
try {
  server = await createServer(options);
} catch (error) {
  console.error(`vidget: cannot start: ${(error as Error).message}`);
  process.exit(1);
}
console.log(`Vidget server on ${server.url}  (sockets: ${server.wsUrl}/parties/<project>/<widgetId>, data: ${dataDir}, static: ${staticDir ?? 'none'})`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('stopping: storing what was accepted…');
    void server.close().then(() => process.exit(0));
  });
}
