import type { IncomingMessage } from 'node:http';
import { ErrorCode, VidgetError } from '../../protocol/index.js';

/**
 * A request's body as UTF-8 text, at most `max` bytes: refused with `too_large` on its declared
 * length before anything is read, or as soon as what arrives passes it.
 */
export async function readBody(req: IncomingMessage, max: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > max) throw new VidgetError(ErrorCode.TooLarge, `body over ${max} bytes`);
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new VidgetError(ErrorCode.TooLarge, `body over ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
