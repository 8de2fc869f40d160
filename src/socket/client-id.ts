import { get, set } from 'idb-keyval';
import { vidgetStore } from './idb-store.js';
import { randomId } from './random-id.js';

/**
 * The secret of a widget instance in this browser: made once per (project, widgetId) and kept
 * in IndexedDB. The socket connects with it, and the server derives the public `client_id`
 * from it, so nobody else can publish as this client; a reload is the same client (and the
 * server's dedupe on `(client_id, cid)` holds across reloads). Falls back to a fresh secret per
 * page where IndexedDB is unavailable. The public id is cached beside it once the server said
 * it, so a widget knows its own records before the first connect of a later page.
 */
export async function clientKey(room: string, database?: string): Promise<{ key: string; id: string | undefined }> {
  try {
    const [known, id] = await Promise.all([get<string>(['client', room], vidgetStore(database)), get<string>(['client-id', room], vidgetStore(database))]);
    if (known) return { key: known, id };
    const made = randomId();
    await set(['client', room], made, vidgetStore(database));
    return { key: made, id: undefined };
  } catch {
    return { key: randomId(), id: undefined };
  }
}

/** Caches the public client id the server derived for this browser's secret. */
export async function rememberClientId(room: string, id: string, database?: string): Promise<void> {
  await set(['client-id', room], id, vidgetStore(database)).catch(() => {});
}
