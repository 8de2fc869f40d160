import { createHmac } from 'node:crypto';
import { ErrorCode, VidgetError, isValidName } from '../../protocol/index.js';
import { Permissions, type RoomPermissions } from './permissions.js';

/** What {@link createToken} puts in a token. */
export interface TokenRequest {
  /** The project id (the token's `aud`). */
  project: string;
  /** The user id (`sub`). */
  sub: string;
  /** The display name records carry (`name`); `sub` when absent. */
  name?: string;
  /** Room pattern → actions; absent: the project's default permissions. */
  rooms?: RoomPermissions;
  /** Lifetime in seconds, 1 to 31,536,000. Default one day. */
  ttlSeconds?: number;
}

const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64url');

/**
 * Mints an HS256 client token (a standard JWT) with a project's secret, as a customer's own
 * backend would with any JWT library. Returns the token and its `exp` (seconds since the epoch).
 */
export function createToken(secret: string, request: TokenRequest): { token: string; exp: number } {
  if (!isValidName(request.project)) throw new VidgetError(ErrorCode.BadFrame, 'project must be 1-64 of A-Z a-z 0-9 _ -');
  if (typeof request.sub !== 'string' || request.sub.length === 0 || request.sub.length > 128) throw new VidgetError(ErrorCode.BadFrame, 'sub must be 1-128 characters');
  if (request.name !== undefined && (typeof request.name !== 'string' || request.name.length === 0 || request.name.length > 128))
    throw new VidgetError(ErrorCode.BadFrame, 'name must be 1-128 characters');
  if (request.rooms !== undefined) {
    try {
      Permissions.parse(request.rooms, 'rooms');
    } catch (error) {
      throw new VidgetError(ErrorCode.BadFrame, (error as Error).message);
    }
  }
  const ttl = request.ttlSeconds ?? 86_400;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 365 * 86_400) throw new VidgetError(ErrorCode.BadFrame, 'ttlSeconds must be 1 to 31536000');
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttl;
  const claims = { aud: request.project, sub: request.sub, ...(request.name ? { name: request.name } : {}), ...(request.rooms ? { rooms: request.rooms } : {}), iat: now, exp };
  const body = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}`;
  return { token: `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`, exp };
}
