import { css, html, nothing } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import type { Json, VidgetRecord } from '../../src/protocol/index.js';
import type { WidgetSocket } from '../../src/socket/index.js';
import { cardStyles } from '../shared/card-styles.js';
import { connectionNote } from '../shared/connection-note.js';
import { defineNameLine } from '../shared/name-line.js';
import { senderName } from '../shared/sender-name.js';
import { viewerNames } from '../shared/viewer-names.js';

/** A message on screen: stored (`id`), or own and not yet acked (`pending`). */
interface Line {
  key: string;
  id?: number;
  username: string | null;
  data: Json;
  clientId: string;
  text: string;
  created: number;
  promoted: boolean;
  pending?: 'sending' | 'waiting' | 'failed';
}

const text = (record: VidgetRecord): string => String((record.data as { text?: Json } | null)?.text ?? '');

/**
 * `<vidget-chat>`: comments on the video. Persistent messages with the sender's name and time;
 * the last `history` messages (default 50) on open, then live. A message is `promoted` (pinned on
 * top, TwentyThree's "promoted" channel) when it says so and its sender's verified username (from
 * a token) is one of `moderators`. Messages are text, never HTML, at most `maxLength`
 * characters (default 280). Own messages show as sending or waiting (offline) until stored.
 * A viewer without a token sets a display name once per project (kept in the browser), unless
 * `anonymousNames` is false; a verified name is marked ✓. A moderator (verified, in
 * `moderators`) can pin a message and hide any message for everyone (with a token that has the
 * `moderate` permission); a message taken down disappears from every open chat. The draft survives the widget leaving its time range, and the
 * title says when the connection is down ("reconnecting…").
 * Props: `title`, `history`, `maxLength`, `moderators` (string[]), `anonymousNames` (default
 * true), `name` (a default display name for viewers without a token or a name of their own).
 */
export class VidgetChat extends VidgetWidget {
  static override properties = { ...VidgetWidget.properties, lines: { state: true }, pinned: { state: true }, draft: { state: true }, failure: { state: true }, pin: { state: true } };
  static override styles = [
    cardStyles,
    css`
    .card { display: flex; flex-direction: column; gap: 0.4em; min-width: 14em; max-height: 100%; }
    h2 { font-size: 1em; margin: 0; }
    label.pin { font-size: 0.85em; display: flex; gap: 0.3em; align-items: center; }
    ol { list-style: none; margin: 0; padding: 0; overflow-y: auto; max-height: 12em; display: grid; gap: 0.25em; overflow-wrap: anywhere; }
    .pinned { border-left: 3px solid #fc6; padding-left: 0.4em; background: rgb(255 204 102 / 0.12); }
    .name { font-weight: 600; }
    time { opacity: 0.75; font-size: 0.8em; margin-left: 0.3em; }
    .pending { opacity: 0.7; font-style: italic; }
    form { display: flex; gap: 0.3em; }
    form input { flex: 1; }
    input[aria-invalid='true'] { border-color: #f88; }
    .hint { font-size: 0.8em; margin: 0; min-height: 1.1em; }
    .hint.over { color: #fbb; }
    button.hide { font-size: 0.75em; padding: 0 0.4em; margin-left: 0.3em; }
    @container (max-width: 480px) { .card { min-width: 0; } ol { max-height: 8em; } }
  `,
  ];

  declare lines: Line[];
  declare pinned: Line | undefined;
  declare draft: string;
  declare failure: string;
  /** A moderator's next message is pinned. */
  declare pin: boolean;
  private socket: WidgetSocket | undefined;
  private readonly byKey = new Map<string, Line>();
  private pendingSeq = 0;

  constructor() {
    super();
    this.lines = [];
    this.draft = '';
    this.failure = '';
    this.pin = false;
  }

  private get maxLength(): number {
    const n = this.props.maxLength;
    return typeof n === 'number' && n > 0 ? Math.min(n, 4000) : 280;
  }

  private get history(): number {
    const n = this.props.history;
    return typeof n === 'number' && n >= 0 ? Math.min(n, 1000) : 50;
  }

  private isModerator(username: string | null): boolean {
    const moderators = Array.isArray(this.props.moderators) ? this.props.moderators.map(String) : [];
    return username !== null && moderators.includes(username);
  }

  private isPromoted(record: VidgetRecord): boolean {
    return (record.data as { promoted?: Json } | null)?.promoted === true && this.isModerator(record.username);
  }

  private get anonymousNames(): boolean {
    return this.props.anonymousNames !== false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // A draft outlives the widget's time range (a loop, a seek), not the page.
    this.draft = String(this.api.getState('draft') ?? '');
    const socket = (this.socket = this.api.webSocket({ persistent: true }));
    // Every (re)open: the last N stored messages. Records already shown are kept, by id.
    socket.onOpen = () => void this.catchUp();
    socket.onMessage = (message) => this.add(message.data);
    // Taken down by a moderator or the site's backend: gone from every open chat.
    socket.onDelete = (event) => {
      for (const id of event.ids) this.byKey.delete(`r${id}`);
      this.commit();
    };
    // A dropped connection is shown from the lifecycle (the title), not as a failure.
    socket.onError = (error) => error.code !== 'unavailable' && (this.failure = error.message);
    socket.addEventListener('statechange', () => {
      const offline = socket.state !== 'running';
      for (const line of this.byKey.values()) if (line.pending === 'sending' && offline) line.pending = 'waiting';
      this.commit();
    });
  }

  private async catchUp(): Promise<void> {
    if (this.history === 0) return;
    try {
      const { records } = await this.socket!.search({ query: { sortField: 'id', sortOrder: 'desc', limit: this.history } });
      for (const record of records) this.add(record, false);
      this.commit();
      this.failure = '';
    } catch (error) {
      this.failure = (error as Error).message;
    }
  }

