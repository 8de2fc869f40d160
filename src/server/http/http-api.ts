import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, VidgetError, isValidName, validateQuery } from '../../protocol/index.js';
import type { Store } from '../store/store.js';
import { createToken, verifyToken } from '../tokens.js';

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
  bad_frame: 400,
  bad_query: 400,
  too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  rate_limited: 429,
  unavailable: 503,
};
const MAX_BODY = 16 * 1024;
const RECORDS = /^\/api\/projects\/([^/]+)\/widgets\/([^/]+)\/records$/;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Answers an error as `{ error: { code, message } }` with a matching HTTP status. */
export function sendHttpError(res: ServerResponse, error: unknown): void {
  const e = error instanceof VidgetError ? error : new VidgetError(ErrorCode.Internal, 'internal error');
  json(res, STATUS[e.code] ?? 500, { error: { code: e.code, message: e.message } });
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
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

/**
 * The REST API: `GET /api/health`, `GET /api/projects/:p/widgets/:w/records?query=`,
 * `POST /api/tokens`. Returns false for paths outside `/api/`.
 */
export async function handleApi(ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (!url.pathname.startsWith('/api/')) return false;
  // Widgets run on the page owner's origin, never on ours. Credentials are tokens, not cookies,
  // so any origin may call the API.
  res.setHeader('access-control-allow-origin', '*');
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '86400' });
    res.end();
    return true;
  }
  try {
    if (url.pathname === '/api/health' && req.method === 'GET') {
      json(res, 200, { status: 'ok', uptime: Math.round(process.uptime()), ...ctx.stats() });
      return true;
    }
    if (url.pathname === '/api/tokens' && req.method === 'POST') {
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
      return true;
    }
    const match = RECORDS.exec(url.pathname);
    if (match && req.method === 'GET') {
      const [project, widgetId] = [decodeURIComponent(match[1]!), decodeURIComponent(match[2]!)];
      if (!isValidName(project) || !isValidName(widgetId)) throw new VidgetError(ErrorCode.BadFrame, 'bad project or widget id');
      if (!ctx.isProjectAllowed(project)) throw new VidgetError(ErrorCode.Forbidden, 'unknown project');
      const token = bearer(req) ?? url.searchParams.get('token') ?? undefined;
      if (token) verifyToken(ctx.secret, token, project);
      else if (ctx.requireToken) throw new VidgetError(ErrorCode.Unauthorized, 'a token is required');
      let raw: unknown = {};
      const text = url.searchParams.get('query');
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
      return true;
    }
    throw new VidgetError(ErrorCode.NotFound, `no route ${req.method} ${url.pathname}`);
  } catch (error) {
    sendHttpError(res, error);
    return true;
  }
}
