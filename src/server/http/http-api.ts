import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, VidgetError, isValidName, validateQuery, type Json } from '../../protocol/index.js';
import type { Limiter } from '../limits/limiter.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { Store } from '../store/store.js';
import { createToken } from '../trust/create-token.js';
import { authorize, type Project } from '../trust/project.js';
import type { Projects } from '../trust/projects.js';
import type { RoomRef } from '../trust/signed-rooms.js';
import { readBody } from './read-body.js';
import { decodeSegment, type RequestTarget } from './request-target.js';

/** What the REST routes need from the server. */
export interface HttpApiContext {
  store: Store;
  projects: Projects;
  registry: RoomRegistry;
  limiter: Limiter;
  /** Anyone may mint tokens for projects with a secret (demos only). */
  devTokens: boolean;
  /** Waits until everything accepted in a room is stored, so a search sees it. */
  drainRoom: (room: string) => Promise<void>;
  stats: () => { rooms: number; connections: number };
  /** Routes of other parts of the server (the platform's videos and analytics), tried after these. */
  extraRoutes?: Route[];
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_request: 400,
  bad_frame: 400,
  bad_query: 400,
  too_large: 413,
  unauthorized: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  quota_exceeded: 507,
  unavailable: 503,
  query_timeout: 503,
};
const MAX_BODY = 16 * 1024;

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  jsonText(res, status, JSON.stringify(body), headers);
}

/** Answers JSON that is already serialised (a search answer, made off the event loop). */
function jsonText(res: ServerResponse, status: number, text: string | Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Answers an error as `{ error: { code, message } }` with a matching HTTP status. */
export function sendHttpError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  const e = error instanceof VidgetError ? error : new VidgetError(ErrorCode.Internal, 'internal error');
  json(res, STATUS[e.code] ?? 500, { error: { code: e.code, message: e.message } }, headers);
}

export function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req, MAX_BODY);
  try {
    const body = JSON.parse(text);
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body;
  } catch {
    // fall through
  }
  throw new VidgetError(ErrorCode.BadFrame, 'body must be a JSON object');
}

/** The path parameters of a matched route, percent-decoded; a malformed escape is a 400. */
function params(match: RegExpExecArray): string[] {
  return match.slice(1).map((raw) => {
    const value = decodeSegment(raw);
    if (value === undefined) throw new VidgetError(ErrorCode.BadRequest, 'malformed percent-escape in the path');
    return value;
  });
}

/** A request under `/api/projects/<p>/`: the project, and whether it carries the project's API key. */
export interface ProjectCall {
  project: Project;
  /** The caller is the site's backend (the API key): no token, signature or permission needed. */
  trusted: boolean;
}

export type Handler = (ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse, target: RequestTarget, args: string[], call: ProjectCall | undefined) => Promise<void> | void;

/** A route only the site's backend may call. */
export function backendOnly(call: ProjectCall | undefined): Project {
  if (!call?.trusted) throw new VidgetError(ErrorCode.Unauthorized, "this route needs the project's API key (Authorization: Bearer <apiKey>)");
  return call.project;
}

/** A room of the call's project: a backend may name it plainly; anyone else as the project requires (signed). */
function roomOf(call: ProjectCall, name: string): RoomRef {
  return call.project.room(name, call.trusted);
}

const health: Handler = (ctx, _req, res) => json(res, 200, { status: 'ok', uptime: Math.round(process.uptime()), ...ctx.stats() });

const issueToken: Handler = async (ctx, req, res) => {
  const body = await readJson(req);
  const project = isValidName(body.project) ? ctx.projects.get(body.project) : undefined;
  if (!project) throw new VidgetError(ErrorCode.Forbidden, 'unknown project');
  if (!project.isApiKey(bearer(req)) && !ctx.devTokens) throw new VidgetError(ErrorCode.Unauthorized, "minting tokens needs the project's API key (Authorization: Bearer <apiKey>)");
  if (!project.canMint) throw new VidgetError(ErrorCode.BadFrame, 'this project has no secret to sign tokens with (it verifies tokens made by your own backend)');
  json(
    res,
    200,
    createToken(project.config.secret!, {
      project: project.id,
      sub: body.sub as string,
      ...(body.name !== undefined ? { name: body.name as string } : {}),
      ...(body.rooms !== undefined ? { rooms: body.rooms as Record<string, never> } : {}),
      ...(body.ttlSeconds !== undefined ? { ttlSeconds: body.ttlSeconds as number } : {}),
    }),
  );
};

const searchRecords: Handler = async (ctx, req, res, target, [, name = ''], call) => {
  const room = roomOf(call!, name);
  if (!call!.trusted) {
    const token = bearer(req) ?? target.query.get('token') ?? undefined;
    authorize(await call!.project.identify(token), room, 'search');
  }
  let raw: unknown = {};
  const text = target.query.get('query');
  if (text) {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new VidgetError(ErrorCode.BadQuery, 'query is not JSON');
    }
  }
  const query = validateQuery(raw);
  const storeRoom = `${call!.project.id}/${room.plain}`;
  await ctx.drainRoom(storeRoom);
  jsonText(res, 200, await ctx.store.search(storeRoom, query));
};

const publishRecord: Handler = async (ctx, req, res, _target, [, name = ''], call) => {
  const project = backendOnly(call);
  const room = roomOf(call!, name);
  const body = await readJson(req);
  if (!('data' in body)) throw new VidgetError(ErrorCode.BadFrame, 'body.data is missing');
  if (body.persist !== undefined && typeof body.persist !== 'boolean') throw new VidgetError(ErrorCode.BadFrame, 'body.persist must be true or false');
  if (body.username !== undefined && (typeof body.username !== 'string' || body.username.length === 0 || body.username.length > 128)) {
    throw new VidgetError(ErrorCode.BadFrame, 'body.username must be 1-128 characters');
  }
  const record = await ctx.registry.publishFromServer(`${project.id}/${room.plain}`, body.data as Json, body.persist !== false, (body.username as string | undefined) ?? null);
  json(res, 201, record);
};

