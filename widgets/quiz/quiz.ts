import { css, html, nothing } from 'lit';
import { VidgetWidget } from '../../src/host/vidget-widget.js';
import { widgets } from '../../src/host/widget-registry.js';
import type { Json, VidgetRecord } from '../../src/protocol/index.js';
import type { WidgetSocket } from '../../src/socket/index.js';
import { cardStyles } from '../shared/card-styles.js';
import { connectionNote } from '../shared/connection-note.js';
import { displayName } from '../shared/display-name.js';
import { defineNameLine } from '../shared/name-line.js';
import { NAME_EVENT, viewerNames } from '../shared/viewer-names.js';

/** One question of the quiz props. `answer` is the index of the right option, or its text. */
export interface QuizQuestion {
  question: string;
  options: string[];
  answer: number | string;
}

/** A search's `total` as shown: "10,000+" where the store stopped counting. */
const count = (total: number, exact: boolean | undefined): string => `${total.toLocaleString('en')}${exact === false ? '+' : ''}`;

/** A leaderboard row: competition ranking (equal scores share a rank). */
interface Row {
  rank: number;
  name: string;
  verified: boolean;
  score: number;
  mine: boolean;
}

/** Where the viewer is in the quiz: kept in the widget's state, so a loop or a seek does not restart it. */
interface Progress {
  step: number;
  score: number;
  picked?: number;
}

const TOP = 10;

function readQuestions(value: Json | undefined): QuizQuestion[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((q) => {
    if (!q || typeof q !== 'object' || Array.isArray(q) || !Array.isArray(q.options)) return [];
    const answer = typeof q.answer === 'number' || typeof q.answer === 'string' ? q.answer : -1;
    return [{ question: String(q.question ?? ''), options: q.options.map(String), answer }];
  });
}

const scoreOf = (record: VidgetRecord | undefined): number | undefined => {
  const score = (record?.data as { score?: Json } | null)?.score;
  return typeof score === 'number' ? score : undefined;
};

/**
 * `<vidget-quiz>`: questions one at a time; the viewer's score (one point per right answer) is
 * published persistently once, at the end, then a live leaderboard: the top 10 by `data.score`
 * (each viewer's latest score), the viewer's own row highlighted and their rank shown even
 * outside the top 10. A viewer who already finished sees their score and the board. Progress is
 * kept in the widget's state (and IndexedDB): leaving the time range, a loop or a reload resumes
 * at the same question. Names: as in the chat (a typed name once per project, a verified one ✓).
 * Props: `title`, `questions` ({@link QuizQuestion}[]), `anonymousNames` (default true), `name`
 * (default display name without a token).
 */
export class VidgetQuiz extends VidgetWidget {
  static override properties = {
    ...VidgetWidget.properties,
    step: { state: true },
    picked: { state: true },
    score: { state: true },
    board: { state: true },
    own: { state: true },
    players: { state: true },
    status: { state: true },
  };
  static override styles = [
    cardStyles,
    css`
    .card { min-width: 14em; }
    h2 { font-size: 1em; margin: 0 0 0.4em; }
    h3 { font-size: 0.95em; margin: 0 0 0.4em; font-weight: 500; }
    .options { display: grid; gap: 0.3em; }
    button.right { border-color: #7e7; background: rgb(120 230 120 / 0.2); }
    button.wrong { border-color: #f88; background: rgb(255 130 130 / 0.2); }
    .next { margin-top: 0.5em; }
    ol { margin: 0.2em 0 0; padding: 0; list-style: none; display: grid; gap: 0.1em; }
    li { display: grid; grid-template-columns: 2em 1fr auto; gap: 0.4em; padding: 0.1em 0.3em; border-radius: 4px; }
    li.mine { background: rgb(120 200 255 / 0.3); font-weight: 600; }
    .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .status { font-size: 0.85em; margin: 0.4em 0 0; min-height: 1.1em; }
    /* A narrow player: options in a row, and the top 5 (and the viewer's own row). */
    @container (max-width: 480px) {
      .card { min-width: 0; }
      .options { display: flex; flex-wrap: wrap; }
      .status:empty { display: none; }
      li:nth-child(n + 6):not(.mine) { display: none; }
    }
  `,
  ];

