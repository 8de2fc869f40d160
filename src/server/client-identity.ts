import { createHash } from 'node:crypto';

/**
 * The public `client_id` of a connection. A browser keeps a random secret per widget and sends
 * it as `_pk`; the id everyone sees in records is a hash of it, so nobody can connect as
 * another client (the id does not reveal the secret). A verified user's id is also bound to
 * their username, so an anonymous connection, even from the same browser, can never replace a
 * signed-in user's latest record.
 */
export function clientIdOf(secret: string, username: string | null): string {
  return createHash('sha256')
    .update(`vidget/client\0${secret}\0${username ?? ''}`)
    .digest('base64url')
    .slice(0, 22);
}
