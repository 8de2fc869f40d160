// `npm run bench` (about 5 minutes) / `npm run bench -- --quick` (under a minute).
// Every figure is printed beside a baseline measured in the same run, as a ratio.
// Processes: each server under test runs alone in a child process and the clients in another,
// so on a 2-core machine the server has one core and the clients the other.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FanoutJob, FanoutResult } from './fanout-client.js';
import { searchBench, type SearchFigures } from './search-bench.js';
import { socketBench } from './socket-bench.js';
import { timelineBench } from './timeline-bench.js';

const quick = process.argv.includes('--quick');
const RUNS = 3;
const tsx = { execArgv: ['--import', 'tsx'] };
const here = new URL('.', import.meta.url).pathname;

interface Target {
  port: number;
  cpuMs(): Promise<number>;
  stop(): void;
}

function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (reply: T & { error?: string }) => (reply.error ? reject(new Error(reply.error)) : resolve(reply)));
    child.send(message as object);
  });
}

async function startTarget(kind: string): Promise<Target> {
  const child = fork(join(here, 'target-server.ts'), [kind], tsx);
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', resolve));
  return {
    port,
    cpuMs: async () => {
      const { cpu } = await ask<{ cpu: { user: number; system: number } }>(child, { cmd: 'cpu' });
      return (cpu.user + cpu.system) / 1000;
    },
    stop: () => child.kill(),
  };
}

