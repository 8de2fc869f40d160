import { css, html } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import type { NarrowMode } from '../../src/host/widget-config.js';
import { cardStyles } from '../shared/card-styles.js';

interface Chapter {
  title: string;
  start: number;
}

/**
 * `<vidget-chapters>`: the video's chapters; a click seeks, and the current one is marked
 * (`aria-current`) as the video plays. Props: `chapters: [{ title, start }]`, `heading`.
 */
export class VidgetChapters extends VidgetWidget {
  /** A list to read and click: below the video on a narrow player, wherever it is placed. */
  static narrow: NarrowMode = 'below';
  static override properties = { ...VidgetWidget.properties, current: { state: true } };
  static override styles = [
    cardStyles,
    css`
    ol { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.3em; max-height: 14em; overflow: auto; }
    button { width: 100%; display: flex; justify-content: space-between; gap: 1em; }
    button[aria-current='true'] { border-color: #7cf; background: rgb(120 200 255 / 0.2); }
    h2 { font-size: 1em; margin: 0 0 0.4em; }
  `,
  ];
  declare current: number;

  constructor() {
    super();
    this.current = -1;
  }

  private get chapters(): Chapter[] {
    const list: unknown[] = Array.isArray(this.props.chapters) ? this.props.chapters : [];
    return list
      .filter((c): c is Chapter => typeof c === 'object' && c !== null && typeof (c as Chapter).start === 'number')
      .map((c) => ({ title: String(c.title), start: c.start }))
      .sort((a, b) => a.start - b.start);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const update = () => {
      const t = this.api.currentTime;
      this.current = this.chapters.findLastIndex((c) => c.start <= t);
    };
    for (const name of ['timeupdate', 'seeked', 'loadedmetadata']) this.api.on(name, update);
    update();
  }

  override render() {
    const time = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
    return html`<nav class="card" aria-labelledby="h">
      <h2 id="h">${String(this.props.heading ?? 'Chapters')}</h2>
      <ol>
        ${this.chapters.map(
          (c, i) => html`<li><button aria-current=${i === this.current ? 'true' : 'false'} @click=${() => this.api.seek(c.start)}>
          <span>${c.title}</span><span aria-hidden="true">${time(c.start)}</span></button></li>`,
        )}
      </ol>
    </nav>`;
  }
}

widgets.define('chapters', VidgetChapters);
