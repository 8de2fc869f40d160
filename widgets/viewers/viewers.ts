import { css, html } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import type { WidgetSocket } from '../../src/socket/index.js';
import type { NarrowMode } from '../../src/host/widget-config.js';
import { cardStyles } from '../shared/card-styles.js';
import { connectionNote } from '../shared/connection-note.js';

/**
 * `<vidget-viewers>`: how many people are watching, live, from the widget socket's
 * `onActiveConnectionsChange`. While the connection is down the last count is stale: it is shown
 * muted and marked "reconnecting…", from the socket's lifecycle. Props: `label` (default "watching").
 */
export class VidgetViewers extends VidgetWidget {
  /** Already a chip's size: kept as it is on a narrow player. */
  static narrow: NarrowMode = 'keep';
  static override properties = { ...VidgetWidget.properties, count: { state: true } };
  static override styles = [cardStyles, css`.card { padding: 0.3em 0.7em; margin: 0; }`];
  declare count: number | undefined;
  private socket: WidgetSocket | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    const socket = (this.socket = this.api.webSocket({ persistent: false }));
    socket.onActiveConnectionsChange = (message) => (this.count = message.data);
    socket.addEventListener('statechange', () => this.requestUpdate());
  }

  override render() {
    const label = String(this.props.label ?? 'watching');
    const note = connectionNote(this.socket!.state);
    return html`<p class="card" role="status" aria-live="polite"><span class=${note ? 'stale' : ''}>${this.count === undefined ? '…' : this.count} ${label}</span><span class="conn">${note}</span></p>`;
  }
}

widgets.define('viewers', VidgetViewers);
