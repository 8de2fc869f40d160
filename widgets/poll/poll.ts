import { css, html, nothing } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import type { Json, SearchGroup } from '../../src/protocol/index.js';
import type { WidgetSocket } from '../../src/socket/index.js';
import { cardStyles } from '../shared/card-styles.js';
import { connectionNote } from '../shared/connection-note.js';

type MyVote = { option: string; state: 'sending' | 'waiting' | 'counted' };

/**
 * `<vidget-poll>`: a question with options. One vote per viewer (the widget's client id); voting
 * again changes the vote, never adds one. Live results from the server's
 * `groupBy: 'data.option'` over each client's latest vote, refreshed as votes arrive.
 * Props: `question` (string), `options` (string[]), `resultsAt` (seconds of video from which
 * results show to everyone; by default a viewer sees them after voting). The viewer's vote is kept
 * in the widget's state, so it shows at once when the poll comes back (a loop, a seek); while the
 * connection is down the results are shown muted, marked "reconnecting…".
 */
export class VidgetPoll extends VidgetWidget {
  static override properties = { ...VidgetWidget.properties, counts: { state: true }, mine: { state: true }, failure: { state: true } };
  static override styles = [
    cardStyles,
    css`
    .card { min-width: 12em; }
    h2 { font-size: 1em; margin: 0 0 0.5em; }
    [role='radiogroup'] { display: grid; gap: 0.35em; }
    button { position: relative; overflow: hidden; display: flex; justify-content: space-between; gap: 1em; }
    button[aria-checked='true'] { border-color: #7cf; }
    .bar { position: absolute; inset: 0 auto 0 0; background: rgb(120 200 255 / 0.28); pointer-events: none; }
    .label, .pct { position: relative; }
    .status { font-size: 0.85em; margin: 0.5em 0 0; min-height: 1.2em; }
    /* A narrow player: options in a row. */
    @container (max-width: 480px) { [role='radiogroup'] { display: flex; flex-wrap: wrap; } .status:empty { display: none; } }
  `,
  ];

  declare counts: Map<string, number> | undefined;
  declare mine: MyVote | undefined;
  declare failure: string | undefined;
  private socket: WidgetSocket | undefined;
  private refreshTimer = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    this.mine = (this.api.getState('mine') as MyVote | undefined) ?? undefined;
    const socket = (this.socket = this.api.webSocket({ persistent: true }));
    socket.onOpen = () => void this.refresh(true);
    socket.onMessage = (message) => {
      if (message.own) this.mine = { option: String((message.data.data as { option?: Json })?.option), state: 'counted' };
      // Votes come in bursts: one search per 200 ms, whatever the number of votes.
      this.refreshTimer ||= this.api.setTimeout(() => {
        this.refreshTimer = 0;
        void this.refresh(false);
      }, 200);
    };
    socket.addEventListener('statechange', () => {
      if (this.mine?.state === 'sending' && socket.state !== 'running') this.mine = { ...this.mine, state: 'waiting' };
      this.requestUpdate(); // the connection note
    });
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('mine')) this.api.setState('mine', this.mine ?? null);
  }

  private get options(): string[] {
    const options = this.props.options;
    return Array.isArray(options) ? options.map(String) : [];
  }

  private async refresh(withMine: boolean): Promise<void> {
    const socket = this.socket!;
    try {
      const { groups = [] } = await socket.search({ query: { groupBy: 'data.option', latestPerClient: true, limit: 0 } });
      this.counts = new Map(groups.map((g: SearchGroup) => [String(g.value), g.count]));
      if (withMine && socket.clientId && !this.mine) {
        const { records } = await socket.search({ query: { latestPerClient: true, filters: [{ field: 'client_id', operator: '=', value: socket.clientId }], limit: 1 } });
        const option = (records[0]?.data as { option?: Json } | undefined)?.option;
        if (option !== undefined) this.mine = { option: String(option), state: 'counted' };
      }
      this.failure = undefined;
    } catch (error) {
      this.failure = (error as Error).message;
    }
  }

  private vote(option: string): void {
    if (this.mine?.option === option && this.mine.state !== 'waiting') return;
    const socket = this.socket!;
    this.mine = { option, state: socket.state === 'running' ? 'sending' : 'waiting' };
    socket.publish({ option }).then(
      () => this.mine?.option === option && (this.mine = { option, state: 'counted' }),
      (error: Error) => (this.failure = error.message),
    );
  }

  private onKey(event: KeyboardEvent, index: number): void {
    const step = event.key === 'ArrowDown' || event.key === 'ArrowRight' ? 1 : event.key === 'ArrowUp' || event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const buttons = [...this.renderRoot.querySelectorAll('button')];
    buttons[(index + step + buttons.length) % buttons.length]?.focus();
  }

  override render() {
    const question = String(this.props.question ?? '');
    const resultsAt = typeof this.props.resultsAt === 'number' ? this.props.resultsAt : Infinity;
    const showResults = this.mine !== undefined || this.api.currentTime >= resultsAt;
    const total = [...(this.counts?.values() ?? [])].reduce((a, b) => a + b, 0);
    const status = this.failure
      ? `Could not reach the poll: ${this.failure}`
      : this.mine
        ? `Your vote: ${this.mine.option}${this.mine.state === 'sending' ? ' (sending…)' : this.mine.state === 'waiting' ? ' (waiting for the connection)' : ''}`
        : '';
    const note = connectionNote(this.socket!.state);
    return html`<div class="card">
      <h2 id="q">${question}<span class="conn">${note}</span></h2>
      <div role="radiogroup" aria-labelledby="q" class=${note && showResults ? 'stale' : nothing}>
        ${this.options.map((option, i) => {
          const count = this.counts?.get(option) ?? 0;
          const pct = total > 0 ? Math.round((count / total) * 100) : 0;
          const chosen = this.mine?.option === option;
          return html`<button role="radio" aria-checked=${chosen ? 'true' : 'false'} tabindex=${chosen || (!this.mine && i === 0) ? 0 : -1}
            aria-label=${showResults ? `${option}: ${pct}%, ${count} ${count === 1 ? 'vote' : 'votes'}` : option}
            @click=${() => this.vote(option)} @keydown=${(e: KeyboardEvent) => this.onKey(e, i)}>
            ${showResults ? html`<span class="bar" style="width:${pct}%"></span>` : nothing}
            <span class="label">${option}</span>${showResults ? html`<span class="pct">${pct}%</span>` : nothing}
          </button>`;
        })}
      </div>
      <p class="status" role="status">${status}</p>
    </div>`;
  }
}

widgets.define('poll', VidgetPoll);
