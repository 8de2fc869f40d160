import type { ChainableCommander, Redis } from 'ioredis';
import type { RoomName } from '../store/store.js';
import type { PresenceStore } from './bus.js';
import { quitConnection, redisConnection, throttledErrorLog, whenReady } from './redis-connection.js';

/** Options of {@link RedisPresence}. */
export interface RedisPresenceOptions {
  /** `redis://[user:password@]host:port[/db]` (REDIS_URL). */
  url: string;
  /** Scopes every key (`<prefix>nodes`, `<prefix>presence:<room>`, `<prefix>node-rooms:<node>`). Default `vidget:`. */
  prefix?: string;
  /** This node's id (the bus's `nodeId`): the hash field its counts are stored under. */
  nodeId: string;
  /** How often this node proves it is alive and reads the live set. Default 2,000 ms. */
  heartbeatMs?: number;
  /** A node whose last heartbeat is older than this is dead. Default 6,000 ms; must exceed heartbeatMs. */
  nodeTtlMs?: number;
  /** Where connection errors go; default a throttled line on stderr. */
  onError?: (error: unknown) => void;
}

/**
 * Heartbeat: stamp this node with Redis's clock (one clock for every node, so skew between
 * machines does not matter), forget nodes older than the TTL, and return whether this node was
 * missing (it had been taken for dead, or never beat before) followed by the live nodes. A dead
 * node's fields are deleted from every room it counted in (its set `<prefix>node-rooms:<node>`),
 * so rooms nobody reads again do not keep them for ever. (The room keys are built here, not
 * passed in KEYS: one Redis, not a cluster.)
 */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local added = redis.call('ZADD', KEYS[1], now, ARGV[1])
local cutoff = '(' .. (now - tonumber(ARGV[2]))
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)) do
  local rooms = ARGV[3] .. 'node-rooms:' .. node
  for _, room in ipairs(redis.call('SMEMBERS', rooms)) do
    redis.call('HDEL', ARGV[3] .. 'presence:' .. room, node)
  end
  redis.call('DEL', rooms)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
table.insert(live, 1, tostring(added))
return live
`;

/**
 * Total of one room over live nodes, in one script so liveness and counts are read at the same
 * instant; fields of dead nodes are deleted on the way (nobody else would).
 */
const TOTAL = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local oldest = now - tonumber(ARGV[1])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local seen = redis.call('ZSCORE', KEYS[2], fields[i])
  if seen and tonumber(seen) >= oldest then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
return total
`;

interface PresenceCommands {
  vidgetHeartbeat(nodesKey: string, nodeId: string, ttlMs: number, prefix: string): Promise<string[]>;
  vidgetTotal(roomKey: string, nodesKey: string, ttlMs: number): Promise<number>;
}

/**
 * The {@link PresenceStore} over Redis. Each node keeps its count per room in the hash
 * `<prefix>presence:<room>` (field = nodeId) and beats every `heartbeatMs` in the sorted set
 * `<prefix>nodes` (score = Redis time of the last beat, ms). `total` sums the fields of nodes that
 * beat within `nodeTtlMs`.
 *
 * Bound: a node killed without goodbye stops counting in `total` at most `nodeTtlMs` after it
 * died (6 s by default), and every other node hears `onNodesChanged` at most `nodeTtlMs +
 * heartbeatMs` after (8 s by default; plus event-loop lag), which is when the room layer should
 * re-read its totals. A node that says goodbye (`close`) is gone at once and heard of within
 * `heartbeatMs`.
 *
 * Redis is the shared state, but this node's own counts are also kept here: while Redis is away
 * `set` only updates them (nothing queues), and on every reconnect, or when this node finds it was
 * taken for dead (its event loop stalled past the TTL), it writes them all again.
 */
export class RedisPresence implements PresenceStore {
  readonly nodeId: string;
  onNodesChanged: () => void = () => {};
  private readonly prefix: string;
  private readonly redis: Redis & PresenceCommands;
  private readonly heartbeatMs: number;
  private readonly nodeTtlMs: number;
  private readonly onError: (error: unknown) => void;
  /** This node's counts, by room: rewritten on reconnect, removed on close. */
  private readonly counts = new Map<RoomName, number>();
  /** Rooms whose field for this node may exist in Redis (removed once an HDEL succeeded). */
  private readonly written = new Set<RoomName>();
  /** Redis may not hold `counts` (reconnected, or a write failed): the next beat rewrites them. */
  private stale = false;
  private readonly timer: NodeJS.Timeout;
  private liveNodes: string | undefined;
  private beating = false;
  private closed = false;

