import { ErrorCode, VidgetError } from '../src/protocol/errors.js';

/**
 * A viewer token for the demo page, from the server's `POST /api/tokens` with `{ project,
 * username }`. The server gives one to anyone only in dev mode (`VIDGET_DEV_TOKENS=1`, which
 * `npm start` sets); a real site issues tokens from its own backend with the API key. This is the
 * one place the demo asks for a token, as their format is to change (to JWT).
 */
export async function fetchDemoToken(project: string, username: string, server = ''): Promise<string> {
  const res = await fetch(`${server}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project, username }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { code?: ErrorCode; message?: string } };
  if (!res.ok || typeof body.token !== 'string') {
    throw new VidgetError(body.error?.code ?? ErrorCode.Unavailable, body.error?.message ?? `the token endpoint answered ${res.status}`);
  }
  return body.token;
}
