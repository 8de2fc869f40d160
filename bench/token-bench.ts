// What tokens cost: verifying one (HS256 with the project's secret, ES256 with a public key), and
// the connection setup rate with a token against the same without one, side by side in one run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import WebSocket from 'ws';
import { createServer } from '../src/server/index.js';
import type { ProjectConfig } from '../src/server/trust/project-config.js';
import { Project } from '../src/server/trust/project.js';

const SECRET = 'bench-secret-0123456789';

/** What {@link tokenBench} measured. */
export interface TokenFigures {
  /** µs per verification. */
  hs256Us: number;
  es256Us: number;
  /** Connections opened and accepted (hello received) per second, 50 at a time. */
  connectsPerSec: { anonymous: number; hs256: number; es256: number };
  connections: number;
}

async function tokens(count: number, sign: (sub: string) => Promise<string>): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => sign(`user${i}`)));
}

/** Verifies every token once after a warm-up; µs per verification. */
async function verifyCost(project: Project, list: string[]): Promise<number> {
  for (const t of list.slice(0, 200)) await project.identify(t);
  const started = performance.now();
  for (const t of list) await project.identify(t);
  return ((performance.now() - started) * 1000) / list.length;
}

/** Opens `list.length` sockets, 50 at a time, each until its `hello`; connections per second. */
async function connectRate(url: string, list: Array<string | undefined>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < list.length; i += 50) {
    const batch = list.slice(i, i + 50).map(
      (token, j) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${url}?_pk=k${i + j}${token ? `&token=${token}` : ''}`);
          ws.once('message', () => resolve(ws));
          ws.once('error', reject);
          ws.once('close', (code) => reject(new Error(`closed ${code}`)));
        }),
    );
    for (const ws of await Promise.all(batch)) ws.terminate();
  }
  return (list.length / (performance.now() - started)) * 1000;
}

/** Runs the token bench; `connections` sockets per kind. */
export async function tokenBench({ connections }: { connections: number }): Promise<TokenFigures> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const hsConfig: ProjectConfig = { id: 'hs', secret: SECRET, anonymous: ['read'] };
  const esConfig: ProjectConfig = { id: 'es', publicKey: await exportSPKI(publicKey), anonymous: ['read'] };
  const hsTokens = await tokens(connections, (sub) =>
    new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setAudience('hs').setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET)),
  );
  const esTokens = await tokens(connections, (sub) => new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setAudience('es').setSubject(sub).setExpirationTime('1h').sign(privateKey));
  const hs256Us = await verifyCost(new Project(hsConfig), hsTokens);
  const es256Us = await verifyCost(new Project(esConfig), esTokens);
  const unlimited = { perSecond: 1e9, burst: 1e9 };
  const server = await createServer({
    port: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'vidget-token-bench-')),
    log: () => {},
    projects: [hsConfig, esConfig],
    maxConnectionsPerIp: 1e9,
    maxPendingPerAddress: 1e9,
    rates: { connectsPerAddress: unlimited, framesPerAddress: unlimited, framesPerProject: unlimited, requestsPerAddress: unlimited },
  });
  try {
    await connectRate(`${server.wsUrl}/parties/hs/warm`, hsTokens.slice(0, 200));
    const anonymous = await connectRate(`${server.wsUrl}/parties/hs/room`, Array(connections).fill(undefined));
    const hs256 = await connectRate(`${server.wsUrl}/parties/hs/room`, hsTokens);
    const es256 = await connectRate(`${server.wsUrl}/parties/es/room`, esTokens);
    return { hs256Us, es256Us, connectsPerSec: { anonymous, hs256, es256 }, connections };
  } finally {
    await server.close();
  }
}
