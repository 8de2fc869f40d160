import { realpathSync, type Stats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { ErrorCode, VidgetError } from '../../protocol/index.js';
import { pathSegments } from './request-target.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
  '.vtt': 'text/vtt; charset=utf-8',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

/** Vite names chunks `name-<8 char hash>.ext`: their content never changes under that name. */
const HASHED = /-[A-Za-z0-9_-]{8}\.[a-z0-9]+$/;

/** Whether `inner` is `outer` or inside it (both absolute, resolved). */
export function isInside(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The static files of one folder (the built demo and the script-tag bundle), for GET and HEAD.
 * Only regular files inside the folder are served: no dotfiles (`.git`, `.env`), nothing a
 * symlink points at outside the folder, no traversal. Every file is readable from any origin
 * (the bundle is embedded by other sites), hashed chunks are cached for a year, the rest
 * revalidated.
 */
export class StaticFiles {
  /** The folder, with symlinks resolved. */
  readonly root: string;

  constructor(root: string) {
    this.root = realpathSync(resolve(root));
  }

  /** Serves `pathname`; false when there is no such file to serve (the caller answers 404). */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    const found = await this.find(pathname);
    if (!found) return false;
    const { path, info } = found;
    const etag = `W/"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
    const headers: Record<string, string | number> = {
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate',
      etag,
      'x-content-type-options': 'nosniff',
      // The bundle and its chunks are loaded by pages on other origins (module scripts need CORS).
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const range = parseRange(req.headers.range, info.size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${info.size}` });
      res.end();
      return true;
    }
    const { start, end } = range ?? { start: 0, end: info.size - 1 };
    // Opened before anything is answered, so a failure (out of descriptors, deleted since, not
    // readable) is a clear error status rather than a cut body.
    const file = req.method === 'HEAD' || info.size === 0 ? undefined : await openFile(path);
    if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${info.size}`, 'content-length': end - start + 1 });
    else res.writeHead(200, { ...headers, 'content-length': info.size });
    if (!file) {
      res.end();
      return true;
    }
    // pipeline listens for 'error' on both ends and closes the file: a read error mid-way cuts
    // this response and nothing else.
    pipeline(file.createReadStream({ start, end }), res, () => {});
    return true;
  }

  /** The regular file a URL path names, or undefined. */
  private async find(pathname: string): Promise<{ path: string; info: Stats } | undefined> {
    const segments = pathSegments(pathname);
    if (!segments) throw new VidgetError(ErrorCode.BadRequest, 'malformed percent-escape in the path');
    // Dotfiles and dot-folders are never served; nor are `..`, separators or NULs smuggled in.
    if (segments.some((s) => s.startsWith('.') || s.includes('/') || s.includes('\\') || s.includes('\0'))) return undefined;
    let path = join(this.root, ...segments);
    let info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      path = join(path, 'index.html');
      info = await stat(path).catch(() => undefined);
    }
    if (!info?.isFile()) return undefined;
    // A symlink may point anywhere: serve only what really lies inside the folder.
    const real = await realpath(path).catch(() => undefined);
    if (
      !real ||
      !isInside(this.root, real) ||
      relative(this.root, real)
        .split(sep)
        .some((s) => s.startsWith('.'))
    )
      return undefined;
    return { path: real, info };
  }
}

/** Opens a file to serve; maps the errors a client can meet to statuses. */
async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new VidgetError(ErrorCode.NotFound, 'not found');
    if (code === 'EMFILE' || code === 'ENFILE') throw new VidgetError(ErrorCode.Unavailable, 'the server is busy; retry');
    throw error;
  }
}

/** One byte range (`bytes=a-b`, `a-`, `-n`): browsers need it to seek in a video. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const range = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!range || (!range[1] && !range[2])) return undefined;
  const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
  const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  return start > end || start >= size ? 'unsatisfiable' : { start, end };
}
