import { ErrorCode, VidgetError } from '../../src/protocol/errors.js';

/** The analytics room's permission, as a token's `rooms`. */
const ANALYTICS = { _analytics: ['analytics'] };

/**
 * A token that may read the project's analytics: given as it is (`token`), minted by the server
 * with the project's API key (`key`, the server's `POST /api/tokens`), or, without either, minted
 * in dev mode (`npm start`), as the demo's moderator sign-in does.
 */
export async function analyticsToken(project: string, given: { key?: string; token?: string }): Promise<string> {
  if (given.token) return given.token;
  const res = await fetch('/api/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(given.key ? { authorization: `Bearer ${given.key}` } : {}) },
    body: JSON.stringify({ project, sub: 'dashboard', name: 'Dashboard', rooms: ANALYTICS, ttlSeconds: 3600 }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { code?: ErrorCode; message?: string } };
  if (!res.ok || typeof body.token !== 'string') throw new VidgetError(body.error?.code ?? ErrorCode.Unavailable, body.error?.message ?? `the token endpoint answered ${res.status}`);
  return body.token;
}
