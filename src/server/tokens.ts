import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, VidgetError, isValidName } from '../protocol/index.js';

/** What a token grants: a username within one project, until `exp` (seconds since epoch). */
export interface TokenClaims {
  project: string;
  username: string;
  exp: number;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const b64 = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
const sign = (secret: string, payload: string): Buffer => createHmac('sha256', secret).update(payload).digest();

/**
 * Issues a token for `username` in `project`, valid for `ttlSeconds` (default one day).
 * Format: `v1.<base64url JSON claims>.<base64url HMAC-SHA256>`; only the server's secret can make one.
 */
export function createToken(secret: string, claims: { project: string; username: string; ttlSeconds?: number }): string {
  if (!isValidName(claims.project)) throw new VidgetError(ErrorCode.BadFrame, 'project must be 1-64 of A-Z a-z 0-9 _ -');
  if (typeof claims.username !== 'string' || claims.username.length === 0 || claims.username.length > 128) {
    throw new VidgetError(ErrorCode.BadFrame, 'username must be 1-128 characters');
  }
  const ttl = claims.ttlSeconds ?? 86_400;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 365 * 86_400) throw new VidgetError(ErrorCode.BadFrame, 'ttlSeconds must be 1 to 31536000');
  const body: TokenClaims = { project: claims.project, username: claims.username, exp: Math.floor(Date.now() / 1000) + ttl };
  const payload = `v1.${b64(JSON.stringify(body))}`;
  return `${payload}.${b64(sign(secret, payload))}`;
}

/**
 * Checks a token's signature, expiry and project. Throws `unauthorized` for a bad or expired
 * token and `forbidden` for a valid token of another project.
 */
export function verifyToken(secret: string, token: string, project: string): TokenClaims {
  const parts = token.split('.');
  // Strict base64url: Node's decoder skips '=', '!', spaces and standard base64's '+/', so
  // altered tokens would otherwise verify.
  if (parts.length !== 3 || parts[0] !== 'v1' || !BASE64URL.test(parts[1]!) || !BASE64URL.test(parts[2]!)) {
    throw new VidgetError(ErrorCode.Unauthorized, 'token is malformed');
  }
  const expected = sign(secret, `${parts[0]}.${parts[1]}`);
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new VidgetError(ErrorCode.Unauthorized, 'token signature is invalid');
  }
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new VidgetError(ErrorCode.Unauthorized, 'token is malformed');
  }
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) throw new VidgetError(ErrorCode.Unauthorized, 'token has expired');
  if (claims.project !== project) throw new VidgetError(ErrorCode.Forbidden, 'token is for another project');
  return claims;
}
