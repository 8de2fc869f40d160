import type { WebSocket } from 'ws';

/** What the heartbeat needs to know of a socket's connection. */
export interface Pulse {
  /** Set by any frame or pong; cleared when a ping goes out. */
  alive: boolean;
}

/**
 * Pings every socket each `intervalMs`; a socket that has not answered (nor sent anything)
 * since the previous ping is terminated. Returns the function that stops it.
 */
export function startHeartbeat(clients: Set<WebSocket>, pulseOf: (ws: WebSocket) => Pulse | undefined, intervalMs: number): () => void {
  const timer = setInterval(() => {
    for (const ws of clients) {
      const pulse = pulseOf(ws);
      if (!pulse) continue;
      if (!pulse.alive) {
        ws.terminate();
        continue;
      }
      pulse.alive = false;
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