const deleteRecord: Handler = async (ctx, _req, res, _target, [, name = '', id = ''], call) => {
  const project = backendOnly(call);
  const room = roomOf(call!, name);
  if (!/^\d{1,15}$/.test(id)) throw new VidgetError(ErrorCode.BadRequest, 'a record id is a number');
  const storeRoom = `${project.id}/${room.plain}`;
  await ctx.drainRoom(storeRoom);
  const removed = await ctx.store.delete(storeRoom, [Number(id)]);
  if (removed.ids.length === 0) throw new VidgetError(ErrorCode.NotFound, `no record ${id} in room ${room.plain}`);
  await ctx.registry.removed(storeRoom, removed);
  json(res, 200, { deleted: removed.ids });
};

const deleteUser: Handler = async (ctx, _req, res, _target, [, sub = ''], call) => {
  const project = backendOnly(call);
  if (sub.length === 0 || sub.length > 128) throw new VidgetError(ErrorCode.BadRequest, 'a user id (sub) is 1-128 characters');
  const rooms = await ctx.store.deleteUser(project.id, sub);
  for (const removed of rooms) await ctx.registry.removed(removed.room, removed);
  json(res, 200, { deleted: rooms.reduce((n, r) => n + r.ids.length, 0), rooms: rooms.map((r) => r.room.slice(project.id.length + 1)) });
};

const listRooms: Handler = async (ctx, _req, res, _target, _args, call) => {
  const project = backendOnly(call);
  const rooms = await ctx.store.listRooms(project.id);
  json(res, 200, { rooms: rooms.map((r) => ({ room: r.room.slice(project.id.length + 1), records: r.records, bytes: r.bytes, connections: ctx.registry.get(r.room)?.connections.size ?? 0 })) });
};

/** A route: a path pattern and its handler per method (HEAD is served by GET). */
export interface Route {
  path: RegExp;
  methods: Record<string, Handler>;
}

/** Every route of this file. */
const ROUTES: Route[] = [
  { path: /^\/api\/health$/, methods: { GET: health } },
  { path: /^\/api\/tokens$/, methods: { POST: issueToken } },
  { path: /^\/api\/projects\/([^/]+)\/widgets\/([^/]+)\/records$/, methods: { GET: searchRecords, POST: publishRecord } },
  { path: /^\/api\/projects\/([^/]+)\/widgets\/([^/]+)\/records\/([^/]+)$/, methods: { DELETE: deleteRecord } },
  { path: /^\/api\/projects\/([^/]+)\/users\/([^/]+)\/records$/, methods: { DELETE: deleteUser } },
  { path: /^\/api\/projects\/([^/]+)\/rooms$/, methods: { GET: listRooms } },
];

/** The methods a route answers, for `Allow` and CORS preflights. */
const allowed = (methods: Record<string, Handler>): string => [...Object.keys(methods), ...('GET' in methods ? ['HEAD'] : []), 'OPTIONS'].join(', ');

/** For `/api/projects/<p>/…`: the project (404 if unknown), CORS by its origins, the API key, its rate. */
function projectCall(ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse, id: string): ProjectCall {
  const project = isValidName(id) ? ctx.projects.get(id) : undefined;
  if (!project) throw new VidgetError(ErrorCode.Forbidden, 'unknown project');
  const origin = project.corsOrigin(req.headers.origin);
  if (origin) res.setHeader('access-control-allow-origin', origin);
  else res.removeHeader('access-control-allow-origin');
  if (project.config.origins) res.setHeader('vary', 'Origin');
  const trusted = project.isApiKey(bearer(req));
  if (trusted && !ctx.limiter.apiKey(project.id)) throw new VidgetError(ErrorCode.RateLimited, 'too many server API calls for this project; retry later');
  return { project, trusted };
}

/**
 * The REST API under `/api/`. Returns false for other paths. Every error is answered here as
 * JSON with its status (400 bad request, 404 unknown route, 405 with `Allow`, …).
 */
export async function handleApi(ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<boolean> {
  if (!target.pathname.startsWith('/api/')) return false;
  // Credentials are tokens and keys, never cookies: routes outside a project allow any origin;
  // a project's routes allow its `origins`.
  res.setHeader('access-control-allow-origin', '*');
  try {
    for (const route of ctx.extraRoutes ? ROUTES.concat(ctx.extraRoutes) : ROUTES) {
      const match = route.path.exec(target.pathname);
      if (!match) continue;
      const args = params(match);
      const call = target.pathname.startsWith('/api/projects/') ? projectCall(ctx, req, res, args[0]!) : undefined;
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-methods': allowed(route.methods), 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '86400' });
        res.end();
        return true;
      }
      const handler = route.methods[req.method === 'HEAD' ? 'GET' : (req.method ?? '')];
      if (!handler) {
        sendHttpError(res, new VidgetError(ErrorCode.MethodNotAllowed, `${req.method} is not allowed here; use ${allowed(route.methods)}`), { allow: allowed(route.methods) });
        return true;
      }
      await handler(ctx, req, res, target, args, call);
      return true;
    }
    throw new VidgetError(ErrorCode.NotFound, `no route ${String(req.method).slice(0, 16)} ${target.pathname.slice(0, 200)}`);
  } catch (error) {
    if (res.headersSent) res.destroy();
    else sendHttpError(res, error);
    return true;
  }
}
