import { css, html } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import type { Json } from '../../src/protocol/record.js';
import { TokenBucket } from '../../src/protocol/token-bucket.js';
import type { WidgetSocket } from '../../src/socket/index.js';
import type { NarrowMode } from '../../src/host/widget-config.js';
import { cardStyles } from '../shared/card-styles.js';
import { connectionNote } from '../shared/connection-note.js';

const DEFAULT_EMOJIS = ['👍', '❤️', '😂', '😮', '👏'];
/** Floats on screen at once; more are skipped (stale reactions are noise). */
const MAX_FLOATS = 40;
const FLOAT_MS = 2_000;

/**
 * `<vidget-reactions>`: emoji buttons; a reaction floats up over the video for everyone
 * watching. Ephemeral (never stored). Rate limited per viewer when sending, and again per sender
 * when showing, so one noisy client cannot flood everyone's screen. Only emojis of the widget's
 * own list are shown, as text. Props: `emojis` (string[]), `perSecond` (default 3).
 */
export class VidgetReactions extends VidgetWidget {
  /** A compact bar of buttons, and its emoji float over the video: kept as it is on a narrow player. */
  static narrow: NarrowMode = 'keep';
  static override properties = { ...VidgetWidget.properties, note: { state: true } };
  static override styles = [
    cardStyles,
    css`
    .card { position: relative; display: flex; gap: 0.3em; padding: 0.35em; overflow: visible; }
    button { font-size: 1.3em; padding: 0.1em 0.3em; border-color: transparent; }
    .floats { position: absolute; left: 0; right: 0; bottom: 100%; height: 8em; pointer-events: none; overflow: visible; }
    .float { position: absolute; bottom: 0; font-size: 1.6em; animation: up ${FLOAT_MS}ms ease-out forwards; }
    @keyframes up { from { transform: translateY(0); opacity: 1; } to { transform: translateY(-7em); opacity: 0; } }
    @media (prefers-reduced-motion: reduce) { .float { animation: fade ${FLOAT_MS}ms linear forwards; } @keyframes fade { to { opacity: 0; } } }
    /* In the card, not under it: a bottom widget must not reach into the video's controls. */
    .note { align-self: center; font-size: 0.8em; white-space: nowrap; }
    .note:empty { display: none; }
  `,
  ];
  declare note: string;
  /** Reactions shown so far (own and others'). */
  shown = 0;
  /** Others' reactions received so far, shown or not (rate limited, unknown emoji). */
  received = 0;
  private socket: WidgetSocket | undefined;
  private bucket: TokenBucket | undefined;
  private readonly senders = new Map<string, TokenBucket>();

  constructor() {
    super();
    this.note = '';
  }

  private get emojis(): string[] {
    const list = this.props.emojis;
    return Array.isArray(list) && list.length > 0 ? list.map(String).slice(0, 12) : DEFAULT_EMOJIS;
  }

  private get perSecond(): number {
    const n = this.props.perSecond;
    return typeof n === 'number' && n > 0 ? n : 3;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.bucket = new TokenBucket(this.perSecond, this.perSecond);
    const socket = (this.socket = this.api.webSocket({ persistent: false }));
    socket.addEventListener('statechange', () => this.requestUpdate());
    socket.onMessage = (message) => {
      if (message.own || message.replayed) return; // own ones were shown on click
      this.received++;
      const sender = message.data.client_id;
      let limit = this.senders.get(sender);
      if (!limit) this.senders.set(sender, (limit = new TokenBucket(this.perSecond, this.perSecond)));
      if (!limit.take()) return;
      this.float((message.data.data as { emoji?: Json })?.emoji);
    };
  }

  private react(emoji: string): void {
    if (!this.bucket!.take()) {
      this.note = 'Slow down a little';
      return;
    }
    this.note = '';
    this.float(emoji);
    // Fire and forget: offline, the socket drops it after a few seconds, as it should.
    this.socket!.publish({ emoji }).catch(() => {});
  }

  private float(emoji: unknown): void {
    if (typeof emoji !== 'string' || !this.emojis.includes(emoji)) return;
    const layer = this.renderRoot.querySelector('.floats');
    if (!layer || layer.childElementCount >= MAX_FLOATS) return;
    const span = document.createElement('span');
    span.className = 'float';
    span.textContent = emoji;
    span.setAttribute('aria-hidden', 'true');
    span.style.left = `${Math.round(Math.random() * 80)}%`;
    span.addEventListener('animationend', () => span.remove(), { once: true, signal: this.api.signal });
    this.api.setTimeout(() => span.remove(), FLOAT_MS + 500); // also where animations do not run
    layer.append(span);
    this.shown++;
  }

  override render() {
    return html`<div class="card" role="group" aria-label="Reactions">
      <div class="floats"></div>
      ${this.emojis.map((e) => html`<button aria-label=${`React with ${e}`} @click=${() => this.react(e)}>${e}</button>`)}
      <span class="note" role="status">${this.note || connectionNote(this.socket!.state)}</span>
    </div>`;
  }
}

widgets.define('reactions', VidgetReactions);
