import WebSocket from 'ws';
import type { WatchServerFrame } from '../../../src/protocol/index.js';
import type { VidgetServer } from '../../../src/server/index.js';

type Frame<T extends WatchServerFrame['type']> = Extract<WatchServerFrame, { type: T }>;

const WAIT_MS = 5_000;

/** A raw `ws` client of the watch endpoint that records every frame and waits for the one a test expects. */
export class WatchTestClient {
  readonly frames: WatchServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private unread: WatchServerFrame[] = [];
  private waiters: Array<{ match: (f: WatchServerFrame) => boolean; resolve: (f: WatchServerFrame) => void }> = [];
  private rids = 0;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as WatchServerFrame;
      this.frames.push(frame);
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(frame);
      else this.unread.push(frame);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connects to `/watch/<project>` (`_pk` defaults to a fresh secret) and waits for `hello`. */
  static async connect(server: VidgetServer, project = 'demo', query: Record<string, string> = {}): Promise<WatchTestClient> {
    const params = new URLSearchParams({ _pk: `k${Math.random().toString(36).slice(2, 12)}`, ...query });
    const client = new WatchTestClient(new WebSocket(`${server.wsUrl}/watch/${project}?${params}`));
    await client.next('hello');
    return client;
  }

  get uid(): string {
    return (this.frames.find((f) => f.type === 'hello') as Frame<'hello'>).uid;
  }

  /** The first unread frame of `type` matching `match`, waiting for it if needed. */
  next<T extends WatchServerFrame['type']>(type: T, match: (f: Frame<T>) => boolean = () => true): Promise<Frame<T>> {
    return this.where((f) => f.type === type && match(f as Frame<T>)) as Promise<Frame<T>>;
  }

  /** The first unread frame matching `test`, waiting for it if needed. */
  where(test: (f: WatchServerFrame) => boolean): Promise<WatchServerFrame> {
    const i = this.unread.findIndex(test);
    if (i >= 0) return Promise.resolve(this.unread.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: test,
        resolve: (f: WatchServerFrame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${WAIT_MS} ms; got ${JSON.stringify(this.frames).slice(-500)}`));
      }, WAIT_MS);
      this.waiters.push(waiter);
    });
  }

  /** Unread frames of `type` (without waiting). */
  unreadOf<T extends WatchServerFrame['type']>(type: T): Array<Frame<T>> {
    return this.unread.filter((f) => f.type === type) as Array<Frame<T>>;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a join and resolves with `joined`, or the `err` that answered it. */
  async join(fields: Record<string, unknown> = {}): Promise<Frame<'joined'> | Frame<'err'>> {
    const rid = `r${this.rids++}`;
    this.send({ type: 'join', rid, ...fields });
    return this.where((f) => (f.type === 'joined' || f.type === 'err') && f.rid === rid) as Promise<Frame<'joined'> | Frame<'err'>>;
  }

  /** Joins and fails the test unless it got in. */
  async joined(fields: Record<string, unknown> = {}): Promise<Frame<'joined'>> {
    const frame = await this.join(fields);
    if (frame.type !== 'joined') throw new Error(`join refused: ${frame.code} ${frame.message}`);
    return frame;
  }

  close(): void {
    this.ws.close();
  }
}
