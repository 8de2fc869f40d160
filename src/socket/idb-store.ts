import { createStore, type UseStore } from 'idb-keyval';

const stores = new Map<string, UseStore>();

/**
 * The one IndexedDB object store Vidget keeps in a browser (database `vidget`, store `kv`),
 * keyed by arrays so each kind of entry has its own key range: `['client', room]` for client ids,
 * `['outbox', room, seq]` for queued publishes.
 */
export function vidgetStore(database = 'vidget'): UseStore {
  let store = stores.get(database);
  if (!store) {
    stores.set(database, (store = createStore(database, 'kv')));
    // Opened now (idb-keyval opens on first use): whoever opens a database first creates it, and
    // this one must be created with its object store.
    try {
      void store('readonly', () => undefined).catch(() => {});
    } catch {
      // no IndexedDB here: every use fails the same way, and its callers fall back
    }
  }
  return store;
}
