// Real-browser tests: Debian's Chromium (never a downloaded one), with a real Vidget server
// started for the run and its address served to the tests at /__test-env.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './scripts/chromium.mjs';

// Tests can stop and start the server (same port, same data) through /__test-server/stop|start.
function vidgetServer() {
  let server;
  let dataDir;
  let port = 0;
  const start = async () => {
    // Loaded through tsx (see the test:browser script), so the TypeScript server runs as is.
    const { createServer } = await import('./src/server/index.ts');
    // Every page connects from 127.0.0.1: the shared per-address rates are tested in node.
    const unlimited = { perSecond: 1e6, burst: 1e6 };
    // Pages use many project ids: each is a project open to viewers without a token; those named
    // signed… need signed room names (TwentyThree's signed root channels, in the Bayeux tests).
    const projects = (id) => ({ id, secret: 'wtr-secret-0123456789', apiKey: 'wtr-api-key-0123456789', anonymous: ['read', 'publish', 'search'], signedRooms: id.startsWith('signed') });
    server = await createServer({
      port,
      dataDir,
      devTokens: true,
      // Short analytics buckets, so a series moves within a test.
      analytics: { seriesMs: 2_000 },
      projects,
      staticDir: 'test/fixtures',
      log: () => {},
      rates: { connectsPerAddress: unlimited, framesPerAddress: unlimited, requestsPerAddress: unlimited },
    });
    port = server.port;
  };
  return {
    name: 'vidget-server',
    async serverStart() {
      dataDir = mkdtempSync(join(tmpdir(), 'vidget-wtr-'));
      await start();
    },
    async serverStop() {
      await server?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async serve(context) {
      if (context.path === '/__test-env') {
        return { body: JSON.stringify({ host: `127.0.0.1:${port}`, http: `http://127.0.0.1:${port}` }), type: 'json' };
      }
      if (context.path === '/__test-server/stop') {
        await server.close();
        return { body: '{"stopped":true}', type: 'json' };
      }
      if (context.path === '/__test-server/start') {
        await start();
        return { body: '{"started":true}', type: 'json' };
      }
    },
  };
}

export default {
  files: ['test/**/*.browser.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testsFinishTimeout: 120_000,
  testFramework: { config: { timeout: 10_000 } },
  browsers: [
    chromeLauncher({
      launchOptions: { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS },
    }),
  ],
  plugins: [esbuildPlugin({ ts: true, target: 'auto', tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) }), vidgetServer()],
};
