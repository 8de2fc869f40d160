import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, VidgetError } from '../../protocol/index.js';
import { sendHttpError } from '../http/http-api.js';
import type { RequestTarget } from '../http/request-target.js';
import { readBody } from '../http/read-body.js';
import { runAfter, type BayeuxContext, type BayeuxServer } from './bayeux-server.js';

/** Messages one request may carry. */
const MAX_MESSAGES = 100;
/** A JSON-P callback name, as Faye's server checks it. */
const JSONP = /^[a-z_$][\w$]*(\.[a-z_$][\w$]*)*$/i;

/** CORS answers for pages of other origins (Faye's cross-origin-long-polling sends credentials). */
function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return origin ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' } : {};
}

/** The messages of a request: a POST body (JSON, or a form with `message`), or a GET's `message` parameter. */
async function readMessages(req: IncomingMessage, target: RequestTarget, maxBytes: number): Promise<unknown[]> {
  let text: string | null;
  if (req.method === 'GET') text = target.query.get('message');
  else {
    const body = await readBody(req, maxBytes);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    text = type === 'application/json' ? body : new URLSearchParams(body).get('message');
  }
  if (text === null) throw new VidgetError(ErrorCode.BadRequest, 'no Bayeux message (a JSON body, or a message parameter)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VidgetError(ErrorCode.BadRequest, 'the Bayeux message is not JSON');
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  if (messages.length === 0 || messages.length > MAX_MESSAGES) throw new VidgetError(ErrorCode.BadRequest, `a request carries 1 to ${MAX_MESSAGES} messages`);
  return messages;
}

/**
 * Bayeux over HTTP: long-polling (POST, JSON or form-encoded, CORS for other origins) and
 * callback-polling (GET with `message` and `jsonp`). Errors in the request itself are answered
 * as the REST API answers them; refusals of a message are Bayeux replies.
 */
export async function handleBayeuxHttp(
  server: BayeuxServer,
  req: IncomingMessage,
  res: ServerResponse,
  target: RequestTarget,
  ip: string,
  maxBytes: number,
  log: (message: string, error?: unknown) => void,
): Promise<void> {
  const cors = corsHeaders(req);
  if (req.method === 'OPTIONS') {
    res.writeHead(200, {
      ...cors,
      'access-control-allow-headers': 'Accept, Authorization, Content-Type, Pragma, X-Requested-With',
      'access-control-allow-methods': 'POST, GET',
      'access-control-max-age': '86400',
      'content-length': '0',
    });
    res.end();
    return;
  }
  if (req.method !== 'POST' && req.method !== 'GET') return sendHttpError(res, new VidgetError(ErrorCode.MethodNotAllowed, 'Bayeux answers POST and GET'), { allow: 'POST, GET, OPTIONS', ...cors });
  const jsonp = req.method === 'GET' ? (target.query.get('jsonp') ?? 'jsonpcallback') : undefined;
  if (jsonp !== undefined && !JSONP.test(jsonp)) return sendHttpError(res, new VidgetError(ErrorCode.BadRequest, 'jsonp must be a JavaScript name'), cors);
  let messages: unknown[];
  try {
    messages = await readMessages(req, target, maxBytes);
  } catch (error) {
    return sendHttpError(res, error, cors);
  }
  const aborted = new AbortController();
  res.once('close', () => aborted.abort());
  const ctx: BayeuxContext = { ip, origin: req.headers.origin, http: true, signal: aborted.signal, after: [] };
  const parts = await server.process(messages, ctx);
  if (res.destroyed || res.writableEnded) return runAfter(ctx, log);
  const json = `[${parts.join(',')}]`;
  // U+2028/2029 end a line in JavaScript (not in JSON): escaped for the JSON-P body.
  const body = jsonp === undefined ? json : `/**/${jsonp}(${json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')});`;
  res.writeHead(200, {
    ...cors,
    'content-type': jsonp === undefined ? 'application/json; charset=utf-8' : 'text/javascript; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache, no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
  runAfter(ctx, log);
}
