// The client side of the fan-out benchmarks, in its own process: N subscribers in one room and
// one publisher among them, speaking either Vidget's protocol or the bare loop's raw echo.
import WebSocket from 'ws';

export interface FanoutJob {
  kind: 'vidget' | 'bare-ws';
  port: number;
  room: string;
  subscribers: number;
  messages: number;
  /** Messages per second offered; 0 = saturate with `window` messages in flight. */
  rate: number;
  window: number;
}

export interface FanoutResult {
  deliveries: number;
  elapsedMs: number;
  p50: number;
  p99: number;
}

const url = (job: FanoutJob, i: number): string =>
  job.kind === 'vidget'
    ? `ws://127.0.0.1:${job.port}/parties/bench/${job.room}?_pk=c${i}`
    : `ws://127.0.0.1:${job.port}/${job.room}`;

// Both protocols carry { i, t }; Vidget wraps it in a record envelope. The bare loop's message is
// padded to the size of the frame Vidget delivers, so both put the same bytes on the wire.
const t0 = performance.now();
const DELIVERED = `{"type":"msg","persisted":false,"record":{"id":1000,"client_id":"c100","created":1795455555555,"username":null,"data":{"i":1000,"t":${t0}}}}`.length;
const encode = (job: FanoutJob, i: number, t: number): string => {
  if (job.kind === 'vidget') return `{"type":"pub","cid":"m${i}","data":{"i":${i},"t":${t}},"persist":false}`;
  const body = `{"i":${i},"t":${t},"pad":""}`;
  return `{"i":${i},"t":${t},"pad":"${'x'.repeat(Math.max(0, DELIVERED - body.length))}"}`;
};
function decode(job: FanoutJob, text: string): { i: number; t: number } | undefined {
  const f = JSON.parse(text);
  if (job.kind === 'bare-ws') return f;
  return f.type === 'msg' || f.type === 'ack' ? f.record.data : undefined;
}

async function run(job: FanoutJob): Promise<FanoutResult> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < job.subscribers; i++) {
    const ws = new WebSocket(url(job, i), { perMessageDeflate: false });
    sockets.push(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
  }
  const expected = job.messages * job.subscribers;
  const latencies = new Float64Array(expected);
  let deliveries = 0;
  let publisherSeen = 0;
  let sent = 0;
  let start = 0;
  const publisher = sockets[0]!;
  // Tell the parent we are connected, so it samples server CPU for the publishing phase only.
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    process.send!({ ready: true });
  });
  const done = new Promise<void>((resolve) => {
    sockets.forEach((ws, n) => {
      ws.on('message', (data) => {
        const m = decode(job, data.toString());
        if (!m || start === 0) return;
        latencies[deliveries++] = performance.now() - m.t;
        if (n === 0) {
          publisherSeen++;
          if (job.rate === 0) pump();
        }
        if (deliveries === expected) resolve();
      });
    });
  });
  // Saturation: keep `window` messages in flight, counted by the publisher's own copies.
  const pump = () => {
    while (sent < job.messages && sent - publisherSeen < job.window) publisher.send(encode(job, sent++, performance.now()));
  };
  start = performance.now();
  if (job.rate === 0) {
    pump();
  } else {
    // Fixed offered rate, in ticks of 10 ms so the timer's resolution does not bunch messages.
    const perTick = job.rate / 100;
    let due = 0;
    const timer = setInterval(() => {
      due += perTick;
      while (sent < Math.min(job.messages, Math.floor(due))) publisher.send(encode(job, sent++, performance.now()));
      if (sent >= job.messages) clearInterval(timer);
    }, 10);
  }
  await done;
  const elapsedMs = performance.now() - start;
  const sorted = latencies.slice(0, deliveries).sort();
  for (const ws of sockets) ws.terminate();
  return { deliveries, elapsedMs, p50: sorted[Math.floor(sorted.length * 0.5)]!, p99: sorted[Math.floor(sorted.length * 0.99)]! };
}

process.once('message', (job: FanoutJob) => {
  run(job).then(
    (result) => process.send!(result),
    (error: Error) => process.send!({ error: error.message }),
  );
});
