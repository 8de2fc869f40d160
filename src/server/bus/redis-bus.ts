import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RoomName } from '../store/store.js';
import type { Bus } from './bus.js';
import { quitConnection, redisConnection, throttledErrorLog, whenReady } from './redis-connection.js';

/** Options of {@link RedisBus}. */
export interface RedisBusOptions {
  /** `redis://[user:password@]host:port[/db]` (REDIS_URL). */
  url: string;
  /**
   * Scopes every channel (`<prefix>room:<room>`); pub/sub ignores the database number, so two
   * deployments or test runs on one Redis are kept apart only by this. Default `vidget:`.
   */
  prefix?: string;
  /** This node's id; default a random UUID. */
  nodeId?: string;
  /** Where connection and handler errors go; default a throttled line on stderr. */
  onError?: (error: unknown) => void;
  /**
   * Publishes sent and not yet answered by Redis, at most (default 10,000). Past it, publishes are
   * dropped: a Redis that stopped answering must not make the node buffer without bound.
   */
  maxPendingPublishes?: number;
  /**
   * How often the subscriber connection pings Redis, and how long a connection may wait for a
   * reply before it is taken for dead and reconnected (default 5,000 ms). Without the ping a
   * silently dead subscriber socket would lose messages with no resync.
   */
  healthCheckMs?: number;
}

/** Counters of a {@link RedisBus}, for health endpoints and tests. */
export interface RedisBusStats {
  /** Publishes Redis acknowledged. */
  published: number;
  /** Commands that carried the publishes (those of one event-loop turn go in one). */
  commands: number;
  /** Publishes dropped: Redis unreachable, too many pending, or the connection died under them. */
  dropped: number;
  /** Publishes sent and not yet answered. */
  pending: number;
  /** Messages handed to room handlers. */
  delivered: number;
  /** Times `onResync` was called. */
  resyncs: number;
}

/**
 * The {@link Bus} over Redis pub/sub, for several nodes: one publisher and one subscriber
 * connection, one channel per room (`<prefix>room:<room>`).
 *
 * Delivery is at-most-once. While Redis is unreachable `publish` drops (and counts) instead of
 * queueing; when the subscriber connection comes back it resubscribes every room first and then
 * calls `onResync`, so the room layer can fill what it missed from the store knowing that
 * anything published from then on is delivered. `subscribe` while disconnected registers the
 * room and resolves; it goes live on the reconnect, which is followed by `onResync`.
 *
 * Messages from one node arrive in the order it published them (one publisher connection, and
 * Redis keeps the order per connection); messages from different nodes interleave in the order
 * Redis received them, the same on every node.
 */
export class RedisBus implements Bus {
  readonly nodeId: string;
  onResync: () => void = () => {};
  private readonly prefix: string;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly onError: (error: unknown) => void;
  private readonly maxPending: number;
  /** Room handlers by channel name: the source of truth for what should be subscribed. */
  private readonly rooms = new Map<string, (message: string) => void>();
  /** Project handlers by pattern (`<prefix>room:<project>/*`), for wildcard subscribers. */
  private readonly patterns = new Map<string, (room: RoomName, message: string) => void>();
  /**
   * Subscribed channels that delivered a message of their own on this connection: Redis sends a
   * channel's subscribers a message before its pattern subscribers, so their pattern copy is skipped.
   */
  private readonly direct = new Set<string>();
  private readonly counters: RedisBusStats = { published: 0, commands: 0, dropped: 0, pending: 0, delivered: 0, resyncs: 0 };
  private readonly healthTimer: NodeJS.Timeout;
  private readySeen = false;
  /** Channel and message of each publish of this turn, sent together at its end. */
  private batch: string[] | undefined;
  private flushTimer: NodeJS.Immediate | undefined;
  /** Called when the last pending publish is answered (close waits for it). */
  private drained: (() => void) | undefined;
  private closed = false;

