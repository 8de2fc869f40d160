import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, VidgetError } from '../../protocol/index.js';
import type { Limiter } from '../limits/limiter.js';
import { limitKey, type ClientAddress } from './client-address.js';
import { handleApi, sendHttpError, type HttpApiContext } from './http-api.js';
import { parseTarget } from './request-target.js';
import type { StaticFiles } from './static-files.js';

/** What the HTTP side needs. */
export interface RequestHandlerOptions {
  api: HttpApiContext;
  statics: StaticFiles | undefined;
  limiter: Limiter;
  addresses: ClientAddress;
  log: (message: string, error?: unknown) => void;
}

/**
 * The HTTP server's request handler: REST under `/api/`, then static files, else 404. Each
 * request is contained: whatever one request throws (synchronously or not) is answered
 * 400/500 for that request alone and never reaches the process.
 */
export function createRequestHandler(options: RequestHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const fail = (res: ServerResponse, error: unknown): void => {
    if (!(error instanceof VidgetError)) options.log('http', error);
    if (!res.headersSent) sendHttpError(res, error);
    else res.destroy();
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseTarget(req.url);
    if (!target) throw new VidgetError(ErrorCode.BadRequest, 'the request target must be a path starting with one /');
    if (target.pathname.startsWith('/api/') && req.method !== 'OPTIONS' && !options.limiter.request(limitKey(options.addresses.of(req)))) {
      res.setHeader('retry-after', '1');
      throw new VidgetError(ErrorCode.RateLimited, 'too many requests from this address; retry later');
    }
    if (await handleApi(options.api, req, res, target)) return;
    if (options.statics) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendHttpError(res, new VidgetError(ErrorCode.MethodNotAllowed, 'static files answer GET and HEAD'), { allow: 'GET, HEAD' });
      }
      if (await options.statics.serve(req, res, target.pathname)) return;
    }
    const hint = options.statics ? '' : ' (this server serves no static files: set STATIC_DIR, or run `npm run build` for dist/)';
    throw new VidgetError(ErrorCode.NotFound, `not found${hint}`);
  };
  return (req, res) => {
    try {
      handle(req, res).catch((error: unknown) => fail(res, error));
    } catch (error) {
      fail(res, error);
    }
  };
}
