import type { WebSocket } from 'ws';

/** What the heartbeat needs to know of a socket's connection. */
export interface Pulse {
  /** Set by any frame or pong; cleared when a ping goes out. */
  alive: boolean;
}

/** The interval is walked in this many steps, each pinging its share of the sockets. */
const SLICES = 10;

/**
 * Pings every socket once each `intervalMs`; a socket that has not answered (nor sent anything)
 * since its previous ping is terminated. The sockets are pinged a tenth at a time, every tenth of
 * the interval, so 10,000 pings (and their 10,000 pongs) do not all land in one event-loop turn
 * and hold up the messages behind them. Returns the function that stops it.
 */
export function startHeartbeat(clients: Set<WebSocket>, pulseOf: (ws: WebSocket) => Pulse | undefined, intervalMs: number): () => void {
  const slots = new WeakMap<WebSocket, number>();
  let next = 0;
  let step = 0;
  const timer = setInterval(() => {
    step = (step + 1) % SLICES;
    for (const ws of clients) {
      let slot = slots.get(ws);
      if (slot === undefined) slots.set(ws, (slot = next++ % SLICES));
      if (slot !== step) continue;
      const pulse = pulseOf(ws);
      if (!pulse) continue;
      if (!pulse.alive) {
        ws.terminate();
        continue;
      }
      pulse.alive = false;
      ws.ping();
    }
  }, intervalMs / SLICES);
  timer.unref();
  return () => clearInterval(timer);
}
