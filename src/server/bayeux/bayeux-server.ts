import { randomBytes } from 'node:crypto';
import { ErrorCode, VidgetError, isValidName, parseClientFrame, type PublishFrame } from '../../protocol/index.js';
import { clientIdOf } from '../client-identity.js';
import type { Limiter } from '../limits/limiter.js';
import type { ConnectionLimits } from '../rooms/connection.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import { authorize, type Project } from '../trust/project.js';
import type { Projects } from '../trust/projects.js';
import { claimsPromotion } from '../trust/promotion.js';
import type { RoomRef } from '../trust/signed-rooms.js';
import { parseChannel, type BayeuxChannel } from './bayeux-channel.js';
import { BayeuxMember } from './bayeux-member.js';
import { BayeuxPublisher } from './bayeux-publisher.js';
import { BayeuxRefusal, BayeuxStatus } from './bayeux-refusal.js';
import { BayeuxSession } from './bayeux-session.js';
import { BayeuxWatcher } from './bayeux-watcher.js';

/** What the Bayeux endpoint needs from the server. */
export interface BayeuxServerOptions {
  registry: RoomRegistry;
  projects: Projects;
  limiter: Limiter;
  limits: ConnectionLimits;
  maxConnectionsPerIp: number;
  /** How long a `/meta/connect` is held when there is nothing to send (`advice.timeout`). */
  timeoutMs: number;
  /** A client id with no connect for this long after its last one is forgotten. */
  expiryMs: number;
  log: (message: string, error?: unknown) => void;
}

/** Where a batch of messages came from. */
export interface BayeuxContext {
  ip: string;
  origin: string | undefined;
  /** Long-polling (HTTP), as opposed to WebSocket. */
  http: boolean;
  /** Aborted when an HTTP request is gone before its answer (a held connect must not take queued messages with it). */
  signal?: AbortSignal;
  /** Work the transport runs once the replies are sent (catch-up replays). */
  after: Array<() => Promise<void>>;
}

type Message = Record<string, unknown>;

const CONNECTION_TYPES = ['websocket', 'long-polling', 'cross-origin-long-polling', 'callback-polling'];
/** Channels a session may hold at once. */
const MAX_SUBSCRIPTIONS = 100;

const refuse = (status: number, code: ErrorCode, message: string): never => {
  throw new BayeuxRefusal(status, code, message);
};

/**
 * Bayeux 1.0 onto Vidget's rooms: handshake, connect, subscribe, unsubscribe, disconnect and
 * publish, for the transports (bayeux-http.ts, bayeux-websocket.ts). Every subscribe and
 * publish is checked like a WebSocket frame: the channel's project, the page's origin, the
 * message's token (or the handshake's), the permission for the room; then it goes through the
 * same `Room` as WebSocket clients: one order, one store, one presence count.
 */
