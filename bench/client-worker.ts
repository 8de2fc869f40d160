// The client side of the benchmarks, in its own process (pinned to its own core by run.ts): it
// connects the clients of a job, says `ready` (so the parent samples the server's CPU for the
// measured phase only), runs on `go`, and replies with the figures.
import WebSocket from 'ws';
import { connect, type BenchClient, type Kind } from './protocols.js';
import { SearchAttacker, worstSearches } from './search-attack.js';

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
  /** Several server nodes: subscriber n connects to ports[n % ports.length]; the publisher (0) to the first. */
  ports?: number[];
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
  /**
   * The same traffic for this long before the measured run (not measured, no server CPU counted):
   * the measurement starts from a server that has seen traffic, not from one that has just taken
   * 5,000 connections (V8's second full GC lands in the first second of traffic for some systems
   * and during the connections for others).
   */
  warmSeconds?: number;
  /** Several server nodes: client n connects to ports[n % ports.length], so each room spans the nodes. */
  ports?: number[];
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

/**
 * The search-freeze attack: an honest viewer publishes persistent records at 80/s in its own room
 * while `attackers` connections run the worst searches on `room` back to back. After a warm-up of
 * `warmRounds` rounds, blocks of `block` acks alternate without and with the attack.
 */
export interface AttackJob {
  type: 'attack';
  kind: 'vidget';
  port: number;
  room: string;
  attackers: number;
  warmRounds: number;
  block: number;
  blocks: number;
}

export type Job = FanoutJob | RoomsJob | IdleJob | PersistJob | AttackJob;

/** What the attack job reports beside the usual figures (which describe the attacked blocks). */
export interface AttackFigures {
  quietP50: number;
  quietP99: number;
  /** The slowest ack of the warm-up, when the attack's repeated fields earned their indexes. */
  warmMaxMs: number;
  searches: number;
  timeouts: number;
  busy: number;
}

/** What a job reports. */
export interface JobResult extends Partial<AttackFigures> {
  deliveries: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  /** Deliveries that never arrived (rooms workload: must be 0). */
  missing: number;
  connectMs: number;
}

/** Connects `count` clients, `concurrency` at a time (a few hundred handshakes in flight at most). */
async function connectAll(kind: Kind, port: number | ((n: number) => number), count: number, room: (n: number) => string, concurrency = 100): Promise<BenchClient[]> {
  const clients: BenchClient[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const n = next++;
        clients[n] = await connect(kind, typeof port === 'number' ? port : port(n), room(n), n);
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
  const ports = job.ports;
  const clients = await connectAll(job.kind, ports ? (n) => ports[n % ports.length]! : job.port, job.subscribers, () => 'fan');
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
  const ports = job.ports;
  const clients = await connectAll(job.kind, ports ? (n) => ports[n % ports.length]! : job.port, count, (n) => `r${Math.floor(n / job.perRoom)}`);
  const connectMs = performance.now() - c0;
  if (job.warmSeconds) await roomTraffic(clients, job, job.warmSeconds, () => {});
  const expected = count * Math.round(job.rate * job.seconds) * job.perRoom;
  const latencies = new Float64Array(expected);
  await ready();
  const { deliveries, elapsedMs } = await roomTraffic(clients, job, job.seconds, (latency, n) => (latencies[n] = latency));
  for (const c of clients) c.close();
  return { deliveries, elapsedMs, ...percentiles(latencies, deliveries), missing: expected - deliveries, connectMs };
}

/** Every client publishes at `job.rate` for `seconds`; resolves once all is delivered (or 10 s after the last send). */
async function roomTraffic(clients: BenchClient[], job: RoomsJob, seconds: number, record: (latency: number, n: number) => void): Promise<{ deliveries: number; elapsedMs: number }> {
  const count = clients.length;
  const perClient = Math.round(job.rate * seconds);
  const expected = count * perClient * job.perRoom;
  let deliveries = 0;
  let finish: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  for (const c of clients)
    c.onMessage = (m) => {
      record(performance.now() - m.t, deliveries++);
      if (deliveries === expected) finish();
    };
  // Every client publishes at `rate`, their sends spread evenly over each 10 ms tick.
  const start = performance.now();
  let tick = 0;
  const ticks = seconds * 100;
  const perTick = (count * job.rate) / 100;
  let sent = 0;
  const timer = setInterval(() => {
    tick++;
    const due = Math.min(count * perClient, Math.floor(tick * perTick));
    while (sent < due) clients[sent % count]!.publish(sent++, performance.now());
    if (tick >= ticks) clearInterval(timer);
  }, 10);
  // Delivery is complete, or the system fell behind: give it 10 s after the last send.
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 10_000))]);
  clearInterval(timer);
  return { deliveries, elapsedMs: performance.now() - start };
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

