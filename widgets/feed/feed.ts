import { css, html, nothing } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import type { NarrowMode } from '../../src/host/widget-config.js';
import type { Video, VideoFields } from '../../src/protocol/platform.js';
import type { SocketState } from '../../src/socket/socket-events.js';
import { cardStyles } from '../shared/card-styles.js';
import { connectionNote } from '../shared/connection-note.js';

const time = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** What a video's badge says: its state, or its length once it is ready. */
function badge(v: Video) {
  if (v.status === 'processing') return html`<span class="badge processing">Processing…</span>`;
  if (v.status === 'live') return html`<span class="badge live">● Live now</span>`;
  if (v.status === 'ended') return html`<span class="badge">Ended</span>`;
  if (v.status === 'failed') return html`<span class="badge">Unavailable</span>`;
  return v.duration ? html`<span class="badge">${time(v.duration)}</span>` : nothing;
}

/**
 * `<vidget-feed>`: "up next", the project's videos, newest first, kept live from the player's
 * project connection (`videoCreated`, `videoUpdated`, `videoDeleted`): a video being processed
 * shows as such, and cannot be played, until its update arrives; a live stream shows "Live now".
 * A click plays the video in this player (its widgets follow its `config`). Props: `heading`
 * (default "Up next"), `limit` (default 20).
 */
export class VidgetFeed extends VidgetWidget {
  /** A list to read and click: below the video on a narrow player. */
  static narrow: NarrowMode = 'below';
  static override properties = { ...VidgetWidget.properties, list: { state: true }, state: { state: true }, problem: { state: true } };
  static override styles = [
    cardStyles,
    css`
    h2 { font-size: 1em; margin: 0 0 0.5em; display: flex; justify-content: space-between; }
    ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.4em; max-height: 22em; overflow: auto; }
    button { width: 100%; display: grid; grid-template-columns: 4.5em 1fr; gap: 0.6em; align-items: center; padding: 0.3em; border-color: rgb(255 255 255 / 0.25); }
    button[aria-current='true'] { border-color: #7cf; background: rgb(120 200 255 / 0.18); }
    button:disabled { cursor: default; opacity: 0.75; }
    .thumb { width: 4.5em; aspect-ratio: 16 / 9; border-radius: 4px; background: linear-gradient(135deg, #345, #123); object-fit: cover; display: grid; place-items: center; color: rgb(255 255 255 / 0.75); font-size: 0.9em; }
    .title { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .badge { display: inline-block; font-size: 0.78em; margin-top: 0.15em; color: #ccd; }
    .badge.live { color: #ff9a9a; font-weight: 700; }
    .badge.processing { color: #fd8; }
    .empty { margin: 0; opacity: 0.8; }
  `,
  ];
  declare list: Video[];
  declare state: SocketState;
  declare problem: string;
  /** The notifications that came during each read of the list in flight. */
  private readonly loads = new Set<Array<(list: Video[]) => Video[]>>();

  constructor() {
    super();
    this.list = [];
    this.problem = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.state = this.api.connectionState;
    this.api.on('videoCreated', ({ video }: { video: Video }) =>
      this.apply((list) => (list.some((v) => v.id === video.id && v.updated > video.updated) ? list : [video, ...list.filter((v) => v.id !== video.id)].sort((a, b) => b.created - a.created))),
    );
    this.api.on('videoUpdated', ({ videoId, changes }: { videoId: string; changes: Partial<VideoFields> & { updated: number } }) =>
      this.apply((list) => list.map((v) => (v.id === videoId && changes.updated >= v.updated ? { ...v, ...changes } : v))),
    );
    this.api.on('videoDeleted', ({ videoId }: { videoId: string }) => this.apply((list) => list.filter((v) => v.id !== videoId)));
    this.api.on('videoChange', () => this.requestUpdate());
    this.api.on('connectionStateChange', ({ state, previous }: { state: SocketState; previous: SocketState }) => {
      this.state = state;
      // Connected (the first time: what changed between the first read and the join came on no
      // socket), or back after a drop (more may be missed than a catch-up replays): read again.
      if (state === 'running' && previous !== 'running') void this.load();
    });
    void this.load();
  }

  private async load(): Promise<void> {
    const during: Array<(list: Video[]) => Video[]> = [];
    this.loads.add(during);
    try {
      const videos = await this.api.videos();
      if (this.api.signal.aborted) return;
      // Notifications that came while it loaded may be newer than the answer: applied again on it
      // (each only where its `updated` is newer, so an older one changes nothing).
      this.list = during.reduce(
        (list, change) => change(list),
        videos.slice().sort((a, b) => b.created - a.created),
      );
      this.problem = '';
    } catch (error) {
      this.problem = (error as Error).message;
    } finally {
      this.loads.delete(during);
    }
  }

  /** A notification: applied to the list, and kept for the reads in flight (their answers may predate it). */
  private apply(change: (list: Video[]) => Video[]): void {
    this.list = change(this.list);
    for (const during of this.loads) during.push(change);
  }

  override render() {
    const limit = typeof this.props.limit === 'number' ? this.props.limit : 20;
    const current = this.api.getVideoId();
    const note = connectionNote(this.state);
    return html`<nav class="card" aria-labelledby="h">
      <h2 id="h">${String(this.props.heading ?? 'Up next')}<span class="conn">${note}</span></h2>
      ${this.list.length === 0 ? html`<p class="empty">${this.problem ? 'Videos could not be loaded.' : 'No videos yet.'}</p>` : nothing}
      <ol>
        ${this.list.slice(0, limit).map(
          (v) => html`<li><button data-video=${v.id} aria-current=${v.id === current ? 'true' : 'false'} ?disabled=${v.status === 'processing' || v.status === 'failed'} @click=${() => this.play(v)}>
            ${v.poster ? html`<img class="thumb" src=${v.poster} alt="" />` : html`<span class="thumb" aria-hidden="true">▶</span>`}
            <span><span class="title">${v.title}</span><br />${badge(v)}</span>
          </button></li>`,
        )}
      </ol>
    </nav>`;
  }

  private play(video: Video): void {
    this.api.loadVideo(video);
    void this.api.play().catch(() => {});
  }
}

widgets.define('feed', VidgetFeed);
