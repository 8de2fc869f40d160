import type { RoomRegistry } from '../rooms/room-registry.js';
import type { Store } from './store.js';

/** Records deleted per transaction: short enough not to stall publishes. */
const BATCH = 2_000;

/**
 * Deletes records older than `maxAgeMs`, in small batches (each its own transaction, with a
 * turn of the event loop between), every `everyMs` (default a tenth of the age, at most a
 * minute). Open rooms and projects stop counting what left against their quotas. Returns the
 * function that stops it.
 */
export function startRetention(
  store: Store,
  registry: RoomRegistry,
  maxAgeMs: number,
  log: (message: string, error?: unknown) => void,
  everyMs = Math.min(60_000, Math.max(1_000, maxAgeMs / 10)),
): () => void {
  let running = false;
  let stopped = false;
  const sweep = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      while (!stopped) {
        const expired = await store.expire(Date.now() - maxAgeMs, BATCH);
        await registry.released(expired);
        if (expired.reduce((n, e) => n + e.records, 0) < BATCH) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      log('retention', error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), everyMs);
  timer.unref();
  void sweep();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
