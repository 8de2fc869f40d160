/**
 * What a socket needs once it starts, loaded with the first socket so the core bundle does not
 * carry it: partysocket, the IndexedDB outbox, the client's key and id, and the search-query validator.
 */
export { PartySocket } from 'partysocket';
export { OfflineQueue } from './offline-queue.js';
export { clientKey, rememberClientId } from './client-id.js';
export { validateQuery } from '../protocol/query.js';
