/** Any JSON value a widget may publish. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * A persisted (or relayed) widget record, the Cinema8 data model.
 * `id` sorts in publish order within a room; `created` is server time in ms;
 * `username` comes from a verified token only, never from the client.
 */
export interface VidgetRecord<T = Json> {
  id: number;
  client_id: string;
  created: number;
  username: string | null;
  data: T;
}
