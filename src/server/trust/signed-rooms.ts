import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signs a room name for a project with `signedRooms` (TwentyThree's signed root channel): the
 * site's backend hands the page `room~<signature>`, and the page can join only rooms it was
 * handed. The signature is base64url(HMAC-SHA256(secret, `<project>/<room>`)).
 */
export function signRoom(secret: string, project: string, room: string): string {
  return `${room}~${signature(secret, project, room)}`;
}

function signature(secret: string, project: string, room: string): string {
  return createHmac('sha256', secret).update(`${project}/${room}`).digest('base64url');
}

/** A room name split into its root, signature (if any) and sub-rooms: `quiz~sig/all`. */
export interface RoomRef {
  /** The name without its signature, as permissions and records see it: `quiz/all`. */
  plain: string;
  root: string;
  signature: string | undefined;
}

/** Splits a valid room name (see `isValidRoom`). */
export function splitRoom(room: string): RoomRef {
  const slash = room.indexOf('/');
  const head = slash < 0 ? room : room.slice(0, slash);
  const rest = slash < 0 ? '' : room.slice(slash);
  const tilde = head.indexOf('~');
  const root = tilde < 0 ? head : head.slice(0, tilde);
  return { plain: root + rest, root, signature: tilde < 0 ? undefined : head.slice(tilde + 1) };
}

/** Whether `name`'s signature is the one `secret` makes for its root in `project` (constant time). */
export function hasValidSignature(secret: string, project: string, name: RoomRef): boolean {
  if (name.signature === undefined) return false;
  const expected = Buffer.from(signature(secret, project, name.root));
  const given = Buffer.from(name.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