  constructor(options: RedisBusOptions) {
    this.nodeId = options.nodeId ?? randomUUID();
    this.prefix = options.prefix ?? 'vidget:';
    this.onError = options.onError ?? throttledErrorLog('redis bus');
    this.maxPending = options.maxPendingPublishes ?? 10_000;
    const healthCheckMs = options.healthCheckMs ?? 5_000;
    this.pub = redisConnection(options.url, `pub:${this.nodeId}`, healthCheckMs);
    this.pub.defineCommand('vidgetPublish', { numberOfKeys: 0, lua: PUBLISH_BATCH });
    this.sub = redisConnection(options.url, `sub:${this.nodeId}`, healthCheckMs);
    // Every connection has an error listener: ioredis would otherwise print them, and an
    // EventEmitter 'error' without a listener throws.
    this.pub.on('error', (error) => this.onError(error));
    this.sub.on('error', (error) => this.onError(error));
    this.sub.on('message', (channel: string, message: string) => this.deliver(channel, message));
    this.sub.on('pmessage', (pattern: string, channel: string, message: string) => this.deliverPattern(pattern, channel, message));
    this.sub.on('ready', () => void this.resubscribe());
    this.healthTimer = setInterval(() => {
      if (this.sub.status === 'ready') this.sub.ping().catch(() => {});
    }, healthCheckMs);
    this.healthTimer.unref();
  }

  /**
   * A bus whose two connections are up, or a `RedisUnreachableError` naming REDIS_URL after the
   * first connection error or `timeoutMs` (a node should not start half-connected by mistake).
   */
  static async connect(options: RedisBusOptions, timeoutMs = 5_000): Promise<RedisBus> {
    const bus = new RedisBus(options);
    try {
      await Promise.all([whenReady(bus.pub, options.url, timeoutMs), whenReady(bus.sub, options.url, timeoutMs)]);
    } catch (error) {
      await bus.close();
      throw error;
    }
    return bus;
  }

  /** A snapshot of the counters. */
  get stats(): RedisBusStats {
    return { ...this.counters };
  }

