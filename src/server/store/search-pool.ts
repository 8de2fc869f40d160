import type { Worker } from 'node:worker_threads';
import { ErrorCode, VidgetError } from '../../protocol/index.js';
import { spawnWorker } from './spawn-worker.js';
import type { StoreJob, StoreReply, StoreWorkerData } from './store-worker.js';

/** Options of {@link SearchPool}. */
export interface SearchPoolOptions {
  /** The SQLite file (WAL mode) the workers open. */
  file: string;
  /** Most worker threads; they start on demand, one more only when all are busy. */
  size: number;
  /** Open the connections writable (index builds); read-only otherwise. */
  writable?: boolean;
  /** Nice value of the worker threads (Linux), so the event loop wins the CPU. Default 10. */
  nice?: number;
  /** Most jobs waiting for a worker; more are refused with `unavailable`. Default 256. */
  maxQueued?: number;
  /** How long past its budget a job may take to stop by itself before its worker is terminated. Default 250 ms. */
  killGraceMs?: number;
}

interface Job {
  job: StoreJob;
  budgetMs: number | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Terminated or crashed: still counted (its thread may be finishing a native call) until it exits. */
  dead: boolean;
  running?: Job & { id: number };
  /** Why it died, for the jobs that were waiting on it. */
  error?: unknown;
}

/**
 * A small pool of store worker threads, each with its own connection to the SQLite file. Jobs
 * run in arrival order on the first free worker. A job with a budget that waited that long for a
 * worker is refused with `unavailable` (the server is busy, not the query too costly: clients
 * retry it, and the auto-indexer does not count it as a slow query); one that runs past its
 * budget gets `query_timeout`: the worker's own check (RecordReader's `vidget_budget`) normally
 * stops the statement; one that does not stop within `killGraceMs` (a long sort, where SQLite
 * calls no function) has its worker terminated and replaced.
 */
export class SearchPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: SearchPoolOptions) {}

  /** Runs a job; `budgetMs` bounds its wait and its run (none for index builds). */
  run<T>(job: StoreJob, budgetMs?: number): Promise<T> {
    if (this.closed) return Promise.reject(new VidgetError(ErrorCode.Unavailable, 'the store is closing'));
    if (this.queue.length >= (this.options.maxQueued ?? 256)) {
      return Promise.reject(new VidgetError(ErrorCode.Unavailable, 'too many searches waiting; retry later'));
    }
    return new Promise<T>((resolve, reject) => {
      const entry: Job = { job, budgetMs, resolve: resolve as (value: unknown) => void, reject };
      this.queue.push(entry);
      // A cold pool's start-up is not the query's fault: the wait is timed once a worker is up.
      if (this.readyCount() > 0) this.timeWait(entry);
      this.dispatch();
    });
  }

  /** Refuses queued jobs, stops the workers (a running job gets `unavailable`) and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.queue.splice(0)) this.fail(entry, new VidgetError(ErrorCode.Unavailable, 'the store is closing'));
    const exits = [...this.slots].map((slot) => new Promise((resolve) => slot.worker.once('exit', resolve)));
    for (const slot of this.slots) void slot.worker.terminate();
    // A terminated worker still inside SQLite exits when the call returns, but its handle no
    // longer keeps the loop alive meanwhile: without this timer the process could end first.
    const alive = setInterval(() => {}, 1_000);
    await Promise.all(exits);
    clearInterval(alive);
  }

  private readyCount(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.ready && !slot.dead) n++;
    return n;
  }

  private timeWait(entry: Job): void {
    if (entry.budgetMs === undefined || entry.timer) return;
    entry.timer = setTimeout(() => {
      const i = this.queue.indexOf(entry);
      if (i < 0) return;
      this.queue.splice(i, 1);
      entry.reject(new VidgetError(ErrorCode.Unavailable, 'every search worker stayed busy for the whole time budget; retry later'));
    }, entry.budgetMs);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = [...this.slots].find((s) => s.ready && !s.dead && !s.running);
      if (!slot) {
        if (this.slots.size < this.options.size) this.spawn();
        return;
      }
      this.start(slot, this.queue.shift()!);
    }
  }

  private start(slot: Slot, entry: Job): void {
    clearTimeout(entry.timer);
    const id = ++this.nextId;
    slot.running = { ...entry, id };
    slot.worker.ref();
    if (entry.budgetMs !== undefined) {
      slot.running.timer = setTimeout(() => this.kill(slot, id), entry.budgetMs + (this.options.killGraceMs ?? 250));
    }
    slot.worker.postMessage({ id, job: entry.job });
  }

  private spawn(): void {
    const data: StoreWorkerData = { file: this.options.file, writable: this.options.writable ?? false };
    // Referenced while starting or busy (a pending job keeps the process alive), unreferenced
    // while idle (an idle pool never does).
    const worker = spawnWorker(import.meta.url, 'store-worker', this.options.nice ?? 10, { workerData: data });
    const slot: Slot = { worker, ready: false, dead: false };
    this.slots.add(slot);
    worker.on('message', (message: StoreReply | { ready: true }) => this.onMessage(slot, message));
    worker.on('error', (error) => this.onCrash(slot, error));
    worker.once('exit', () => {
      this.slots.delete(slot);
      this.onCrash(slot, new Error('store worker exited'));
      // One that never came up (a missing file, a bad build) would fail again: answer what
      // waits rather than respawn in a loop. The next job tries once more.
      const why = `store worker failed to start: ${(slot.error as Error | undefined)?.message ?? 'it exited'}`;
      if (!slot.ready) for (const entry of this.queue.splice(0)) this.fail(entry, new Error(why));
      if (!this.closed) this.dispatch();
    });
  }

  private onMessage(slot: Slot, message: StoreReply | { ready: true }): void {
    if ('ready' in message) {
      slot.ready = true;
      slot.worker.unref();
      for (const entry of this.queue) this.timeWait(entry);
      return this.dispatch();
    }
    const running = slot.running;
    if (!running || running.id !== message.id) return; // answered after it was given up
    clearTimeout(running.timer);
    slot.running = undefined;
    slot.worker.unref();
    if (message.ok) running.resolve(message.value);
    else running.reject(message.code ? new VidgetError(message.code as ErrorCode, message.message) : new Error(message.message));
    this.dispatch();
  }

  /** A job ran past its budget and grace: answer it, and end the worker that is still inside SQLite. */
  private kill(slot: Slot, id: number): void {
    const running = slot.running;
    if (!running || running.id !== id) return;
    slot.running = undefined;
    slot.dead = true;
    running.reject(new VidgetError(ErrorCode.QueryTimeout, 'the search ran out of time; narrow it or page with after'));
    void slot.worker.terminate();
  }

  private onCrash(slot: Slot, error: unknown): void {
    slot.dead = true;
    slot.error ??= error;
    const running = slot.running;
    slot.running = undefined;
    if (running) this.fail(running, error);
  }

  private fail(entry: Job, error: unknown): void {
    clearTimeout(entry.timer);
    entry.reject(error instanceof VidgetError ? error : new VidgetError(ErrorCode.Unavailable, (error as Error).message));
  }
}
