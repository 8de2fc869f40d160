import { ErrorCode, VidgetError } from './errors.js';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Project ids, widget ids, client ids and message ids: 1-64 of `A-Z a-z 0-9 _ -`. */
export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

/**
 * A room (a widget's id, in the URL after the project): a name, optionally signed by the site's
 * backend (`name~<43-char base64url HMAC>`, TwentyThree's signed root channel), optionally
 * followed by up to three sub-room names (`quiz~sig/all`), 200 characters at most.
 */
const ROOM = /^[A-Za-z0-9_-]{1,64}(?:~[A-Za-z0-9_-]{43})?(?:\/[A-Za-z0-9_-]{1,64}){0,3}$/;

/** Whether `value` is a valid room name (see {@link ROOM}). */
export function isValidRoom(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 200 && ROOM.test(value);
}

const INTERVAL = /^(\d{1,7})(s|m|h)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;
/** The longest catch-up interval a client may ask for. */
export const MAX_CATCHUP_MS = 30 * 24 * UNIT_MS.h;

/**
 * Parses a TwentyThree-style catch-up interval (`30s`, `15m`, `6h`) into milliseconds.
 * Throws `VidgetError('bad_frame')` on anything else, or past 30 days.
 */
export function parseInterval(text: string): number {
  const match = INTERVAL.exec(text);
  if (!match) throw new VidgetError(ErrorCode.BadFrame, `catchup must be a count and s|m|h, e.g. "30m"; got "${text.slice(0, 32)}"`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms > MAX_CATCHUP_MS) throw new VidgetError(ErrorCode.BadFrame, 'catchup is limited to 720h');
  return ms;
}
