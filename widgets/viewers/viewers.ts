import { css, html } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import { cardStyles } from '../shared/card-styles.js';

/**
 * `<vidget-viewers>`: how many people are watching, live, from the widget socket's
 * `onActiveConnectionsChange`. Props: `label` (default "watching").
 */
export class VidgetViewers extends VidgetWidget {
  static override properties = { ...VidgetWidget.properties, count: { state: true } };
  static override styles = [cardStyles, css`.card { padding: 0.3em 0.7em; }`];
  declare count: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    const socket = this.api.webSocket({ persistent: false });
    socket.onActiveConnectionsChange = (message) => (this.count = message.data);
  }

  override render() {
    const label = String(this.props.label ?? 'watching');
    return html`<p class="card" role="status" aria-live="polite" style="margin:0">${this.count === undefined ? '…' : this.count} ${label}</p>`;
  }
}

widgets.define('viewers', VidgetViewers);
