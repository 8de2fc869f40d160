import { Redis, type RedisOptions } from 'ioredis';

/**
 * Thrown by `RedisBus.connect` / `RedisPresence.connect` when Redis cannot be reached at start,
 * so a node started with a wrong `REDIS_URL` stops with a message that says what to fix instead
 * of retrying silently forever.
 */
export class RedisUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`Redis at ${redactUrl(url)} (REDIS_URL) is unreachable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RedisUnreachableError';
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid URL>';
  }
}

/**
 * Options shared by every connection of the bus and presence. The point of all of them is that
 * nothing waits or queues without bound while Redis is away:
 * - no offline queue: a command sent while disconnected fails at once (callers drop or keep
 *   their own bounded state and rewrite it on `ready`);
 * - `maxRetriesPerRequest: 0` and no resend: commands in flight when the socket closes are
 *   rejected then and there, not replayed after the reconnect (replaying a publish after the
 *   subscribers resynced would only deliver it late);
 * - `socketTimeout`: a socket with a pending command and no byte back for that long is taken
 *   for dead (a network black hole, a frozen Redis) and reconnected;
 * - reconnects forever, backing off to at most 1 s so a restarted Redis is found quickly.
 */
export function redisConnection(url: string, role: string, deadAfterMs: number): Redis {
  const options: RedisOptions = {
    connectionName: `vidget-${role}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // The bus resubscribes itself on `ready` so it knows when the subscriptions are live again.
    autoResubscribe: false,
    socketTimeout: deadAfterMs,
    connectTimeout: Math.max(deadAfterMs, 2_000),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 1_000),
  };
  return new Redis(url, options);
}

/**
 * Resolves when the connection is ready; rejects with {@link RedisUnreachableError} on its first
 * error or after `timeoutMs` (ioredis itself would keep retrying quietly).
 */
export function whenReady(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (error === undefined) resolve();
      else reject(new RedisUnreachableError(url, error));
    };
    const onReady = () => done();
    const onError = (error: unknown) => done(error);
    const timer = setTimeout(() => done(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/**
 * Ends a connection: QUIT when it is up (the replies to earlier commands arrive first, so pending
 * publishes are flushed), else drop it at once; never waits more than `timeoutMs`.
 */
export async function quitConnection(redis: Redis, timeoutMs = 2_000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([
    redis.quit().then(
      () => undefined,
      () => undefined,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  // Whatever happened, the connection must not reconnect after close.
  // (The status changed during the await; TypeScript narrowed it to 'ready'.)
  if ((redis.status as string) !== 'end') redis.disconnect();
}

/**
 * The default error sink: one line on stderr, at most one per 10 s per connection role, because
 * ioredis reports an error on every reconnect attempt while Redis is down.
 */
export function throttledErrorLog(what: string): (error: unknown) => void {
  let last = 0;
  let suppressed = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 10_000) {
      suppressed += 1;
      return;
    }
    const more = suppressed > 0 ? ` (${suppressed} more since the last report)` : '';
    console.error(`[vidget] ${what}: ${error instanceof Error ? error.message : String(error)}${more}`);
    last = now;
    suppressed = 0;
  };
}