  /** Whether both connections are up (publishes go out and subscriptions deliver). */
  get connected(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  subscribe(room: RoomName, onMessage: (message: string) => void): Promise<void> {
    return this.register(this.rooms, this.channel(room), onMessage, (channel) => this.sub.subscribe(channel));
  }

  unsubscribe(room: RoomName): Promise<void> {
    const channel = this.channel(room);
    this.direct.delete(channel);
    return this.unregister(this.rooms, channel, () => this.sub.unsubscribe(channel));
  }

  watch(project: string, onMessage: (room: RoomName, message: string) => void): Promise<void> {
    return this.register(this.patterns, this.pattern(project), onMessage, (pattern) => this.sub.psubscribe(pattern));
  }

  unwatch(project: string): Promise<void> {
    const pattern = this.pattern(project);
    return this.unregister(this.patterns, pattern, () => this.sub.punsubscribe(pattern));
  }

  /** Registers a handler (a second registration replaces it; Redis is asked only once). */
  private async register<H>(handlers: Map<string, H>, name: string, handler: H, command: (name: string) => Promise<unknown>): Promise<void> {
    if (this.closed) throw new Error('RedisBus is closed');
    const known = handlers.has(name);
    handlers.set(name, handler);
    if (known || this.sub.status !== 'ready') return;
    try {
      await command(name);
    } catch (error) {
      // The connection died under the command: the name stays registered and is subscribed again
      // on `ready`, followed by onResync, so nothing is lost silently.
      this.onError(error);
    }
  }

  /** Removes a handler; deleting it first stops delivery at once, even for messages already on the wire. */
  private async unregister<H>(handlers: Map<string, H>, name: string, command: () => Promise<unknown>): Promise<void> {
    if (!handlers.delete(name) || this.sub.status !== 'ready') return;
    try {
      await command();
    } catch (error) {
      // A dropped connection forgets its subscriptions anyway, and `ready` only restores the names still registered.
      this.onError(error);
    }
  }

  publish(room: RoomName, message: string): void {
    // Checked before calling ioredis so a drop costs no rejected promise and no Error object:
    // while Redis is down, a busy node publishes thousands of times a second.
    if (this.closed || this.pub.status !== 'ready' || this.counters.pending >= this.maxPending) {
      this.counters.dropped += 1;
      return;
    }
    this.counters.pending += 1;
    if (!this.batch) {
      this.batch = [];
      this.flushTimer = setImmediate(() => this.flush());
    }
    this.batch.push(this.channel(room), message);
    if (this.batch.length >= 2 * MAX_BATCH) {
      clearImmediate(this.flushTimer);
      this.flush();
    }
  }

  /**
   * Sends the publishes of one turn of the event loop (every socket read in it) as one command: a
   * command costs its write, its reply's read and ioredis's bookkeeping (about 30 µs of CPU), so a
   * command per record was the bus's main cost. The script publishes them in order.
   */
  private flush(): void {
    const batch = this.batch ?? [];
    this.batch = undefined;
    this.flushTimer = undefined;
    const count = batch.length / 2;
    if (count === 0) return;
    this.counters.commands += 1;
    const sent = count === 1 ? this.pub.publish(batch[0]!, batch[1]!) : (this.pub as Redis & BatchCommands).vidgetPublish(...batch);
    sent.then(
      () => {
        this.counters.published += count;
        this.settled(count);
      },
      (error: unknown) => {
        this.counters.dropped += count;
        this.settled(count);
        this.onError(error);
      },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.healthTimer);
    this.rooms.clear();
    this.patterns.clear();
    // Publishes of this turn go out now, and pending ones are answered before QUIT; a connection
    // that dies rejects them, so this ends.
    clearImmediate(this.flushTimer);
    this.flush();
    if (this.counters.pending > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await Promise.all([quitConnection(this.pub), quitConnection(this.sub)]);
  }

  /** Publishes were answered (or failed). */
  private settled(count: number): void {
    this.counters.pending -= count;
    if (this.counters.pending === 0) this.drained?.();
  }

  private channel(room: RoomName): string {
    return `${this.prefix}room:${room}`;
  }

  /** The pattern of every room channel of a project. */
  private pattern(project: string): string {
    return `${globEscape(this.channel(project))}/*`;
  }

  private deliver(channel: string, message: string): void {
    const onMessage = this.rooms.get(channel);
    if (!onMessage) return;
    if (this.patterns.size > 0) this.direct.add(channel);
    this.call(onMessage, message);
  }

  /** A message heard through a project pattern: the room's own handler's until its subscription delivers, else the project's. */
  private deliverPattern(pattern: string, channel: string, message: string): void {
    const own = this.rooms.get(channel);
    if (own) {
      if (!this.direct.has(channel)) this.call(own, message);
      return;
    }
    const onWatch = this.patterns.get(pattern);
    const room = channel.slice(this.channel('').length);
    if (onWatch) this.call((m) => onWatch(room, m), message);
  }

  private call(handler: (message: string) => void, message: string): void {
    this.counters.delivered += 1;
    try {
      handler(message);
    } catch (error) {
      // This runs inside ioredis's reply parser: a throw here would break the connection for
      // every other room.
      this.onError(error);
    }
  }

  /**
   * On every `ready` of the subscriber: subscribe every registered room, then, if this is a
   * reconnect (or rooms were registered while down), tell the room layer to fill gaps. The
   * order matters: after the SUBSCRIBE reply every new message is delivered, so a store read
   * started in `onResync` cannot miss one.
   */
  private async resubscribe(): Promise<void> {
    const reconnect = this.readySeen;
    this.readySeen = true;
    // A new connection: nothing has been delivered on it yet.
    this.direct.clear();
    const channels = [...this.rooms.keys()];
    const patterns = [...this.patterns.keys()];
    if (channels.length > 0 || patterns.length > 0) {
      try {
        // Rooms first: a pattern live before its rooms' own subscriptions delivers to them meanwhile.
        if (channels.length > 0) await this.sub.subscribe(...channels);
        if (patterns.length > 0) await this.sub.psubscribe(...patterns);
      } catch (error) {
        // Dropped again before the reply: the next `ready` does this again.
        this.onError(error);
        return;
      }
    }
    if (this.closed || (!reconnect && channels.length === 0 && patterns.length === 0)) return;
    this.counters.resyncs += 1;
    try {
      this.onResync();
    } catch (error) {
      this.onError(error);
    }
  }
}

/** Publishes one command carries at most (a script's run holds Redis up for the others). */
const MAX_BATCH = 512;
/** Publishes `ARGV` taken as channel, message pairs, in order. */
const PUBLISH_BATCH = `for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end return #ARGV / 2`;

/** The script command {@link RedisBus} defines on its publisher connection. */
interface BatchCommands {
  vidgetPublish(...channelMessagePairs: string[]): Promise<number>;
}

/** Redis glob characters quoted, so a name matches only itself in a pattern. */
const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');
