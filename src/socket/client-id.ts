import { get, set } from 'idb-keyval';
import { vidgetStore } from './idb-store.js';
import { randomId } from './random-id.js';

/**
 * The stable `client_id` of a widget instance in this browser: made once per
 * (project, widgetId) and kept in IndexedDB, so a reload publishes as the same client (and the
 * server's dedupe on `(client_id, cid)` holds across reloads). Falls back to a fresh id per page
 * where IndexedDB is unavailable.
 */
export async function clientId(room: string, database?: string): Promise<string> {
  const key = ['client', room];
  try {
    const known = await get<string>(key, vidgetStore(database));
    if (known) return known;
    const made = randomId();
    await set(key, made, vidgetStore(database));
    return made;
  } catch {
    return randomId();
  }
}
