// The platform (issue 14): analytics ingest per core with a dashboard subscribed, against plain
// ephemeral publishes into a widget room on the same server (the relay's cheapest path); and the
// fan-out latency of a video notification (REST create → every player's socket) to 1,000 players,
// against a record published through the server API into a widget room with as many sockets.
// The server runs in its own process (pinned to core 0 where taskset exists); the clients here.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const API_KEY = 'bench-api-key-0123456789';

/** What {@link platformBench} measured. */
export interface PlatformFigures {
  reports: number;
  /** Frames taken in per second of server CPU: analytics reports / plain ephemeral publishes. */
  ingestPerCpuSecond: { analytics: number; ephemeral: number };
  players: number;
  notifications: number;
  /** ms from the REST call to each player's receipt: p50 / p99. */
  notify: { p50: number; p99: number };
  record: { p50: number; p99: number };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

function startTarget(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./platform-target.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  if (cpus().length >= 2) spawnSync('taskset', ['-a', '-p', '-c', '0', String(child.pid)], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('message', (m: { port: number }) => resolve({ child, port: m.port })));
}

const cpuSeconds = (child: ChildProcess) =>
  new Promise<number>((resolve) => {
    child.once('message', (m: { cpu: { user: number; system: number } }) => resolve((m.cpu.user + m.cpu.system) / 1e6));
    child.send({ cmd: 'cpu' });
  });

/** Opens `n` sockets to a room (50 at a time), each until its `synced`. */
async function join(port: number, project: string, room: string | ((i: number) => string), n: number, onFrame?: (frame: { type: string }, at: number) => void): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, (_, j) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/parties/${project}/${typeof room === 'string' ? room : room(i + j)}?_pk=bench${i + j}x${Math.random().toString(36).slice(2, 8)}`);
      return new Promise<WebSocket>((resolve) =>
        ws.on('message', (data) => {
          const frame = JSON.parse(String(data)) as { type: string };
          if (frame.type === 'synced') resolve(ws);
          onFrame?.(frame, performance.now());
        }),
      );
    });
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

/** Sends `count` ephemeral publishes over `senders` sockets, 32 unacked each; resolves when all are acked. */
async function pump(senders: WebSocket[], count: number, data: (i: number) => unknown): Promise<void> {
  let sent = 0;
  await Promise.all(
    senders.map(
      (ws) =>
        new Promise<void>((resolve) => {
          let inFlight = 0;
          const next = () => {
            while (inFlight < 32 && sent < count) {
              inFlight++;
              ws.send(JSON.stringify({ type: 'pub', cid: `c${sent}`, data: data(sent++), persist: false }));
            }
            if (inFlight === 0 && sent >= count) resolve();
          };
          ws.on('message', (raw) => {
            const type = (JSON.parse(String(raw)) as { type: string }).type;
            if (type === 'ack' || type === 'err') {
              inFlight--;
              next();
            }
          });
          next();
        }),
    ),
  );
}

/** Frames per second of server CPU for `count` publishes of `data` into `room`, with one subscriber of the analytics room. */
async function ingest(child: ChildProcess, port: number, room: string | ((i: number) => string), count: number, data: (i: number) => unknown): Promise<number> {
  const project = `ingest${Math.random().toString(36).slice(2, 8)}`;
  const [dashboard] = await join(port, project, '_analytics', 1);
  const senders = await join(port, project, room, 50);
  await pump(senders, Math.min(2000, count), data); // warm-up
  const before = await cpuSeconds(child);
  await pump(senders, count, data);
  const used = (await cpuSeconds(child)) - before;
  for (const ws of [...senders, dashboard!]) ws.close();
  return count / used;
}

/** Latencies (ms) from `send()` to every player's receipt of the next record of `room`, over `count` sends. */
async function fanout(port: number, project: string, room: string, players: number, count: number, send: (i: number) => Promise<Response>): Promise<number[]> {
  let startedAt = 0;
  let waiting = 0;
  let done: () => void = () => {};
  const latencies: number[] = [];
  const sockets = await join(port, project, room, players, (frame, at) => {
    if (frame.type !== 'msg' || startedAt === 0) return;
    latencies.push(at - startedAt);
    if (--waiting === 0) done();
  });
  for (let i = 0; i <= count; i++) {
    waiting = players;
    const all = new Promise<void>((resolve) => (done = resolve));
    startedAt = performance.now();
    const res = await send(i);
    await res.text();
    if (!res.ok) throw new Error(`the send answered ${res.status}`);
    await all;
    if (i === 0) latencies.length = 0; // the first is a warm-up (the room opens, the list is read)
  }
  for (const ws of sockets) ws.close();
  return latencies;
}

/** Runs both measures; `reports` frames per ingest run, `players` sockets, `notifications` sends. */
export async function platformBench({ reports = 100_000, players = 1000, notifications = 30 } = {}): Promise<PlatformFigures> {
  const { child, port } = await startTarget();
  try {
    const report = (i: number) => ({
      analytics: [{ slot: 0, videoId: `v${i % 20}`, playing: i % 7 !== 0, plays: i % 5 === 0 ? 1 : 0, seeks: 0, buffering: 0, quartiles: [], watched: 1.5, interactions: { poll: 1 } }],
    });
    const analytics = await ingest(child, port, '_project', reports, report);
    // Each sender in a room of its own: the publish is taken in and acked, relayed to nobody.
    const ephemeral = await ingest(child, port, (i) => `room${i}`, reports, report);
    const post = (project: string, path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}/api/projects/${project}/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const video = (i: number) => ({ id: `v${i}`, title: `Video ${i}`, src: '/v.mp4', status: 'processing' });
    const notify = await fanout(port, 'fan1', '_project', players, notifications, (i) => post('fan1', 'videos', video(i)));
    const record = await fanout(port, 'fan2', 'room', players, notifications, (i) => post('fan2', 'widgets/room/records', { data: { event: 'videoCreated', video: video(i) } }));
    return {
      reports,
      ingestPerCpuSecond: { analytics, ephemeral },
      players,
      notifications,
      notify: { p50: quantile(notify, 0.5), p99: quantile(notify, 0.99) },
      record: { p50: quantile(record, 0.5), p99: quantile(record, 0.99) },
    };
  } finally {
    child.kill();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const f = await platformBench(quick ? { reports: 20_000, players: 200, notifications: 10 } : {});
  console.log(JSON.stringify(f, null, 2));
  process.exit(0);
}
