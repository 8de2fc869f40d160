import { randomBytes } from 'node:crypto';
import { createServer, Socket, type Server } from 'node:net';
import { Redis } from 'ioredis';

/** The Redis the bus tests run against. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Why the Redis tests cannot run here, or undefined when Redis answers. Checked once per file so
 * a machine without Redis skips them with a printed reason instead of failing.
 */
export async function redisUnavailable(): Promise<string | undefined> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 1_000, maxRetriesPerRequest: 0 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${REDIS_URL} (REDIS_URL) is unreachable: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    probe.disconnect();
  }
}

/** A prefix no other run uses, so tests never see each other's keys or channels. */
export const randomPrefix = (): string => `vidget-test-${randomBytes(6).toString('hex')}:`;

/** A plain connection for the test's own checks (CLIENT KILL, key inspection). */
export function adminConnection(): Redis {
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  admin.on('error', () => {});
  return admin;
}

/** Deletes every key under the prefix. */
export async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Kills the connection(s) named `name` (ioredis `connectionName`), as a dropped link would. */
export async function killConnection(admin: Redis, name: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /id=(\d+)/.exec(line)![1]!);
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids.length;
}

/** A local TCP port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TCP proxy to Redis that can be frozen: while frozen it stops reading from both sides of every
 * open link, so Redis looks alive (the socket stays open) but never answers, the way a network
 * black hole or a stopped VM does. New links made while frozen are relayed normally.
 */
export class FreezableProxy {
  private readonly links = new Set<[Socket, Socket]>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target = new URL(REDIS_URL)): Promise<FreezableProxy> {
    // eslint-disable-next-line prefer-const -- assigned once the server it wraps exists; its handler reads it
    let proxy: FreezableProxy | undefined;
    const server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(Number(target.port || 6379), target.hostname);
      const link: [Socket, Socket] = [client, upstream];
      proxy!.links.add(link);
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = () => {
        proxy!.links.delete(link);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    proxy = new FreezableProxy(server, `redis://127.0.0.1:${port}`);
    return proxy;
  }

  /** Stops relaying on every link open now. */
  freeze(): void {
    for (const [client, upstream] of this.links) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  async close(): Promise<void> {
    for (const [client, upstream] of this.links) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
