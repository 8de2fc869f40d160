// The server of the platform bench, in its own process (pinned to core 0 by the parent): a Vidget
// server with open projects, an API key, and no rate limits (one address runs every client).
// Tells the parent its port; answers { cpu } with its own user+system time.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../src/server/index.js';

const unlimited = { perSecond: 1e9, burst: 1e9 };
const server = await createServer({
  port: 0,
  dataDir: mkdtempSync(join(tmpdir(), 'vidget-platform-bench-')),
  rateLimit: unlimited,
  maxConnectionsPerIp: 1e9,
  projects: (id: string) => ({ id, apiKey: 'bench-api-key-0123456789', secret: 'bench-secret-0123456789', anonymous: ['read', 'publish', 'search', 'analytics'] }),
  rates: { connectsPerAddress: unlimited, framesPerAddress: unlimited, framesPerProject: unlimited, requestsPerAddress: unlimited, apiKeyCalls: unlimited },
  log: () => {},
});
process.send!({ port: server.port });
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'cpu') process.send!({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