  private add(record: VidgetRecord, commit = true): void {
    const key = `r${record.id}`;
    if (this.byKey.has(key)) return;
    // Where typed names are off, a name in the data is not shown (anyone can put one there).
    this.byKey.set(key, {
      key,
      id: record.id,
      username: record.username,
      data: this.anonymousNames ? record.data : null,
      clientId: record.client_id,
      text: text(record).slice(0, this.maxLength),
      created: record.created,
      promoted: this.isPromoted(record),
    });
    if (commit) this.commit();
  }

  /** Rebuilds the sorted list (stored by id, then own pending ones) keeping the last `history`. */
  private commit(): void {
    const all = [...this.byKey.values()];
    const stored = all.filter((l) => l.id !== undefined).sort((a, b) => a.id! - b.id!);
    const keep = Math.max(this.history, 1);
    for (const old of stored.slice(0, -keep)) if (!old.promoted) this.byKey.delete(old.key);
    this.pinned = stored.filter((l) => l.promoted).at(-1);
    this.lines = [...stored.slice(-keep).filter((l) => !l.promoted), ...all.filter((l) => l.id === undefined)];
    this.updateComplete.then(() => {
      const list = this.renderRoot.querySelector('ol.messages');
      if (list) list.scrollTop = list.scrollHeight;
    });
  }

  private send(event: Event): void {
    event.preventDefault();
    const body = this.draft.trim();
    if (!body || body.length > this.maxLength) return;
    const socket = this.socket!;
    const data: Record<string, Json> = { text: body };
    // Without a token: the viewer's name in the project (typed, else the page's default, else
    // this browser's "Viewer 1a2b"), where the chat allows typed names.
    if (!socket.username && this.anonymousNames) data.name = viewerNames.current(this.api.project, this.props.name);
    if (this.pin && this.isModerator(socket.username)) data.promoted = true;
    const key = `p${++this.pendingSeq}`;
    const line: Line = {
      key,
      username: socket.username,
      data,
      clientId: socket.clientId ?? '',
      text: body,
      created: Date.now(),
      promoted: false,
      pending: socket.state === 'running' ? 'sending' : 'waiting',
    };
    this.byKey.set(key, line);
    this.setDraft('');
    this.pin = false;
    this.commit();
    socket.publish(data).then(
      (record) => {
        // The broadcast copy may have arrived first: either way, one line, and the pending one goes.
        this.byKey.delete(key);
        this.add(record, false);
        this.commit();
      },
      (error: Error) => {
        line.pending = 'failed';
        this.failure = error.message;
        this.commit();
      },
    );
  }

  private setDraft(value: string): void {
    this.draft = value;
    this.api.setState('draft', value);
  }

  /** A moderator takes a message down for everyone (the server checks the `moderate` permission). */
  private hide(line: Line): void {
    this.socket!.remove(line.id!).catch((error: Error) => (this.failure = error.message));
  }

  private renderLine(line: Line, moderator: boolean) {
    const state = line.pending === 'sending' ? ' (sending…)' : line.pending === 'waiting' ? ' (waiting for the connection)' : line.pending === 'failed' ? ' (not sent)' : '';
    return html`<li class=${line.pending ? 'pending' : nothing}><span class="name">${senderName(line.username, line.data, line.clientId)}</span><time datetime=${new Date(line.created).toISOString()}>${new Date(line.created).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>
      <span class="text">${line.text}</span>${state}${moderator && line.id !== undefined ? html` <button class="hide" aria-label="Hide this message for everyone" @click=${() => this.hide(line)}>Hide</button>` : nothing}</li>`;
  }

  override render() {
    const title = String(this.props.title ?? 'Comments');
    const over = this.draft.length > this.maxLength;
    const hint = over
      ? `Too long: ${this.draft.length} of at most ${this.maxLength} characters`
      : this.failure
        ? `Chat problem: ${this.failure}`
        : this.draft
          ? `${this.draft.length}/${this.maxLength}`
          : '';
    const socket = this.socket!;
    const pinned = this.pinned;
    const moderator = this.isModerator(socket.username);
    return html`<section class="card" aria-labelledby="t">
      <h2 id="t">${title}<span class="conn">${connectionNote(socket.state)}</span></h2>
      ${pinned ? html`<p class="pinned"><span class="name">📌 ${senderName(pinned.username, pinned.data, pinned.clientId)}</span> <span class="text">${pinned.text}</span></p>` : nothing}
      <ol class="messages" aria-live="polite" aria-label="Messages" tabindex="0">${this.lines.map((l) => this.renderLine(l, moderator))}</ol>
      <form @submit=${this.send}>
        <input aria-label="Your message" placeholder="Say something" autocomplete="off" .value=${this.draft} aria-invalid=${over ? 'true' : 'false'} aria-describedby="hint"
          @input=${(e: Event) => this.setDraft((e.target as HTMLInputElement).value)} />
        <button ?disabled=${over || !this.draft.trim()} aria-label="Send">Send</button>
      </form>
      ${this.isModerator(socket.username) ? html`<label class="pin"><input type="checkbox" .checked=${this.pin} @change=${(e: Event) => (this.pin = (e.target as HTMLInputElement).checked)} /> Pin my next message</label>` : nothing}
      <vidget-name-line .project=${this.api.project} .username=${socket.username} .clientId=${socket.clientId ?? ''} .allowTyped=${this.anonymousNames} .fallback=${this.props.name}></vidget-name-line>
      <p id="hint" class="hint ${over ? 'over' : ''}" role="status">${hint}</p>
    </section>`;
  }
}

defineNameLine();
widgets.define('chat', VidgetChat);