async function fanout(kind: 'vidget' | 'bare-ws', job: Omit<FanoutJob, 'kind' | 'port'>): Promise<FanoutResult & { cpuUsPerDelivery: number }> {
  const target = await startTarget(kind);
  const clients = fork(join(here, 'fanout-client.ts'), [], tsx);
  try {
    await ask<{ ready: true }>(clients, { ...job, kind, port: target.port });
    const before = await target.cpuMs();
    const result = await ask<FanoutResult>(clients, { cmd: 'go' });
    const cpu = (await target.cpuMs()) - before;
    return { ...result, cpuUsPerDelivery: (cpu * 1000) / result.deliveries };
  } finally {
    clients.kill();
    target.stop();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const stat = (xs: number[], digits = 0): string => `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;

const lines: string[] = [];
const out = (line = ''): void => {
  console.log(line);
  lines.push(line);
};

// Runs both systems RUNS times, alternating, and tabulates the chosen metrics.
async function compare(title: string, job: Omit<FanoutJob, 'kind' | 'port'>, metrics: Array<[string, (r: FanoutResult & { cpuUsPerDelivery: number }) => number, number, 'higher' | 'lower']>) {
  const results: Record<string, Array<FanoutResult & { cpuUsPerDelivery: number }>> = { 'bare-ws': [], vidget: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const kind of ['bare-ws', 'vidget'] as const) results[kind]!.push(await fanout(kind, job));
  }
  out(`\n### ${title}`);
  out(`| metric | bare ws (median, min–max) | Vidget (median, min–max) | Vidget ÷ bare ws |`);
  out(`|---|---|---|---|`);
  for (const [name, pick, digits, better] of metrics) {
    const bare = results['bare-ws']!.map(pick);
    const ours = results.vidget!.map(pick);
    out(`| ${name} (${better} is better) | ${stat(bare, digits)} | ${stat(ours, digits)} | ${fmt(median(ours) / median(bare), 2)}× |`);
  }
}

const cpuModel = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model ?? 'unknown';
out(`# Vidget benchmark results`);
out();
out(`${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpuModel} · ${cpus().length} cores · ${quick ? 'quick mode' : 'full run'} · medians of ${RUNS} runs`);
out(`Server under test in one process, clients in another; all traffic on loopback. The publisher's data is`);
out(`\`{ i, t }\`; Vidget delivers it in its record envelope (~140 B frames), and the bare loop's messages are`);
out(`padded to the same size, so both deliver the same bytes. Server CPU is the server process's user+system time.`);

const deliveriesPerSec = (r: FanoutResult) => (r.deliveries / r.elapsedMs) * 1000;
await compare(
  'Fan-out at saturation: 100 subscribers in one room, 1 publisher, 64 messages in flight (ephemeral)',
  { room: 'fan', subscribers: 100, messages: quick ? 1000 : 5000, rate: 0, window: 64 },
  [
    ['deliveries/s', deliveriesPerSec, 0, 'higher'],
    ['server CPU µs per delivery', (r) => r.cpuUsPerDelivery, 2, 'lower'],
  ],
);
await compare(
  `Latency at a fixed rate: 1,000 connections in one room, 100 msg/s offered (${quick ? 100 : 500} messages)`,
  { room: 'lat', subscribers: 1000, messages: quick ? 100 : 500, rate: 100, window: 0 },
  [
    ['publish→receive p50 ms', (r) => r.p50, 2, 'lower'],
    ['publish→receive p99 ms', (r) => r.p99, 2, 'lower'],
    ['server CPU µs per delivery', (r) => r.cpuUsPerDelivery, 2, 'lower'],
  ],
);

// Search over a million stored records, in process (the store is what is measured here).
const search: SearchFigures = await searchBench({ records: quick ? 100_000 : 1_000_000, dir: mkdtempSync(join(tmpdir(), 'vidget-search-')) });
out(`\n### Persistence and search: ${fmt(search.records)} records in one room (SQLite, WAL)`);
out(`| figure | Vidget | baseline | ratio |`);
out(`|---|---|---|---|`);
out(`| append, records/s (batches of 1,000 in one transaction, as the room pipeline does) | ${fmt(search.appendPerSec)} | raw better-sqlite3 insert of the same rows: ${fmt(search.rawInsertPerSec)} | ${fmt(search.appendPerSec / search.rawInsertPerSec, 2)}× |`);
for (const q of search.queries) {
  out(`| ${q.name}: p50 / p99 ms (${q.runs} runs) | ${fmt(q.p50, 1)} / ${fmt(q.p99, 1)} | without auto-index: ${fmt(q.baselineP50, 1)} | ${fmt(q.p50 / q.baselineP50, 3)}× |`);
}
out(`| first query on a new field (builds its index once), ms | ${fmt(search.indexBuildMs)} | | |`);

// The widget host's cue timeline.
const tl = timelineBench({ seconds: quick ? 600 : 3600 });
out(`\n### Cue timeline: ${fmt(tl.cues)} widgets, ${fmt(tl.updates)} playhead updates (60 fps, a seek every 100 frames)`);
out(`| figure | Timeline (sorted starts and ends) | baseline: scan every cue per update | ratio |`);
out(`|---|---|---|---|`);
out(`| ns per update | ${fmt(tl.timelineNsPerUpdate)} | ${fmt(tl.scanNsPerUpdate)} | ${fmt(tl.timelineNsPerUpdate / tl.scanNsPerUpdate, 3)}× |`);

// The widget socket in Chromium: offline queue flush and bundle size.
const socket = await socketBench({ queued: quick ? 2_000 : 10_000 });
out(`\n### Widget socket (Chromium, real IndexedDB)`);
out(`| figure | Vidget | baseline | ratio |`);
out(`|---|---|---|---|`);
out(`| flush of ${fmt(socket.queued)} publishes queued offline, from reconnect (\`running\`) to the last ack, ms | ${fmt(socket.flushMs)} (${fmt((socket.queued / socket.flushMs) * 1000)} msg/s) | the browser's raw WebSocket in the same page sending the same publishes, 64 in flight: ${fmt(socket.bareMs)} (${fmt((socket.queued / socket.bareMs) * 1000)} msg/s) | ${fmt(socket.flushMs / socket.bareMs, 2)}× |`);
out(`| core bundle dist/vidget.js and the chunks it imports statically (player, widget host, socket, protocol, Lit), minified | ${fmt(socket.core.bytes / 1024, 1)} KiB, **${fmt(socket.core.gzip / 1024, 1)} KiB gzipped** | target 20 KB gzipped | ${fmt(socket.core.gzip / 20_000, 2)}× |`);
for (const chunk of socket.lazy) out(`| lazy chunk ${chunk.name} (loaded on demand) | ${fmt(chunk.bytes / 1024, 1)} KiB, ${fmt(chunk.gzip / 1024, 1)} KiB gzipped | | |`);
out();
out(`The flush runs with the server's rate limit raised; at the default 100 frames/s the socket paces itself to 90/s.`);
out(`Targets (issue 2): fan-out ≥ 0.9× bare ws at 100 subscribers; filter+sort+limit 10 over 1M records < 50 ms p50; groupBy over the room < 300 ms.`);

if (!quick) writeFileSync(join(here, 'RESULTS.md'), `${lines.join('\n')}\n`);
process.exit(0);
