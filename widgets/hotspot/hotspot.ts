import { css, html } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import type { NarrowMode } from '../../src/host/widget-config.js';
import { cardStyles } from '../shared/card-styles.js';

/** An http(s) URL, or undefined: a hotspot never follows `javascript:` or `data:` links. */
function safeHref(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const url = new URL(value, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `<vidget-hotspot>`: a labelled call-to-action over the video. Props: `label` (required, the
 * accessible name), `seek` (seconds to jump to), `href` (an http/https link, opened in a new tab).
 * No socket.
 */
export class VidgetHotspot extends VidgetWidget {
  /** A button already: kept as it is on a narrow player. */
  static narrow: NarrowMode = 'keep';
  // Element and class, to win over the shared reset of buttons and links (\`all: unset\`).
  static override styles = [cardStyles, css`a.card, button.card { display: block; text-align: center; background: rgb(0 0 0 / 0.78); }`];

  override render() {
    const label = String(this.props.label ?? 'Open');
    const href = safeHref(this.props.href);
    const seek = typeof this.props.seek === 'number' ? this.props.seek : undefined;
    if (href) return html`<a class="action card" href=${href} target="_blank" rel="noopener noreferrer">${label}</a>`;
    return html`<button class="card" @click=${() => seek !== undefined && this.api.seek(seek)}>${label}</button>`;
  }
}

widgets.define('hotspot', VidgetHotspot);
