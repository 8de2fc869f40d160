import { ErrorCode, VidgetError } from '../protocol/errors.js';
import type { Video, VideoNotification } from '../protocol/platform.js';
import type { SocketState } from '../socket/socket-events.js';
import { AnalyticsReporter } from './analytics-reporter.js';
import { acquireProjectConnection, releaseProjectConnection, type ConnectionStateDetail } from './project-connection.js';

/** What a player gives its link to the project connection. */
export interface PlayerLinkTarget {
  readonly video: HTMLVideoElement;
  readonly connection: { server: string; project: string; token?: string };
  /** The `<video>`'s id, and the project video loaded with `loadVideo`, if any. */
  readonly videoId: string;
  readonly currentVideo: Video | undefined;
  emit(name: string, ...args: unknown[]): void;
}

/**
 * Joins a player to its page's project connection: the connection's state and the project's
 * video notifications become the player's `connectionStateChange`, `videoCreated`,
 * `videoUpdated` and `videoDeleted` events, and its playback is reported as analytics. Returns
 * the function that undoes it all (the last player of the page closes the connection).
 */
export function linkPlayer(player: PlayerLinkTarget, widgetRoot: EventTarget | undefined, onState: (state: SocketState, previous: SocketState) => void): () => void {
  const connection = acquireProjectConnection(player.connection);
  const off = new AbortController();
  const { signal } = off;
  connection.addEventListener(
    'statechange',
    (e) => {
      const { state, previous } = (e as CustomEvent<ConnectionStateDetail>).detail;
      onState(state, previous);
    },
    { signal },
  );
  connection.addEventListener('video', (e) => emitNotification(player, (e as CustomEvent<VideoNotification>).detail), { signal });
  if (connection.state !== 'stopped') onState(connection.state, 'stopped');
  const slot = connection.takeSlot(player);
  const reporter = slot === undefined ? undefined : new AnalyticsReporter(player.video, connection, slot, () => analyticsVideoId(player), widgetRoot);
  return () => {
    off.abort();
    reporter?.stop();
    if (slot !== undefined) connection.freeSlot(slot);
    releaseProjectConnection(connection);
    onState('stopped', connection.state === 'stopped' ? 'running' : connection.state);
  };
}

/** The id a player's video is counted under in analytics: the project video's, else the `<video>`'s id, else `default`. */
function analyticsVideoId(player: PlayerLinkTarget): string {
  const id = player.currentVideo?.id ?? player.videoId;
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : 'default';
}

/** The seed's payloads: `{ video }`, `{ videoId, changes }`, `{ videoId }`. */
function emitNotification(player: PlayerLinkTarget, n: VideoNotification): void {
  if (n.event === 'videoCreated') player.emit('videoCreated', { video: n.video });
  else if (n.event === 'videoUpdated') player.emit('videoUpdated', { videoId: n.videoId, changes: n.changes });
  else player.emit('videoDeleted', { videoId: n.videoId });
}

/** The server's HTTP base from its socket address (`ws://h:p` → `http://h:p`; a bare host takes the page's scheme). */
export function httpBase(server: string): string {
  if (/^wss:/i.test(server)) return `https:${server.slice(4)}`;
  if (/^ws:/i.test(server)) return `http:${server.slice(3)}`;
  if (/^https?:/i.test(server)) return server;
  return `${location.protocol === 'https:' ? 'https' : 'http'}://${server}`;
}

/** The project's videos, as its players may read them; throws a `VidgetError` (`unavailable` when the server cannot be reached). */
export async function fetchVideos(connection: { server: string; project: string; token?: string }): Promise<Video[]> {
  const res = await fetch(
    `${httpBase(connection.server)}/api/projects/${encodeURIComponent(connection.project)}/videos`,
    connection.token ? { headers: { authorization: `Bearer ${connection.token}` } } : {},
  );
  const body = (await res.json()) as { videos?: Video[]; error?: { code: string; message: string } };
  if (!res.ok || !body.videos) throw new VidgetError((body.error?.code as ErrorCode | undefined) ?? ErrorCode.Unavailable, body.error?.message ?? `the videos answered ${res.status}`);
  return body.videos;
}