  /** The question shown (questions.length once finished). */
  declare step: number;
  /** The option picked for the current question, if any. */
  declare picked: number | undefined;
  declare score: number;
  declare board: Row[];
  /** The viewer's own rank and score once stored. */
  declare own: { rank: string; score: number } | undefined;
  /** Players counted: a number, or "10,000+" where the store stops counting. */
  declare players: string;
  declare status: string;
  private socket: WidgetSocket | undefined;
  private refreshTimer = 0;

  constructor() {
    super();
    this.step = 0;
    this.score = 0;
    this.board = [];
    this.players = '0';
    this.status = '';
  }

  private get questions(): QuizQuestion[] {
    return readQuestions(this.props.questions);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const kept = this.api.getState('progress') as Progress | null | undefined;
    if (kept) {
      this.step = kept.step;
      this.score = kept.score;
      this.picked = kept.picked;
      const question = this.questions[this.step];
      if (question && this.picked !== undefined) this.status = this.verdict(question, this.picked);
    }
    const socket = (this.socket = this.api.webSocket({ persistent: true }));
    socket.onOpen = () => void this.refresh();
    socket.addEventListener('statechange', () => this.requestUpdate()); // the connection note
    // A name set (here or in another widget) after finishing: the board shows it.
    window.addEventListener(NAME_EVENT, () => this.own && this.publishScore(), { signal: this.api.signal });
    socket.onMessage = () => {
      // Scores come in bursts: one refresh per 200 ms at most.
      this.refreshTimer ||= this.api.setTimeout(() => {
        this.refreshTimer = 0;
        void this.refresh();
      }, 200);
    };
    // A dropped connection is shown from the lifecycle (the title), not as a failure.
    socket.onError = (error) => error.code !== 'unavailable' && (this.status = `Quiz problem: ${error.message}`);
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('step') || changed.has('score') || changed.has('picked')) {
      const progress: Progress = { step: this.step, score: this.score, ...(this.picked !== undefined ? { picked: this.picked } : {}) };
      this.api.setState('progress', progress as unknown as Json, true);
    }
  }

  private verdict(question: QuizQuestion, option: number): string {
    const answer = typeof question.answer === 'number' ? (question.options[question.answer] ?? question.answer) : question.answer;
    return this.isRight(question, option) ? 'Right!' : `Not quite: the answer is ${answer}`;
  }

  private isRight(question: QuizQuestion, option: number): boolean {
    return typeof question.answer === 'number' ? question.answer === option : question.options[option] === question.answer;
  }

  private pick(option: number): void {
    if (this.picked !== undefined) return;
    const question = this.questions[this.step]!;
    this.picked = option;
    if (this.isRight(question, option)) this.score++;
    this.status = this.verdict(question, option);
  }

  private next(): void {
    this.picked = undefined;
    this.status = '';
    this.step++;
    if (this.step < this.questions.length) return;
    this.status = this.socket!.state === 'running' ? 'Saving your score…' : 'Your score is saved when the connection is back';
    this.publishScore();
  }

  /** Publishes the score (again, when the viewer's name changed: the board shows each viewer's latest). */
  private publishScore(): void {
    const socket = this.socket!;
    const score = this.own?.score ?? this.score;
    const data: Record<string, Json> = { score, of: this.questions.length };
    if (!socket.username && this.props.anonymousNames !== false) data.name = viewerNames.current(this.api.project, this.props.name);
    socket.publish(data).then(
      () => ((this.status = ''), void this.refresh()),
      (error: Error) => (this.status = `Your score was not saved: ${error.message}`),
    );
  }

  /** The top 10, the viewer's own score and rank, and the number of players. */
  private async refresh(): Promise<void> {
    const socket = this.socket!;
    try {
      const { records, total, totalExact } = await socket.search({
        query: { latestPerClient: true, filters: [{ field: 'data.score', operator: 'exists' }], sortField: 'data.score', sortOrder: 'desc', limit: TOP },
      });
      let own: VidgetRecord | undefined = records.find((r) => r.client_id === socket.clientId);
      if (!own && socket.clientId) {
        own = (await socket.search({ query: { latestPerClient: true, filters: [{ field: 'client_id', operator: '=', value: socket.clientId }], limit: 1 } })).records[0];
      }
      const mine = scoreOf(own);
      if (mine !== undefined) {
        const above = await socket.search({ query: { latestPerClient: true, filters: [{ field: 'data.score', operator: '>', value: mine }], limit: 0 } });
        if (this.step < this.questions.length) this.step = this.questions.length; // finished before (another visit)
        this.own = { rank: above.totalExact === false ? `> ${count(above.total, false)}` : String(above.total + 1), score: mine };
      }
      this.board = records.map((r, i) => {
        const score = scoreOf(r) ?? 0;
        const first = records.findIndex((o) => scoreOf(o) === score);
        return {
          rank: first === -1 ? i + 1 : first + 1,
          name: displayName(r.username, this.props.anonymousNames !== false ? r.data : null, r.client_id),
          verified: r.username !== null,
          score,
          mine: r.client_id === socket.clientId,
        };
      });
      this.players = count(total, totalExact);
    } catch (error) {
      this.status = `Quiz problem: ${(error as Error).message}`;
    }
  }

  private renderQuestion(question: QuizQuestion) {
    const n = this.questions.length;
    return html`<h3 id="q">${this.step + 1}/${n}. ${question.question}</h3>
      <div class="options" role="group" aria-labelledby="q">
        ${question.options.map((option, i) => {
          const cls = this.picked === undefined ? '' : this.isRight(question, i) ? 'right' : this.picked === i ? 'wrong' : '';
          return html`<button class=${cls} aria-pressed=${this.picked === i ? 'true' : 'false'} aria-disabled=${this.picked !== undefined ? 'true' : 'false'} @click=${() => this.pick(i)}>${option}</button>`;
        })}
      </div>
      ${this.picked !== undefined ? html`<button class="next" @click=${this.next}>${this.step + 1 < n ? 'Next question' : 'See the leaderboard'}</button>` : nothing}`;
  }

  private renderBoard() {
    const own = this.own;
    return html`<p style="margin:0 0 0.3em">${own ? html`Your score: <strong>${own.score}</strong> · rank <strong>${own.rank}</strong> of ${this.players}` : `Your score: ${this.score}`}</p>
      <h3 id="lb">Leaderboard</h3>
      <ol aria-labelledby="lb">
        ${this.board.map((row) => html`<li class=${row.mine ? 'mine' : nothing} aria-current=${row.mine ? 'true' : nothing}><span>${row.rank}.</span><span class="name">${row.name}${row.verified ? html`<span class="verified" role="img" aria-label="(verified)" title="Verified by the site">✓</span>` : nothing}${row.mine ? ' (you)' : ''}</span><span>${row.score}</span></li>`)}
      </ol>
      <vidget-name-line prefix="On the board as" .project=${this.api.project} .username=${this.socket!.username} .clientId=${this.socket!.clientId ?? ''} .allowTyped=${this.props.anonymousNames !== false} .fallback=${this.props.name}></vidget-name-line>`;
  }

  override render() {
    const question = this.questions[this.step];
    return html`<section class="card" aria-labelledby="title">
      <h2 id="title">${String(this.props.title ?? 'Quiz')}<span class="conn">${connectionNote(this.socket!.state)}</span></h2>
      ${question ? this.renderQuestion(question) : this.renderBoard()}
      <p class="status" role="status">${this.status}</p>
    </section>`;
  }
}

defineNameLine();
widgets.define('quiz', VidgetQuiz);
