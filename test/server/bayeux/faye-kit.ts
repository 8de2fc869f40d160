// The real `faye` npm client against a Vidget server, and raw Bayeux requests for the refusals.
import faye from 'faye';
import type { VidgetServer } from '../../../src/server/index.js';
import { until } from '../../helpers/wait.js';

/** A client of faye's npm package. */
export type FayeClient = InstanceType<typeof faye.Client>;

/** A Faye client of `server` (`/bayeux` unless `path`), adding `ext.token` to every message when given. */
export function fayeClient(server: VidgetServer, options: { token?: string; websocket?: boolean; path?: string; persist?: boolean } = {}): FayeClient {
  const client = new faye.Client(`${server.url}${options.path ?? '/bayeux'}`, { timeout: 10, retry: 1 });
  open.add(client);
  if (options.websocket === false) client.disable('websocket');
  client.disable('autodisconnect');
  if (options.token !== undefined || options.persist) {
    client.addExtension({
      outgoing(message, callback) {
        message.ext = { ...message.ext, ...(options.token !== undefined ? { token: options.token } : {}), ...(options.persist ? { persist: true } : {}) };
        callback(message);
      },
    });
  }
  return client;
}

const open = new Set<FayeClient>();

/** Disconnects every client {@link fayeClient} made (a suite's `after`, before the server closes). */
export async function disconnectAll(): Promise<void> {
  // Awaited: a disconnect the server never answered is retried by the client forever.
  await Promise.all([...open].map((client) => client.disconnect()));
  open.clear();
}

/** Subscribes and collects what the channel(s) deliver; resolves once the server accepted. */
export async function collect<T = unknown>(client: FayeClient, channel: string | string[]): Promise<T[]> {
  const got: T[] = [];
  const subscription = typeof channel === 'string' ? client.subscribe(channel, (m: T) => got.push(m)) : client.subscribe(channel, (m: T) => got.push(m));
  await Promise.all([subscription].flat());
  return got;
}

/** Waits until `list` has `n` entries. */
export const hasAtLeast = (list: unknown[], n: number, what = `${n} messages`): Promise<void> => until(() => list.length >= n, what);

/** A Bayeux reply as the server sends it. */
export interface BayeuxReply {
  channel?: string;
  successful?: boolean;
  error?: string;
  clientId?: string;
  id?: string;
  subscription?: unknown;
  advice?: { reconnect?: string; interval?: number; timeout?: number };
  data?: unknown;
}

/** One raw Bayeux request over HTTP POST (JSON); resolves with the replies. */
export async function bayeux(server: VidgetServer, messages: unknown, headers: Record<string, string> = {}): Promise<BayeuxReply[]> {
  const res = await fetch(`${server.url}/bayeux`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(messages) });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  return (await res.json()) as BayeuxReply[];
}

/** A raw handshake; resolves with the client id. */
export async function handshake(server: VidgetServer, ext: Record<string, unknown> = {}): Promise<string> {
  const [reply] = await bayeux(server, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1', ext }]);
  if (!reply?.successful) throw new Error(`handshake refused: ${reply?.error}`);
  return reply.clientId!;
}
