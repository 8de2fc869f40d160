import type { Json } from '../../src/protocol/index.js';

/**
 * The name a widget shows for a sender: the username the server verified from a token, else the
 * name the viewer typed (`data.name`, unverified, at most 40 characters), else "Viewer" and the
 * start of the client id.
 */
export function displayName(username: string | null, data: Json | undefined, clientId: string): string {
  const typed = data && typeof data === 'object' && !Array.isArray(data) ? data.name : undefined;
  return username ?? (typeof typed === 'string' && typed ? typed.slice(0, 40) : `Viewer ${clientId.slice(0, 4)}`);
}
