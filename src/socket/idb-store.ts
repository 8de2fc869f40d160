import { createStore, type UseStore } from 'idb-keyval';

let shared: UseStore | undefined;

/**
 * The one IndexedDB object store Vidget keeps in a browser (database `vidget`, store `kv`),
 * keyed by arrays so each kind of entry has its own key range: `['client', room]` for client ids,
 * `['outbox', room, seq]` for queued publishes.
 */
export function vidgetStore(): UseStore {
  return (shared ??= createStore('vidget', 'kv'));
}
