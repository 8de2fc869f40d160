// Vidget over Bayeux beside Faye's own server (faye 1.4's NodeAdapter), on the fan-out workloads
// of run.ts section 1, with the same client (faye's Node client, WebSocket transport) for both,
// so what differs is the server. Each server runs alone in a child process pinned to core 0 and
// the clients in another pinned to core 1 (taskset), as in run.ts.
//
// Standalone: `node --import tsx bench/bayeux-bench.ts [--quick]`; run.ts prints it as a section.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { FanoutJob, JobResult } from './client-worker.js';
import type { Kind } from './protocols.js';

const here = new URL('.', import.meta.url).pathname;
const PIN = existsSync('/usr/bin/taskset') && cpus().length >= 2;

/** One workload's figures for both servers, a list of runs each. */
export interface BayeuxRow {
  title: string;
  /** Which figure the workload is about: throughput at saturation, or latency at a fixed rate. */
  kind: 'throughput' | 'latency';
  faye: BayeuxRun[];
  vidget: BayeuxRun[];
}

/** One run of one server on one workload. */
export interface BayeuxRun extends JobResult {
  deliveriesPerSec: number;
  cpuUsPerDelivery: number;
}

type Workload = Omit<FanoutJob, 'kind' | 'port'> & { title: string; kind: BayeuxRow['kind'] };

/** The fan-out workloads of run.ts section 1 (fewer messages: faye's server is the slow side). */
function workloads(quick: boolean): Workload[] {
  const big = quick ? 200 : 1000;
  return [
    { title: '100 subscribers at saturation (64 messages in flight)', kind: 'throughput', type: 'fanout', subscribers: 100, messages: quick ? 300 : 2000, rate: 0, window: 64 },
    { title: `100 subscribers, 1,000 msg/s offered (${quick ? 300 : 2000} messages)`, kind: 'latency', type: 'fanout', subscribers: 100, messages: quick ? 300 : 2000, rate: 1000, window: 0 },
    { title: `${big} subscribers at saturation (16 messages in flight)`, kind: 'throughput', type: 'fanout', subscribers: big, messages: quick ? 100 : 200, rate: 0, window: 16 },
    { title: `${big} subscribers, 100 msg/s offered (${quick ? 100 : 300} messages)`, kind: 'latency', type: 'fanout', subscribers: big, messages: quick ? 100 : 300, rate: 100, window: 0 },
  ];
}

/** Asks a child process something and waits for its answer. */
function ask<T>(child: ChildProcess, message: object): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (reply: T & { error?: string }) => (reply.error ? reject(new Error(reply.error)) : resolve(reply)));
    child.send(message);
  });
}

function forkPinned(core: number, script: string, args: string[] = []): ChildProcess {
  const child = fork(join(here, script), args, { execArgv: ['--import', 'tsx'] });
  if (PIN) spawnSync('taskset', ['-a', '-p', '-c', String(core), String(child.pid)], { stdio: 'ignore' });
  return child;
}

/** The server's user+system CPU so far, ms. */
async function cpuMs(target: ChildProcess): Promise<number> {
  const { cpu } = await ask<{ cpu: { user: number; system: number } }>(target, { cmd: 'cpu' });
  return (cpu.user + cpu.system) / 1000;
}

async function runOnce(kind: Kind, job: Workload, clients: ChildProcess): Promise<BayeuxRun> {
  const target = forkPinned(0, 'target-server.ts', [kind]);
  try {
    const { port } = await new Promise<{ port: number }>((resolve) => target.once('message', resolve));
    const { title: _title, kind: _kind, ...fanout } = job;
    await ask(clients, { ...fanout, kind, port });
    const before = await cpuMs(target);
    const result = await ask<JobResult>(clients, { cmd: 'go' });
    const cpu = (await cpuMs(target)) - before;
    return { ...result, deliveriesPerSec: (result.deliveries / result.elapsedMs) * 1000, cpuUsPerDelivery: (cpu * 1000) / Math.max(1, result.deliveries) };
  } finally {
    target.kill();
  }
}

/** Runs every workload `runs` times on both servers, interleaved so drift hits both alike. */
export async function bayeuxBench({ quick = false, runs = quick ? 1 : 3 }: { quick?: boolean; runs?: number } = {}): Promise<BayeuxRow[]> {
  const clients = forkPinned(1, 'client-worker.ts');
  try {
    const rows: BayeuxRow[] = [];
    for (const job of workloads(quick)) {
      const row: BayeuxRow = { title: job.title, kind: job.kind, faye: [], vidget: [] };
      for (let run = 0; run < runs; run++) {
        row.faye.push(await runOnce('faye', job, clients));
        row.vidget.push(await runOnce('vidget-bayeux', job, clients));
        process.stderr.write(`bayeux bench: ${job.title}, run ${run + 1}/${runs} done\n`);
      }
      rows.push(row);
    }
    return rows;
  } finally {
    clients.kill();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');

/** The rows as a markdown table: each figure for both servers and Vidget's ÷ Faye's. */
export function bayeuxTable(rows: BayeuxRow[]): string[] {
  const lines = ['| workload | figure | Faye 1.4 (own server) | Vidget over Bayeux | Vidget ÷ Faye |', '|---|---|---|---|---|'];
  for (const row of rows) {
    const figures: Array<[string, (r: BayeuxRun) => number, number]> =
      row.kind === 'throughput'
        ? [
            ['deliveries/s (higher is better)', (r) => r.deliveriesPerSec, 0],
            ['p99 ms', (r) => r.p99, 1],
          ]
        : [
            ['p50 ms', (r) => r.p50, 2],
            ['p99 ms (lower is better)', (r) => r.p99, 2],
          ];
    figures.push(['server CPU µs/delivery', (r) => r.cpuUsPerDelivery, 2], ['deliveries missing', (r) => r.missing, 0]);
    for (const [name, pick, digits] of figures) {
      const f = median(row.faye.map(pick));
      const v = median(row.vidget.map(pick));
      lines.push(`| ${row.title} | ${name} | ${fmt(f, digits)} | ${fmt(v, digits)} | ${f === 0 ? '–' : `${fmt(v / f, 2)}×`} |`);
    }
  }
  return lines;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const quick = process.argv.includes('--quick');
  const t0 = performance.now();
  const rows = await bayeuxBench({ quick });
  console.log(`Vidget over Bayeux vs Faye's own server, ${quick ? 'quick, 1 run' : 'medians of 3 runs'} · Node ${process.version} · ${PIN ? 'server on core 0, clients on core 1' : 'unpinned'}`);
  for (const line of bayeuxTable(rows)) console.log(line);
  console.log(`(${fmt((performance.now() - t0) / 1000)} s)`);
  process.exit(0);
}
