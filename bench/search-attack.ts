// The search-freeze attack of issue 17, shared by the hostile-input test and the bench: the
// costliest searches an anonymous client may send, back to back, one in flight per connection.
import WebSocket from 'ws';
import { MAX_OFFSET, type SearchQuery } from '../src/protocol/index.js';

/** The worst searches, in turn; `n` makes each made-up field new, so no index ever serves it. */
export const worstSearches = (n: number): SearchQuery[] => [
  { sortField: 'data.text', sortOrder: 'desc', offset: MAX_OFFSET, limit: 1000 }, // a deep page, sorted on a text field
  { groupBy: 'data.text', limit: 0 }, // one group per record
  { filters: [{ field: `data.junk${n}`, operator: 'contains', value: 'x' }], sortField: `data.junk${n}`, limit: 1000 }, // a full scan
  { latestPerClient: true, groupBy: 'data.option', filters: [{ field: 'data.text', operator: 'contains', value: 'no such text' }] },
  { limit: 1000 }, // the largest page
];

/** What an attacked room holds: ~300 B records with a unique text, 5 options and a score. */
export const attackRecord = (n: number) => ({ text: `message ${n} ${'x'.repeat(200)}`, option: 'abcde'[n % 5]!, score: (n * 7919) % 1000 });

/**
 * One attacking connection (a raw `ws` socket): sends {@link worstSearches} back to back, one in
 * flight, until stopped; can pause (once nothing is in flight) and resume. It reads only the head
 * of each answer: an attacker does not parse what it asked for, and in the test this process is
 * also the server whose event loop is measured.
 */
export class SearchAttacker {
  /** Full rounds of every pattern answered. */
  rounds = 0;
  /** Answers that were `query_timeout` (ran past the budget). */
  timeouts = 0;
  /** Answers that were `unavailable` (waited the whole budget for a worker: every one was busy). */
  busy = 0;
  private state: 'running' | 'paused' | 'stopped' = 'running';
  private wake: (() => void) | undefined;
  private parked: (() => void) | undefined;
  /** True while the loop waits for resume(). */
  private idle = false;
  private readonly waiting: Array<{ round: number; resolve: () => void }> = [];
  private readonly answered = new Map<string, (kind: string) => void>();
  readonly done: Promise<void>;

  constructor(
    url: string,
    private readonly seed: number,
  ) {
    this.done = this.run(new WebSocket(url));
  }

  /** Resolves once every pattern has been answered `round` times. */
  after(round: number): Promise<void> {
    return new Promise((resolve) => (round <= this.rounds ? resolve() : this.waiting.push({ round, resolve })));
  }

  /** Stops sending; resolves once no search is in flight. */
  pause(): Promise<void> {
    this.state = 'paused';
    return new Promise((resolve) => (this.idle ? resolve() : (this.parked = resolve)));
  }

  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  resume(): void {
    this.state = 'running';
    this.wake?.();
  }

  stop(): Promise<void> {
    this.state = 'stopped';
    this.wake?.();
    return this.done;
  }

  private async run(ws: WebSocket): Promise<void> {
    ws.on('message', (data: Buffer) => this.onMessage(data));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    for (let n = this.seed; !this.stopped; n++) {
      for (const [i, query] of worstSearches(n).entries()) {
        while (this.state === 'paused') {
          this.idle = true;
          this.parked?.();
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.idle = false;
        }
        if (this.stopped) break;
        const kind = await this.search(ws, `a${n}q${i}`, query);
        if (kind === 'query_timeout') this.timeouts++;
        else if (kind === 'unavailable') this.busy++;
        else if (kind !== 'result') throw new Error(`attack search answered ${kind}`);
      }
      this.rounds++;
      for (const w of this.waiting.filter((w) => w.round <= this.rounds)) w.resolve();
    }
    this.parked?.();
    ws.close();
  }

  private search(ws: WebSocket, rid: string, query: SearchQuery): Promise<string> {
    return new Promise((resolve) => {
      this.answered.set(rid, (kind) => {
        this.answered.delete(rid);
        resolve(kind);
      });
      ws.send(JSON.stringify({ type: 'search', rid, query }));
    });
  }

  private onMessage(data: Buffer): void {
    const head = data.toString('utf8', 0, 160);
    const result = head.startsWith('{"type":"result"');
    const rid = /"rid":"([^"]+)"/.exec(result ? head : data.toString())?.[1];
    if (rid) this.answered.get(rid)?.(result ? 'result' : (JSON.parse(data.toString()) as { code: string }).code);
  }
}
