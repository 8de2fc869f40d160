import { ErrorCode, VidgetError } from '../src/protocol/errors.js';

/**
 * A viewer token (a JWT) for the demo page, from the server's `POST /api/tokens` with
 * `{ project, sub }`. The server gives one to anyone only in dev mode (`VIDGET_DEV_TOKENS=1`,
 * which `npm start` sets); a real site mints tokens in its own backend (see the README).
 * `rooms` asks for permissions per room pattern (the demo's moderator gets `moderate`).
 */
export async function fetchDemoToken(project: string, username: string, server = '', rooms?: Record<string, string[]>): Promise<string> {
  const res = await fetch(`${server}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project, sub: username, ...(rooms ? { rooms } : {}) }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { code?: ErrorCode; message?: string } };
  if (!res.ok || typeof body.token !== 'string') {
    throw new VidgetError(body.error?.code ?? ErrorCode.Unavailable, body.error?.message ?? `the token endpoint answered ${res.status}`);
  }
  return body.token;
}