/** The honest viewer: one persistent publish at a time, one every 12.5 ms, each publish→ack timed. */
class HonestViewer {
  private cid = 0;
  private acked: (() => void) | undefined;
  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      if (data.toString('utf8', 0, 12) === '{"type":"ack') this.acked?.();
    });
  }

  static async connect(port: number): Promise<HonestViewer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/parties/honest/chat?_pk=honest`, { perMessageDeflate: false });
    const synced = new Promise<void>((resolve) =>
      ws.on('message', function wait(d: Buffer) {
        if (d.toString().includes('"synced"')) {
          ws.off('message', wait);
          resolve();
        }
      }),
    );
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await synced;
    return new HonestViewer(ws);
  }

  /** `count` paced publishes (or until `stop()` is true); their latencies. */
  async run(count: number, stop: () => boolean = () => false): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < count && !stop(); i++) {
      const t = performance.now();
      await new Promise<void>((resolve) => {
        this.acked = resolve;
        this.ws.send(`{"type":"pub","cid":"h${this.cid++}","data":{"i":${i}},"persist":true}`);
      });
      ms.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 12.5 - (performance.now() - t))));
    }
    return ms;
  }

  close(): void {
    this.ws.terminate();
  }
}

async function attack(job: AttackJob): Promise<JobResult> {
  const viewer = await HonestViewer.connect(job.port);
  await viewer.run(50); // warm-up of the viewer's own path
  const attackers = Array.from({ length: job.attackers }, (_, i) => new SearchAttacker(`ws://127.0.0.1:${job.port}/parties/${job.room}?_pk=attacker${i}`, i * 1_000_000));
  let warm = true;
  const warming = viewer.run(Infinity, () => !warm);
  await Promise.all(attackers.map((a) => a.after(job.warmRounds)));
  warm = false;
  const warmMaxMs = Math.max(...(await warming));
  await ready(); // the parent waits for the index builds the warm-up asked for, then says go
  const start = performance.now();
  const quiet: number[] = [];
  const attacked: number[] = [];
  for (let b = 0; b < job.blocks; b++) {
    await Promise.all(attackers.map((a) => a.pause()));
    quiet.push(...(await viewer.run(job.block)));
    for (const a of attackers) a.resume();
    attacked.push(...(await viewer.run(job.block)));
  }
  await Promise.all(attackers.map((a) => a.stop()));
  viewer.close();
  const q = percentiles(Float64Array.from(quiet), quiet.length);
  const a = percentiles(Float64Array.from(attacked), attacked.length);
  return {
    deliveries: attacked.length,
    elapsedMs: performance.now() - start,
    p50: a.p50,
    p99: a.p99,
    missing: 0,
    connectMs: 0,
    quietP50: q.p50,
    quietP99: q.p99,
    warmMaxMs,
    searches: attackers.reduce((n, x) => n + x.rounds, 0) * worstSearches(0).length,
    timeouts: attackers.reduce((n, x) => n + x.timeouts, 0),
    busy: attackers.reduce((n, x) => n + x.busy, 0),
  };
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
  const run = job.type === 'fanout' ? fanout(job) : job.type === 'rooms' ? rooms(job) : job.type === 'idle' ? idle(job) : job.type === 'attack' ? attack(job) : persist(job);
  run.then(
    (result) => process.send!(result),
    (error: Error) => process.send!({ error: error.message }),
  );
});
