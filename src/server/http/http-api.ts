import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, VidgetError, isValidName, validateQuery } from '../../protocol/index.js';
import type { Store } from '../store/store.js';
import { createToken, verifyToken } from '../tokens.js';
import { decodeSegment, type RequestTarget } from './request-target.js';

/** What the REST routes need from the server. */
export interface HttpApiContext {
  store: Store;
  secret: string;
  apiKey: string | undefined;
  devTokens: boolean;
  requireToken: boolean;
  isProjectAllowed: (project: string) => boolean;
  /** Waits until everything accepted in a room is stored, so a search sees it. */
  drainRoom: (room: string) => Promise<void>;
  stats: () => { rooms: number; connections: number };
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_request: 400,
  bad_frame: 400,
  bad_query: 400,
  too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  quota_exceeded: 507,
  unavailable: 503,
};
const MAX_BODY = 16 * 1024;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Answers an error as `{ error: { code, message } }` with a matching HTTP status. */
export function sendHttpError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  const e = error instanceof VidgetError ? error : new VidgetError(ErrorCode.Internal, 'internal error');
  json(res, STATUS[e.code] ?? 500, { error: { code: e.code, message: e.message } }, headers);
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new VidgetError(ErrorCode.TooLarge, `body over ${MAX_BODY} bytes`);
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new VidgetError(ErrorCode.TooLarge, `body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
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

type Handler = (ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse, target: RequestTarget, args: string[]) => Promise<void> | void;

const health: Handler = (ctx, _req, res) => json(res, 200, { status: 'ok', uptime: Math.round(process.uptime()), ...ctx.stats() });

const issueToken: Handler = async (ctx, req, res) => {
  const key = bearer(req);
  if (!(ctx.apiKey !== undefined && key === ctx.apiKey) && !ctx.devTokens) {
    throw new VidgetError(ErrorCode.Unauthorized, 'token issuing needs the API key (Authorization: Bearer <VIDGET_API_KEY>)');
  }
  const body = await readJson(req);
  if (!isValidName(body.project) || !ctx.isProjectAllowed(body.project)) throw new VidgetError(ErrorCode.Forbidden, 'unknown project');
  const token = createToken(ctx.secret, {
    project: body.project,
    username: body.username as string,
    ...(body.ttlSeconds !== undefined ? { ttlSeconds: body.ttlSeconds as number } : {}),
  });
  json(res, 200, { token });
};

const searchRecords: Handler = async (ctx, req, res, target, [project = '', widgetId = '']) => {
  if (!isValidName(project) || !isValidName(widgetId)) throw new VidgetError(ErrorCode.BadFrame, 'bad project or widget id');
  if (!ctx.isProjectAllowed(project)) throw new VidgetError(ErrorCode.Forbidden, 'unknown project');
  const token = bearer(req) ?? target.query.get('token') ?? undefined;
  if (token) verifyToken(ctx.secret, token, project);
  else if (ctx.requireToken) throw new VidgetError(ErrorCode.Unauthorized, 'a token is required');
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
  const room = `${project}/${widgetId}`;
  await ctx.drainRoom(room);
  json(res, 200, await ctx.store.search(room, query));
};

/** Every route: a path pattern and its handler per method (HEAD is served by GET). */
const ROUTES: Array<{ path: RegExp; methods: Record<string, Handler> }> = [
  { path: /^\/api\/health$/, methods: { GET: health } },
  { path: /^\/api\/tokens$/, methods: { POST: issueToken } },
  { path: /^\/api\/projects\/([^/]+)\/widgets\/([^/]+)\/records$/, methods: { GET: searchRecords } },
];

/** The methods a route answers, for `Allow` and CORS preflights. */
const allowed = (methods: Record<string, Handler>): string => [...Object.keys(methods), ...('GET' in methods ? ['HEAD'] : []), 'OPTIONS'].join(', ');

/**
 * The REST API under `/api/`. Returns false for other paths. Every error is answered here as
 * JSON with its status (400 bad request, 404 unknown route, 405 with `Allow`, …).
 */
export async function handleApi(ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<boolean> {
  if (!target.pathname.startsWith('/api/')) return false;
  // Widgets run on the page owner's origin, never on ours. Credentials are tokens, not cookies,
  // so any origin may call the API.
  res.setHeader('access-control-allow-origin', '*');
  try {
    for (const route of ROUTES) {
      const match = route.path.exec(target.pathname);
      if (!match) continue;
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
      await handler(ctx, req, res, target, params(match));
      return true;
    }
    throw new VidgetError(ErrorCode.NotFound, `no route ${String(req.method).slice(0, 16)} ${target.pathname.slice(0, 200)}`);
  } catch (error) {
    if (res.headersSent) res.destroy();
    else sendHttpError(res, error);
    return true;
  }
}