export class BayeuxServer {
  private readonly sessions = new Map<string, BayeuxSession>();
  private readonly perIp = new Map<string, number>();
  private readonly sweep: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly options: BayeuxServerOptions) {
    this.sweep = setInterval(() => this.expire(), Math.max(250, Math.min(options.expiryMs, options.timeoutMs) / 2));
    this.sweep.unref();
  }

  /** Open client ids. */
  get size(): number {
    return this.sessions.size;
  }

  /** Answers a batch of messages in order; resolves with the replies (and any delivered messages) as JSON texts. */
  async process(messages: unknown[], ctx: BayeuxContext): Promise<string[]> {
    const parts: string[] = [];
    for (const m of messages) parts.push(...(await this.handle(m, ctx)));
    return parts;
  }

  /** Answers one message. Never throws: a refusal is the reply's `error`. */
  async handle(m: unknown, ctx: BayeuxContext): Promise<string[]> {
    const msg = (typeof m === 'object' && m !== null && !Array.isArray(m) ? m : {}) as Message;
    try {
      if (msg !== m) refuse(BayeuxStatus.BadRequest, ErrorCode.BadFrame, 'a message is a JSON object');
      switch (msg.channel) {
        case '/meta/handshake':
          return [JSON.stringify(await this.handshake(msg, ctx))];
        case '/meta/connect':
          return await this.connect(msg, ctx);
        case '/meta/subscribe':
          return [JSON.stringify(await this.subscribe(msg, ctx))];
        case '/meta/unsubscribe':
          return [JSON.stringify(this.unsubscribe(msg))];
        case '/meta/disconnect':
          return [JSON.stringify(this.disconnect(msg))];
        default:
          return [JSON.stringify(await this.publish(msg, ctx))];
      }
    } catch (error) {
      if (!(error instanceof BayeuxRefusal) && !(error instanceof VidgetError)) this.options.log('bayeux', error);
      return [JSON.stringify(this.refused(msg, BayeuxRefusal.from(error)))];
    }
  }

  /** The session a message names, if it is open (WebSocket transports bind their socket to it). */
  sessionOf(msg: Message): BayeuxSession | undefined {
    return typeof msg.clientId === 'string' ? this.sessions.get(msg.clientId) : undefined;
  }

  /** Ends every session (server shutdown): held connects are answered with "handshake again". */
  close(): void {
    this.closing = true;
    clearInterval(this.sweep);
    for (const session of [...this.sessions.values()]) {
      this.destroy(session, { channel: '/meta/connect', clientId: session.id, successful: false, error: '500::server shutting down', advice: { reconnect: 'handshake', interval: 1000 } });
    }
  }

  private async handshake(msg: Message, ctx: BayeuxContext): Promise<Message> {
    if (this.closing) refuse(BayeuxStatus.ServerError, ErrorCode.Unavailable, 'the server is shutting down');
    if (msg.version === undefined) refuse(BayeuxStatus.ParameterMissing, ErrorCode.BadFrame, 'version is missing');
    const types = msg.supportedConnectionTypes;
    if (!Array.isArray(types)) return refuse(BayeuxStatus.ParameterMissing, ErrorCode.BadFrame, 'supportedConnectionTypes is missing');
    if (!types.some((t) => CONNECTION_TYPES.includes(t as string))) refuse(BayeuxStatus.ConntypeMismatch, ErrorCode.BadFrame, `this server speaks ${CONNECTION_TYPES.join(' ')}`);
    // Cheapest refusals first: a flood of handshakes does not get its tokens verified.
    if (!this.options.limiter.connect(ctx.ip)) refuse(BayeuxStatus.BadRequest, ErrorCode.RateLimited, 'handshaking too often from this address; retry with backoff');
    if ((this.perIp.get(ctx.ip) ?? 0) >= this.options.maxConnectionsPerIp) refuse(BayeuxStatus.BadRequest, ErrorCode.RateLimited, 'too many clients from this address');
    const token = tokenOf(msg);
    const identity = token === undefined ? undefined : await this.projectOfToken(token).identify(token);
    this.perIp.set(ctx.ip, (this.perIp.get(ctx.ip) ?? 0) + 1);
    const id = randomBytes(16).toString('hex');
    const session = new BayeuxSession(id, clientIdOf(id, identity?.userId ?? null), token, ctx.ip, this.options.limits, this.options.timeoutMs, (s) => this.destroy(s));
    this.sessions.set(id, session);
    return { ...base(msg), clientId: id, version: '1.0', supportedConnectionTypes: CONNECTION_TYPES, advice: this.advice() };
  }

  private async connect(msg: Message, ctx: BayeuxContext): Promise<string[]> {
    const session = this.session(msg);
    if (!CONNECTION_TYPES.includes(msg.connectionType as string)) refuse(BayeuxStatus.ConntypeMismatch, ErrorCode.BadFrame, `connectionType must be one of ${CONNECTION_TYPES.join(' ')}`);
    // A token that expired ends the subscriptions it allowed: the client handshakes again (with a fresh one).
    for (const { exp } of session.identities()) {
      if (exp !== undefined && exp * 1000 <= Date.now()) {
        this.destroy(session);
        refuse(BayeuxStatus.ChannelForbidden, ErrorCode.TokenExpired, 'token has expired; handshake again with a new one');
      }
    }
    const asked = (msg.advice as { timeout?: unknown } | undefined)?.timeout;
    const holdMs = typeof asked === 'number' && asked >= 0 ? asked : this.options.timeoutMs;
    return session.connect({ ...base(msg), clientId: session.id, advice: this.advice() }, ctx.http, holdMs, ctx.signal);
  }

  private async subscribe(msg: Message, ctx: BayeuxContext): Promise<Message> {
    const session = this.session(msg);
    const names = channelList(msg.subscription);
    for (const name of names) await this.subscribeOne(session, name, msg, ctx);
    return { ...base(msg), clientId: session.id, subscription: msg.subscription };
  }

  private async subscribeOne(session: BayeuxSession, name: string, msg: Message, ctx: BayeuxContext): Promise<void> {
    if (!session.admit()) refuse(BayeuxStatus.BadRequest, ErrorCode.RateLimited, 'rate limit exceeded; slow down and retry');
    const channel = parseChannel(name);
    if (channel.wildcard) return this.watch(session, channel, msg, ctx);
    const { project, room } = this.projectRoom(channel, ctx);
    const identity = await session.identityFor(project, tokenOf(msg));
    authorize(identity, room, 'read');
    this.checkRoomFor(session);
    const roomName = `${project.id}/${room.plain}`;
    let member = session.members.get(roomName);
    if (!member) {
      member = new BayeuxMember(session.recordClientId, this.options.registry.roomFor(roomName), session, identity);
      session.members.set(roomName, member);
    }
    try {
      await member.room.ready;
    } catch (error) {
      this.options.log(`opening room ${roomName}`, error);
      if (member.size === 0) session.members.delete(roomName);
      this.options.registry.dropIfIdle(member.room);
      refuse(BayeuxStatus.ServerError, ErrorCode.Unavailable, 'store unavailable');
    }
    if (session.closed) return;
    member.identity = identity;
    const replay = member.subscribe(channel);
    if (replay) ctx.after.push(replay);
  }

  private checkRoomFor(session: BayeuxSession): void {
    if (session.subscriptions >= MAX_SUBSCRIPTIONS) refuse(BayeuxStatus.ChannelForbidden, ErrorCode.RateLimited, `at most ${MAX_SUBSCRIPTIONS} channels per client`);
  }

  /**
   * A wildcard subscribe: allowed only when the token's `rooms` grant `read` in every room the
   * wildcard can match (a wildcard reaches rooms the page was never handed, signed ones too).
   */
  private async watch(session: BayeuxSession, channel: BayeuxChannel, msg: Message, ctx: BayeuxContext): Promise<void> {
    const project = this.projectOf(channel, ctx);
    const prefix = channel.room === '' ? '' : `${project.room(channel.room).plain}/`;
    const identity = await session.identityFor(project, tokenOf(msg));
    if (!identity.permissions.covers(prefix, 'read')) {
      refuse(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, `wildcard channels need a token whose rooms grant read in ${prefix || 'every room'}*`);
    }
    this.checkRoomFor(session);
    if (session.closed) return;
    let watcher = session.watchers.get(project.id);
    if (!watcher) session.watchers.set(project.id, (watcher = new BayeuxWatcher(project, session, session.members, identity)));
    watcher.identity = identity;
    watcher.add(channel, prefix);
    await this.options.registry.watch(watcher);
  }

  private unsubscribe(msg: Message): Message {
    const session = this.session(msg);
    for (const name of channelList(msg.subscription)) {
      for (const [project, watcher] of session.watchers) {
        if (!watcher.remove(name)) continue;
        if (watcher.size > 0) void this.options.registry.watch(watcher);
        else {
          session.watchers.delete(project);
          this.options.registry.unwatch(watcher);
        }
      }
      for (const [roomName, member] of session.members) {
        if (!member.unsubscribe(name)) continue;
        session.members.delete(roomName);
        this.options.registry.dropIfIdle(member.room);
      }
    }
    return { ...base(msg), clientId: session.id, subscription: msg.subscription };
  }

  private disconnect(msg: Message): Message {
    const session = this.session(msg);
    this.destroy(session);
    return { ...base(msg), clientId: session.id };
  }

  private async publish(msg: Message, ctx: BayeuxContext): Promise<Message> {
    if (typeof msg.channel === 'string' && /^\/meta\//i.test(msg.channel)) refuse(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, 'not a meta channel this server answers');
    const session = this.session(msg);
    if (!session.admit()) refuse(BayeuxStatus.PublishFailed, ErrorCode.RateLimited, 'rate limit exceeded; slow down and retry');
    const channel = parseChannel(msg.channel);
    if (channel.wildcard) refuse(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, 'wildcard channels cannot be published on');
    if (channel.readOnly) refuse(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, 'views and catch-up channels are read-only; publish on the room channel');
    if (!('data' in msg)) refuse(BayeuxStatus.ParameterMissing, ErrorCode.BadFrame, 'data is missing');
    const { project, room } = this.projectRoom(channel, ctx);
    const identity = await session.identityFor(project, tokenOf(msg));
    authorize(identity, room, 'publish');
    // Promoted is a moderator's word: the promoted channels can trust it.
    if (claimsPromotion(msg.data)) authorize(identity, room, 'moderate');
    const cid = isValidName(msg.id) ? msg.id : randomBytes(12).toString('base64url');
    const frame = parseClientFrame(JSON.stringify({ type: 'pub', cid, data: msg.data, persist: (msg.ext as { persist?: unknown } | undefined)?.persist === true })) as PublishFrame;
    const publisher = new BayeuxPublisher(session.recordClientId, identity);
    const target = this.options.registry.roomFor(`${project.id}/${room.plain}`);
    try {
      await target.ready;
      target.publish(publisher, frame);
      const outcome = await publisher.outcome;
      if ('code' in outcome) refuse(BayeuxStatus.PublishFailed, outcome.code, outcome.message);
    } finally {
      this.options.registry.dropIfIdle(target);
    }
    return { ...base(msg), clientId: session.id };
  }

  /** The channel's project and room, checked: known project, allowed origin, valid (signed) room. */
  private projectRoom(channel: BayeuxChannel, ctx: BayeuxContext): { project: Project; room: RoomRef } {
    const project = this.projectOf(channel, ctx);
    return { project, room: project.room(channel.room) };
  }

  /** The channel's project, checked: known, and allowing the page's origin. */
  private projectOf(channel: BayeuxChannel, ctx: BayeuxContext): Project {
    const project = this.options.projects.get(channel.project);
    if (!project) return refuse(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, 'unknown project');
    if (!project.allowsOrigin(ctx.origin)) refuse(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, 'this project does not allow pages of this origin');
    return project;
  }

  /** The project a handshake token is for (its `aud`, read before the signature is checked by that project). */
  private projectOfToken(token: string): Project {
    let aud: unknown;
    try {
      aud = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown }).aud;
    } catch {
      // refused below
    }
    const project = typeof aud === 'string' ? this.options.projects.get(aud) : undefined;
    return project ?? refuse(BayeuxStatus.ChannelForbidden, ErrorCode.Unauthorized, 'the token is for no project of this server');
  }

  private session(msg: Message): BayeuxSession {
    return this.sessionOf(msg) ?? refuse(BayeuxStatus.ClientUnknown, ErrorCode.NotFound, 'unknown client id; handshake again');
  }

  private advice(): Message {
    return { reconnect: 'retry', interval: 0, timeout: this.options.timeoutMs };
  }

  private refused(msg: Message, refusal: BayeuxRefusal): Message {
    const reply: Message = { ...base(msg), successful: false, error: refusal.wire(msg.channel) };
    if (typeof msg.clientId === 'string' && this.sessions.has(msg.clientId)) reply.clientId = msg.clientId;
    if (msg.channel === '/meta/subscribe' || msg.channel === '/meta/unsubscribe') reply.subscription = msg.subscription;
    if (msg.channel === '/meta/handshake') reply.advice = { reconnect: refusal.code === ErrorCode.RateLimited ? 'handshake' : 'none', interval: 1000 };
    if (msg.channel === '/meta/connect') reply.advice = { reconnect: 'handshake', interval: 0 };
    return reply;
  }

  private destroy(session: BayeuxSession, heldReply?: Message): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    const left = (this.perIp.get(session.ip) ?? 1) - 1;
    if (left === 0) this.perIp.delete(session.ip);
    else this.perIp.set(session.ip, left);
    session.close(heldReply);
    for (const member of session.members.values()) this.options.registry.dropIfIdle(member.room);
    for (const watcher of session.watchers.values()) this.options.registry.unwatch(watcher);
  }

  private expire(): void {
    const now = performance.now();
    for (const session of [...this.sessions.values()]) if (!session.present && now - session.lastSeen > this.options.expiryMs) this.destroy(session);
  }
}