  constructor(options: RedisPresenceOptions) {
    this.nodeId = options.nodeId;
    this.prefix = options.prefix ?? 'vidget:';
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.nodeTtlMs = options.nodeTtlMs ?? 6_000;
    if (!(this.heartbeatMs > 0) || !(this.nodeTtlMs > this.heartbeatMs)) {
      throw new RangeError(`RedisPresence: nodeTtlMs (${this.nodeTtlMs}) must exceed heartbeatMs (${this.heartbeatMs}) > 0, or live nodes expire between beats`);
    }
    this.onError = options.onError ?? throttledErrorLog('redis presence');
    this.redis = redisConnection(options.url, `presence:${this.nodeId}`, Math.max(this.heartbeatMs, 1_000)) as Redis & PresenceCommands;
    this.redis.defineCommand('vidgetHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    this.redis.defineCommand('vidgetTotal', { numberOfKeys: 2, lua: TOTAL });
    this.redis.on('error', (error) => this.onError(error));
    // Connected or reconnected: beat and restore this node's counts at once (the script's
    // `added` flag triggers the restore), rather than wait up to heartbeatMs.
    this.redis.on('ready', () => {
      this.stale = true;
      void this.heartbeat();
    });
    this.timer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** A presence store that is up, or a `RedisUnreachableError` naming REDIS_URL. */
  static async connect(options: RedisPresenceOptions, timeoutMs = 5_000): Promise<RedisPresence> {
    const presence = new RedisPresence(options);
    try {
      await whenReady(presence.redis, options.url, timeoutMs);
    } catch (error) {
      await presence.close();
      throw error;
    }
    return presence;
  }

  async set(room: RoomName, count: number): Promise<void> {
    if (this.closed) return;
    if (count > 0) this.counts.set(room, count);
    else this.counts.delete(room);
    this.written.add(room);
    // While Redis is away the count waits in `counts` and is written on the reconnect.
    if (this.redis.status !== 'ready') {
      this.stale = true;
      return;
    }
    try {
      if (count > 0) await this.write(this.redis.multi(), room, count).exec();
      else {
        await this.write(this.redis.multi(), room, undefined).exec();
        // Gone from Redis, unless a newer set() of the room came meanwhile.
        if (!this.counts.has(room)) this.written.delete(room);
      }
    } catch (error) {
      this.stale = true;
      this.onError(error);
    }
  }

  /** The total over live nodes; rejects when Redis is unreachable (the caller keeps its last value). */
  async total(room: RoomName): Promise<number> {
    return this.redis.vidgetTotal(this.roomKey(room), this.nodesKey(), this.nodeTtlMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.redis.status === 'ready') {
      const goodbye = this.redis.multi().zrem(this.nodesKey(), this.nodeId).del(this.roomsKey());
      for (const room of this.written) goodbye.hdel(this.roomKey(room), this.nodeId);
      try {
        await goodbye.exec();
      } catch (error) {
        // Without the goodbye the node still drops out after nodeTtlMs.
        this.onError(error);
      }
    }
    this.counts.clear();
    this.written.clear();
    await quitConnection(this.redis);
  }

  private nodesKey(): string {
    return `${this.prefix}nodes`;
  }

  private roomKey(room: RoomName): string {
    return `${this.prefix}presence:${room}`;
  }

  /** The rooms this node has a field in, so another node can delete them when this one dies. */
  private roomsKey(): string {
    return `${this.prefix}node-rooms:${this.nodeId}`;
  }

  /** Queues this node's count of a room (undefined: none) and its entry in {@link roomsKey}. */
  private write(batch: ChainableCommander, room: RoomName, count: number | undefined): ChainableCommander {
    if (count === undefined) return batch.hdel(this.roomKey(room), this.nodeId).srem(this.roomsKey(), room);
    return batch.hset(this.roomKey(room), this.nodeId, count).sadd(this.roomsKey(), room);
  }

  private async heartbeat(): Promise<void> {
    // One beat at a time: a slow Redis must not pile beats up.
    if (this.closed || this.beating || this.redis.status !== 'ready') return;
    this.beating = true;
    try {
      const [added, ...live] = await this.redis.vidgetHeartbeat(this.nodesKey(), this.nodeId, this.nodeTtlMs, this.prefix);
      if ((added === '1' || this.stale) && !this.closed) await this.restoreCounts();
      const nodes = live.sort().join('\n');
      const changed = this.liveNodes !== undefined && nodes !== this.liveNodes;
      this.liveNodes = nodes;
      if (changed && !this.closed) this.onNodesChanged();
    } catch (error) {
      this.onError(error);
    } finally {
      this.beating = false;
    }
  }

  /**
   * Writes every count of this node again, and removes the fields of rooms it left meanwhile
   * (after a reconnect, a failed write, or after being taken for dead).
   */
  private async restoreCounts(): Promise<void> {
    this.stale = false;
    if (this.written.size === 0) return;
    const rooms = [...this.written];
    const batch = this.redis.multi();
    for (const room of rooms) this.write(batch, room, this.counts.get(room));
    try {
      await batch.exec();
    } catch (error) {
      this.stale = true;
      throw error;
    }
    for (const room of rooms) if (!this.counts.has(room)) this.written.delete(room);
  }
}
