/** `npm start` / `npm run serve`: a Vidget server configured from the environment. */
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { createServer } from './create-server.js';

const env = process.env;
const list = (value: string | undefined): string[] | undefined => value?.split(',').map((s) => s.trim()).filter(Boolean);
const flag = (value: string | undefined): boolean => value === '1' || value === 'true';
const staticDir = env.STATIC_DIR ?? (existsSync('dist/index.html') ? 'dist' : '.');

const server = await createServer({
  port: Number(env.PORT ?? 8787),
  host: env.HOST ?? '127.0.0.1',
  dataDir: env.DATA_DIR ?? './data',
  staticDir: resolve(staticDir),
  ...(env.VIDGET_PROJECTS ? { projects: list(env.VIDGET_PROJECTS)! } : {}),
  ...(env.VIDGET_SECRET ? { secret: env.VIDGET_SECRET } : {}),
  ...(env.VIDGET_API_KEY ? { apiKey: env.VIDGET_API_KEY } : {}),
  devTokens: flag(env.VIDGET_DEV_TOKENS),
  requireToken: flag(env.VIDGET_REQUIRE_TOKEN),
});
console.log(`Vidget server on ${server.url}  (sockets: ${server.wsUrl}/parties/<project>/<widgetId>, data: ${env.DATA_DIR ?? './data'}, static: ${staticDir})`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('stopping: storing what was accepted…');
    void server.close().then(() => process.exit(0));
  });
}
