// The client side of the benchmarks, in its own process (pinned to its own core by run.ts): it
// connects the clients of a job, says `ready` (so the parent samples the server's CPU for the
// measured phase only), runs on `go`, and replies with the figures.
import { connect, type BenchClient, type Kind } from './protocols.js';

/** N subscribers in one room, one of them publishing: at a fixed rate, or saturating with `window` in flight. */
export interface FanoutJob {
  type: 'fanout';
  kind: Kind;
  port: number;
  subscribers: number;
  messages: number;
  /** Messages per second offered; 0 = saturate. */
  rate: number;
  window: number;
}

/** `rooms` rooms of `perRoom` clients, every client publishing `rate` messages/s for `seconds`. */
export interface RoomsJob {
  type: 'rooms';
  kind: Kind;
  port: number;
  rooms: number;
  perRoom: number;
  rate: number;
  seconds: number;
}

/** Idle connections spread over `rooms` rooms; held until the parent says `go`. */
export interface IdleJob {
  type: 'idle';
  kind: Kind;
  port: number;
  connections: number;
  rooms: number;
}

/** Vidget persistent publishes: `clients` publishers, each keeping `window` unacked. */
export interface PersistJob {
  type: 'persist';
  kind: 'vidget';
  port: number;
  clients: number;
  messages: number;
  window: number;
}

export type Job = FanoutJob | RoomsJob | IdleJob | PersistJob;

/** What a job reports. */
export interface JobResult {
  deliveries: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  /** Deliveries that never arrived (rooms workload: must be 0). */
  missing: number;
  connectMs: number;
}

/** Connects `count` clients, `concurrency` at a time (a few hundred handshakes in flight at most). */
async function connectAll(kind: Kind, port: number, count: number, room: (n: number) => string, concurrency = 100): Promise<BenchClient[]> {
  const clients: BenchClient[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const n = next++;
        clients[n] = await connect(kind, port, room(n), n);
      }
    }),
  );
  return clients;
}

let go: (() => void) | undefined;
const ready = () =>
  new Promise<void>((resolve) => {
    go = resolve;
    process.send!({ ready: true });
  });

function percentiles(latencies: Float64Array, n: number): { p50: number; p99: number } {
  const sorted = latencies.slice(0, n).sort();
  return { p50: sorted[Math.floor(n * 0.5)] ?? NaN, p99: sorted[Math.floor(n * 0.99)] ?? NaN };
}

async function fanout(job: FanoutJob): Promise<JobResult> {
  const c0 = performance.now();
  const clients = await connectAll(job.kind, job.port, job.subscribers, () => 'fan');
  const connectMs = performance.now() - c0;
  const expected = job.messages * job.subscribers;
  const latencies = new Float64Array(expected);
  let deliveries = 0;
  let publisherSeen = 0;
  let sent = 0;
  const publisher = clients[0]!;
  await ready();
  const pump = () => {
    while (sent < job.messages && sent - publisherSeen < job.window) publisher.publish(sent++, performance.now());
  };
  const done = new Promise<void>((resolve) => {
    clients.forEach((client, n) => {
      client.onMessage = (m) => {
        latencies[deliveries++] = performance.now() - m.t;
        if (n === 0) {
          publisherSeen++;
          if (job.rate === 0) pump();
        }
        if (deliveries === expected) resolve();
      };
    });
  });
  const start = performance.now();
  // A system that drops or stalls must not hang the bench: stop after 60 s and report what is missing.
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, 60_000).unref());
  if (job.rate === 0) pump();
  else {
    // Ticks of 10 ms, so the timer's resolution does not bunch messages.
    let due = 0;
    const timer = setInterval(() => {
      due += job.rate / 100;
      while (sent < Math.min(job.messages, Math.floor(due))) publisher.publish(sent++, performance.now());
      if (sent >= job.messages) clearInterval(timer);
    }, 10);
  }
  await Promise.race([done, deadline]);
  const elapsedMs = performance.now() - start;
  for (const c of clients) c.close();
  return { deliveries, elapsedMs, ...percentiles(latencies, deliveries), missing: expected - deliveries, connectMs };
}

async function rooms(job: RoomsJob): Promise<JobResult> {
  const count = job.rooms * job.perRoom;
  const c0 = performance.now();
  const clients = await connectAll(job.kind, job.port, count, (n) => `r${Math.floor(n / job.perRoom)}`);
  const connectMs = performance.now() - c0;
  const perClient = Math.round(job.rate * job.seconds);
  const expected = count * perClient * job.perRoom;
  const latencies = new Float64Array(expected);
  let deliveries = 0;
  await ready();
  let finish: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  for (const c of clients)
    c.onMessage = (m) => {
      latencies[deliveries++] = performance.now() - m.t;
      if (deliveries === expected) finish();
    };
  // Every client publishes at `rate`, their sends spread evenly over each 10 ms tick.
  const start = performance.now();
  let tick = 0;
  const ticks = job.seconds * 100;
  const perTick = (count * job.rate) / 100;
  let sent = 0;
  const timer = setInterval(() => {
    tick++;
    const due = Math.min(count * perClient, Math.floor(tick * perTick));
    while (sent < due) clients[sent % count]!.publish(sent++, performance.now());
    if (tick >= ticks) clearInterval(timer);
  }, 10);
  // Delivery is complete, or the system fell behind: give it 10 s after the last send.
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, job.seconds * 1000 + 10_000))]);
  clearInterval(timer);
  const elapsedMs = performance.now() - start;
  for (const c of clients) c.close();
  return { deliveries, elapsedMs, ...percentiles(latencies, deliveries), missing: expected - deliveries, connectMs };
}

async function idle(job: IdleJob): Promise<JobResult> {
  const c0 = performance.now();
  const clients = await connectAll(job.kind, job.port, job.connections, (n) => `idle${n % job.rooms}`, 200);
  const connectMs = performance.now() - c0;
  await ready(); // the parent reads the server's RSS now
  for (const c of clients) c.close();
  return { deliveries: 0, elapsedMs: 0, p50: NaN, p99: NaN, missing: 0, connectMs };
}

async function persist(job: PersistJob): Promise<JobResult> {
  const clients = await connectAll('vidget', job.port, job.clients, (n) => `persist${n}`);
  const latencies = new Float64Array(job.messages);
  let acked = 0;
  await ready();
  const start = performance.now();
  const perClient = Math.ceil(job.messages / job.clients);
  await Promise.all(
    clients.map(
      (c, n) =>
        new Promise<void>((resolve) => {
          let sent = 0;
          let seen = 0;
          const pump = () => {
            while (sent < perClient && sent - seen < job.window) c.publish(n * perClient + sent++, performance.now(), true);
          };
          c.onMessage = (m) => {
            latencies[acked++] = performance.now() - m.t;
            if (++seen === perClient) resolve();
            else pump();
          };
          pump();
        }),
    ),
  );
  const elapsedMs = performance.now() - start;
  for (const c of clients) c.close();
  return { deliveries: acked, elapsedMs, ...percentiles(latencies, acked), missing: 0, connectMs: 0 };
}

// One worker serves the whole bench run, job after job (a fresh process per job costs a second of
// startup each).
process.on('message', (msg: Job | { cmd: 'go' }) => {
  if ('cmd' in msg) {
    const start = go;
    go = undefined;
    return start?.();
  }
  const job = msg;
  const run = job.type === 'fanout' ? fanout(job) : job.type === 'rooms' ? rooms(job) : job.type === 'idle' ? idle(job) : persist(job);
  run.then(
    (result) => process.send!(result),
    (error: Error) => process.send!({ error: error.message }),
  );
});
