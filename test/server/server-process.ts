import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = `${ROOT}src/server/cli.ts`;
const TSX = `${ROOT}node_modules/tsx/dist/loader.mjs`;

/** A `vidget.config.json` (in a temp folder) whose projects let viewers without a token read, publish and search (and accept tokens signed with `secret`). */
export function openConfig(ids: string[], secret?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vidget-config-')), 'vidget.config.json');
  writeFileSync(file, JSON.stringify({ projects: ids.map((id) => ({ id, anonymous: ['read', 'publish', 'search'], origins: ['http://localhost'], ...(secret ? { secret } : {}) })) }));
  return file;
}

/** The real server (`src/server/cli.ts`) in a child process: it can crash, be killed, and be measured alone. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  /** What it wrote to stdout and stderr so far. */
  readonly output: () => string;
  /** Whether the process is still running. */
  readonly alive: () => boolean;
  /** Its resident set size in bytes (Linux). */
  readonly rss: () => number;
  /** SIGTERM (a clean stop), then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts the CLI with `env` (PORT 0 unless given) and resolves once it listens. `files` runs it
 * under `ulimit -n files`; `cwd` is where it runs (relative paths such as ./data and dist/);
 * `preload` is a module (path from the repository root) imported before the server; `projects`
 * are served open to viewers without a token (see {@link openConfig}), with `secret` for tokens.
 */
export async function spawnServer(
  env: Record<string, string>,
  { files, cwd = ROOT, preload, projects, secret }: { files?: number; cwd?: string; preload?: string; projects?: string[]; secret?: string } = {},
): Promise<ServerProcess> {
  if (projects) env = { VIDGET_CONFIG: openConfig(projects, secret), ...env };
  const command = `${files ? `ulimit -n ${files} && ` : ''}exec "${process.execPath}"${preload ? ` --import "${ROOT}${preload}"` : ''} --import "${TSX}" "${CLI}"`;
  const child = spawn('sh', ['-c', command], { cwd, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const match = /Vidget server on http:\/\/[^:]+:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`the server exited before listening: ${out}`)));
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    rss: () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
