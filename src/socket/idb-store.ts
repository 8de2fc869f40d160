import { createStore, type UseStore } from 'idb-keyval';

const stores = new Map<string, UseStore>();

/**
 * The one IndexedDB object store Vidget keeps in a browser (database `vidget`, store `kv`),
 * keyed by arrays so each kind of entry has its own key range: `['client', room]` for client ids,
 * `['outbox', room, seq]` for queued publishes.
 */
export function vidgetStore(database = 'vidget'): UseStore {
  let store = stores.get(database);
  if (!store) stores.set(database, (store = createStore(database, 'kv')));
  return store;
}
