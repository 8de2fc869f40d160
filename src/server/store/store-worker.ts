// A store worker thread: its own better-sqlite3 connection to the store's WAL file, read-only for
// searches and catch-up reads, or writable for index builds. Whatever it runs blocks only this
// thread, never the event loop that serves the sockets.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { VidgetError, type ValidQuery } from '../../protocol/index.js';
import { RecordReader, type SearchLimits } from './record-reader.js';
import type { ReplayFrom, ReplayLimit } from './store.js';

/** What a store worker is started with. */
export interface StoreWorkerData {
  file: string;
  writable: boolean;
}

/** One piece of work for a store worker. */
export type StoreJob =
  { op: 'search'; room: number; query: ValidQuery; limits: SearchLimits } | { op: 'replay'; room: number; from: ReplayFrom; limit: ReplayLimit; budgetMs: number } | { op: 'exec'; sql: string };

/** The worker's answer to job `id`: its value, or the error's code and message. */
export type StoreReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code?: string; message: string };

function run(db: Database.Database, reader: RecordReader, job: StoreJob): unknown {
  switch (job.op) {
    case 'search':
      return reader.search(job.room, job.query, job.limits);
    case 'replay':
      return reader.replay(job.room, job.from, job.limit, job.budgetMs);
    case 'exec': {
      const started = performance.now();
      db.exec(job.sql);
      return performance.now() - started;
    }
  }
}

const { file, writable } = workerData as StoreWorkerData;
const db = new Database(file, { readonly: !writable, fileMustExist: true });
// Waiting for a lock here blocks only this thread.
db.pragma('busy_timeout = 5000');
const reader = new RecordReader(db);
parentPort!.on('message', ({ id, job }: { id: number; job: StoreJob }) => {
  let reply: StoreReply;
  try {
    reply = { id, ok: true, value: run(db, reader, job) };
  } catch (error) {
    reply = { id, ok: false, ...(error instanceof VidgetError ? { code: error.code } : {}), message: (error as Error).message };
  }
  // A search answer's bytes move to the main thread without a copy.
  const body = reply.ok ? (reply.value as { body?: Uint8Array }).body : undefined;
  parentPort!.postMessage(reply, body ? [body.buffer as ArrayBuffer] : []);
});
parentPort!.postMessage({ ready: true });
