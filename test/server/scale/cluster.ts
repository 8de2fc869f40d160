import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { TokenRequest } from '../../../src/server/index.js';
import { token } from '../helpers.js';
import { spawnServer, type ServerProcess } from '../server-process.js';
import { randomPrefix, redisUnavailable } from '../bus/redis-test-kit.js';
import { DATABASE_URL, dropSchema, freshSchema, postgresMissing, REDIS_URL } from '../services.js';

/** Why the several-node tests cannot run here, or undefined (PostgreSQL and Redis both reachable). */
export async function servicesMissing(): Promise<string | undefined> {
  const pg = await postgresMissing();
  if (pg) return pg;
  return redisUnavailable();
}

/** Server processes of one deployment: one PostgreSQL schema and one Redis prefix of their own. */
export class Cluster {
  readonly nodes: ServerProcess[] = [];
  readonly schema = freshSchema();
  readonly prefix = randomPrefix();
  private readonly secret = randomBytes(16).toString('hex');

  /** A token of this deployment's `scale` project (every node shares the secret). */
  token(sub: string, extra: Omit<TokenRequest, 'project' | 'sub'> = {}): string {
    return token('scale', sub, extra, this.secret);
  }

  /** The environment every node of this deployment shares. */
  get env(): Record<string, string> {
    return {
      DATABASE_URL,
      VIDGET_PG_SCHEMA: this.schema,
      REDIS_URL,
      VIDGET_REDIS_PREFIX: this.prefix,
      VIDGET_SECRET: this.secret,
      VIDGET_RATE_CONNECTS: '1000000/1000000',
      VIDGET_RATE_ADDRESS_FRAMES: '1000000/1000000',
      VIDGET_RATE_PROJECT_FRAMES: '1000000/1000000',
    };
  }

  /** Starts one more node. */
  async start(): Promise<ServerProcess> {
    const node = await spawnServer(this.env, { projects: ['scale'], secret: this.secret });
    this.nodes.push(node);
    return node;
  }

  /** Stops every node, drops the schema and the Redis keys. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await dropSchema(this.schema);
    const redis = new Redis(REDIS_URL);
    redis.on('error', () => {});
    try {
      const keys = await redis.keys(`${this.prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  }
}