/** The fields every reply echoes. */
function base(msg: Message): Message {
  return { channel: typeof msg.channel === 'string' ? msg.channel.slice(0, 300) : undefined, successful: true, ...(typeof msg.id === 'string' && msg.id.length <= 64 ? { id: msg.id } : {}) };
}

/** The `ext.token` of a message, if any. */
function tokenOf(msg: Message): string | undefined {
  const token = (msg.ext as { token?: unknown } | undefined)?.token;
  if (token === undefined || token === null) return undefined;
  if (typeof token !== 'string' || token.length > 4096) refuse(BayeuxStatus.BadRequest, ErrorCode.Unauthorized, 'ext.token must be a token of at most 4096 characters');
  return token as string;
}

/** A subscribe's `subscription`: one channel name or a list of at most 16. */
function channelList(subscription: unknown): string[] {
  const list = typeof subscription === 'string' ? [subscription] : subscription;
  if (!Array.isArray(list) || list.length === 0) return refuse(BayeuxStatus.ParameterMissing, ErrorCode.BadFrame, 'subscription is missing');
  if (list.length > 16) refuse(BayeuxStatus.BadRequest, ErrorCode.BadFrame, 'at most 16 channels per subscribe');
  return list as string[];
}

/** Runs a context's after-reply work (errors are the log's). */
export function runAfter(ctx: BayeuxContext, log: (message: string, error?: unknown) => void): void {
  for (const work of ctx.after.splice(0)) work().catch((error: unknown) => log('bayeux catch-up', error));
}
