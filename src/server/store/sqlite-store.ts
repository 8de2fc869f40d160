import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { ErrorCode, VidgetError, type ValidQuery, type VidgetRecord } from '../../protocol/index.js';
import { AutoIndexPolicy, type AutoIndexOptions } from './auto-index-policy.js';
import { AutoIndexer } from './auto-indexer.js';
import { RecordReader, type SearchOutput } from './record-reader.js';
import { lockForProcess } from './process-lock.js';
import { removedByRoom } from './answer-parts.js';
import { RoomIdCache } from './room-id-cache.js';
import { SearchPool } from './search-pool.js';
import type { StoreJob } from './store-worker.js';
import type { AppendResult, Expired, Removed, ReplayFrom, ReplayLimit, ReplayedRecord, RoomInfo, RoomName, SingleWriterStore, StoredRecord, Usage } from './store.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Per-room expression indexes for `data.*` fields that are searched slowly and repeatedly,
   * built off the event loop (see {@link AutoIndexOptions} for the rule and the caps); `false`
   * for none. Default on.
   */
  autoIndex?: boolean | AutoIndexOptions;
  /**
   * Worker threads that run searches and catch-up reads, each with its own read-only connection.
   * 0 runs them on the event loop (a `:memory:` store always does: workers cannot share it). Default 2.
   */
  readers?: number;
  /** Nice value of the worker threads on Linux (0-19): the event loop's thread wins the CPU. Default 10. */
  workerNice?: number;
  /**
   * Time budget of one search or catch-up read: past it, `query_timeout`; one that waited that
   * long for a free worker is answered `unavailable` (busy: sockets retry it). Default 1,000 ms.
   */
  searchTimeoutMs?: number;
  /** Most bytes of records and groups in one search answer; past it the page stops (`truncated`, `next`). Default 1 MiB. */
  maxResultBytes?: number;
  /**
   * `normal` (default): a commit survives a crash of the process; `full`: also a power loss,
   * at a cost in publish throughput.
   */
  durability?: 'normal' | 'full';
  /**
   * A cap on the database file, in bytes (a quota, or headroom on a shared disk). Past it, as on a
   * full disk, appends fail and publishes are answered `unavailable`; nothing acked is lost.
   */
  maxBytes?: number;
}

interface PendingAppend {
  room: number;
  records: StoredRecord[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

interface Row {
  id: number;
  client_id: string;
  created: number;
  username: string | null;
  data: string;
}

const toRecord = (row: Row): VidgetRecord => ({
  id: row.id,
  client_id: row.client_id,
  created: row.created,
  username: row.username,
  data: JSON.parse(row.data),
});

const COLUMNS = 'id, client_id, created, username, json(data) AS data';
/** The size quotas count: the UTF-8 bytes of `data` as JSON text. */
const DATA_BYTES = 'length(CAST(json(data) AS BLOB))';

/**
 * The schema, as numbered steps recorded in `user_version`: a database made by an older version
 * is brought up to date at open, in one transaction.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS rooms (
     room INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     epoch TEXT NOT NULL
   );
   CREATE TABLE IF NOT EXISTS records (
     room INTEGER NOT NULL,
     id INTEGER NOT NULL,
     client_id TEXT NOT NULL,
     cid TEXT NOT NULL,
     created INTEGER NOT NULL,
     username TEXT,
     data BLOB NOT NULL
   );
   CREATE UNIQUE INDEX IF NOT EXISTS records_id ON records (room, id);
   CREATE UNIQUE INDEX IF NOT EXISTS records_cid ON records (room, client_id, cid);
   CREATE INDEX IF NOT EXISTS records_created ON records (room, created);
   CREATE INDEX IF NOT EXISTS records_client ON records (room, client_id, id);`,
  // 2: the id high-water mark (ids never reused) and usage counters (quotas).
  `ALTER TABLE rooms ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rooms ADD COLUMN records INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rooms ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
   UPDATE rooms SET
     seq = (SELECT coalesce(max(id), 0) FROM records WHERE records.room = rooms.room),
     records = (SELECT count(*) FROM records WHERE records.room = rooms.room),
     bytes = (SELECT coalesce(sum(${DATA_BYTES}), 0) FROM records WHERE records.room = rooms.room);`,
  // 3: the publisher's user id (a token's sub), so one user's records can be deleted.
  `ALTER TABLE records ADD COLUMN user_id TEXT;
   CREATE INDEX records_user ON records (user_id) WHERE user_id IS NOT NULL;`,
];

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version >= MIGRATIONS.length) return;
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}
const STATEMENT_CACHE = 256;
const MiB = 1024 * 1024;
/** Longest wait between two tries of a write that found another connection (an index build) writing. */
const MAX_BUSY_RETRY_MS = 50;
/**
 * Records committed in one turn at most. Appends of one turn are normally a handful; after a wait
 * for the write lock they can be thousands, and one transaction of all of them would hold the
 * loop (about 0.1 s for 5,000, measured).
 */
const MAX_BATCH_RECORDS = 1_000;
/**
 * How often the writer worker checkpoints the WAL while commits come in. SQLite's automatic
 * checkpoint runs inside the commit that crosses 1,000 WAL pages, on the committing thread: with
 * readers always present (the search workers) such commits copied pages and synced the file for
 * 10-200 ms on the event loop (measured under the search attack). Once a second bounds the WAL to
 * a second of writes and costs one sync a second at most: in the persistence bench, a checkpoint
 * per 1,000 records cost 62 µs of CPU per stored record, once a second 41-53 (SQLite's own, on
 * the loop, 56; measured on the same machine the same hour).
 */
const CHECKPOINT_EVERY_MS = 1_000;

const isBusy = (error: unknown): boolean => (error as { code?: string }).code?.startsWith('SQLITE_BUSY') === true;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const projectOf = (room: RoomName): string => room.slice(0, room.indexOf('/'));

/**
 * The embedded default store: one SQLite file (WAL mode). Records keep their `data` as JSONB,
 * so `data.*` filters read fields without re-parsing JSON text.
 *
 * Publishes are written on the event loop through one connection (short transactions, one per
 * turn). Everything that can take long runs in worker threads on their own connections: searches
 * and catch-up reads (read-only, under a time budget) and index builds (one writer). WAL lets
 * readers run beside the writer; while an index build holds the write lock, appends are retried
 * from timers instead of blocking the loop in SQLite's busy handler.
 */
export class SqliteStore implements SingleWriterStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly rooms = new RoomIdCache();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly insert: Database.Statement;
  private readonly byCid: Database.Statement;
  private readonly appendMany: Database.Transaction<(room: number, records: StoredRecord[]) => AppendResult[]>;
  private readonly appendBatch: Database.Transaction<(batch: PendingAppend[]) => AppendResult[][]>;
  private readonly readers: SearchPool | undefined;
  private readonly inProcess: RecordReader | undefined;
  private readonly writer: SearchPool | undefined;
  private readonly indexer: AutoIndexer | undefined;
  private readonly budgetMs: number;
  private readonly maxResultBytes: number;
  /** Appends of this event-loop turn, from every room: committed together, one transaction. */
  private batch: PendingAppend[] = [];
  private batchTimer: NodeJS.Immediate | undefined;
  /** Set while appends wait out another connection's write lock. */
  private retryTimer: NodeJS.Timeout | undefined;
  private busyTries = 0;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private readonly unlock: () => void;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.file = file;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    // SQLite is one process's store: a second server on the same file is refused, not let corrupt ids.
    this.unlock = file === ':memory:' ? () => {} : lockForProcess(`${file}.lock`, file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    // Never wait inside SQLite on the event loop: a busy write is retried from a timer.
    this.db.pragma('busy_timeout = 0');
    if (options.maxBytes !== undefined) {
      const pageSize = this.db.pragma('page_size', { simple: true }) as number;
      this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
    }
    this.budgetMs = options.searchTimeoutMs ?? 1_000;
    this.maxResultBytes = options.maxResultBytes ?? MiB;
    migrate(this.db);
    this.insert = this.db.prepare('INSERT INTO records (room, id, client_id, cid, created, username, data, user_id) VALUES (?, ?, ?, ?, ?, ?, jsonb(?), ?) ON CONFLICT DO NOTHING');
    this.byCid = this.db.prepare(`SELECT ${COLUMNS} FROM records WHERE room = ? AND client_id = ? AND cid = ?`);
    const count = this.db.prepare('UPDATE rooms SET records = records + ?, bytes = bytes + ?, seq = max(seq, ?) WHERE room = ?');
    const insertAll = (room: number, records: StoredRecord[]) => {
      let stored = 0;
      let bytes = 0;
      let top = 0;
      const results = records.map((r): AppendResult => {
        const json = r.dataJson ?? JSON.stringify(r.data);
        const { changes } = this.insert.run(room, r.id, r.client_id, r.cid, r.created, r.username, json, r.user_id ?? null);
        if (changes === 1) {
          stored++;
          bytes += Buffer.byteLength(json);
          top = Math.max(top, r.id);
          return { stored: true };
        }
        return { stored: false, existing: toRecord(this.byCid.get(room, r.client_id, r.cid) as Row) };
      });
      if (stored > 0) count.run(stored, bytes, top, room);
      return results;
    };
    this.appendMany = this.db.transaction(insertAll);
    this.appendBatch = this.db.transaction((batch: PendingAppend[]) => batch.map((item) => insertAll(item.room, item.records)));

    const workers = file === ':memory:' ? 0 : (options.readers ?? 2);
    const nice = options.workerNice ?? 10;
    if (workers > 0) {
      this.readers = new SearchPool({ file, size: workers, nice });
      // Not niced: an index build holds the write lock, and every publish waits for it.
      this.writer = new SearchPool({ file, size: 1, writable: true, nice: 0 });
      this.db.pragma('wal_autocheckpoint = 0');
    } else {
      this.inProcess = new RecordReader(this.db);
    }
    if (options.autoIndex !== false) {
      const policy = new AutoIndexPolicy(options.autoIndex === true ? {} : options.autoIndex);
      const writer = this.writer;
      this.indexer = new AutoIndexer(
        policy,
        writer ? (sql) => writer.run<number>({ op: 'exec', sql }) : async (sql) => this.execTimed(sql),
        (options.autoIndex as AutoIndexOptions | undefined)?.buildGap ?? 10,
      );
      this.indexer.adopt(this.autoIndexes());
    }
  }

  async openRoom(name: RoomName): Promise<RoomInfo> {
    const find = this.statement('SELECT room, epoch, seq, records, bytes FROM rooms WHERE name = ?');
    let row = find.get(name) as { room: number; epoch: string; seq: number; records: number; bytes: number } | undefined;
    if (!row) {
      await this.write(() => this.statement('INSERT INTO rooms (name, epoch) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, randomBytes(8).toString('hex')));
      row = find.get(name) as { room: number; epoch: string; seq: number; records: number; bytes: number };
    }
    this.rooms.remember(name, row.room);
    const { last } = this.statement('SELECT max(id) AS last FROM records WHERE room = ?').get(row.room) as { last: number | null };
    return { epoch: row.epoch, lastId: Math.max(row.seq, last ?? 0), usage: { records: row.records, bytes: row.bytes } };
  }

  async lookup(name: RoomName, clientId: string, cid: string): Promise<VidgetRecord | undefined> {
    const row = this.byCid.get(this.roomId(name), clientId, cid) as Row | undefined;
    return row && toRecord(row);
  }

  async reserveIds(name: RoomName, upTo: number): Promise<number> {
    const room = this.roomId(name);
    const { seq } = await this.write(() => this.statement('UPDATE rooms SET seq = max(seq, ?) WHERE room = ? RETURNING seq').get(upTo, room) as { seq: number });
    return seq;
  }

  async projectUsage(project: string): Promise<Usage> {
    // Room names are "<project>/<widget>": a range on the name index ('0' sorts right after '/').
    const row = this.statement('SELECT coalesce(sum(records), 0) AS records, coalesce(sum(bytes), 0) AS bytes FROM rooms WHERE name > ? AND name < ?').get(`${project}/`, `${project}0`) as Usage;
    return { records: row.records, bytes: row.bytes };
  }

  async delete(name: RoomName, ids: number[]): Promise<Removed> {
    const room = this.roomId(name);
    return this.write(() =>
      this.db
        .transaction(() => {
          const rows = this.statement(`DELETE FROM records WHERE room = ? AND id IN (SELECT value FROM json_each(?)) RETURNING id, ${DATA_BYTES} AS bytes`).all(room, JSON.stringify(ids)) as Array<{
            id: number;
            bytes: number;
          }>;
          const removed = { ids: rows.map((r) => r.id).sort((a, b) => a - b), records: rows.length, bytes: rows.reduce((n, r) => n + r.bytes, 0) };
          if (removed.records > 0) this.uncount(room, removed);
          return removed;
        })
        .immediate(),
    );
  }

  async deleteUser(project: string, userId: string): Promise<Array<Removed & { room: RoomName }>> {
    return this.write(() =>
      this.db
        .transaction(() => {
          const rows = this.statement(`DELETE FROM records WHERE user_id = ? AND room IN (SELECT room FROM rooms WHERE name > ? AND name < ?) RETURNING room, id, ${DATA_BYTES} AS bytes`).all(
            userId,
            `${project}/`,
            `${project}0`,
          ) as Array<{ room: number; id: number; bytes: number }>;
          return [...removedByRoom(rows)].map(([room, removed]) => ({ room: this.uncount(room, removed), ...removed }));
        })
        .immediate(),
    );
  }

  async listRooms(project: string, limit = 1000): Promise<Array<Usage & { room: RoomName }>> {
    return this.statement('SELECT name AS room, records, bytes FROM rooms WHERE name > ? AND name < ? AND records > 0 ORDER BY name LIMIT ?').all(`${project}/`, `${project}0`, limit) as Array<
      Usage & { room: RoomName }
    >;
  }

  async expire(before: number, limit: number): Promise<Expired[]> {
    // Retention is opt-in; its global index on `created` is made only when it is used.
    await this.write(() => this.db.exec('CREATE INDEX IF NOT EXISTS records_created_at ON records (created)'));
    return this.write(() =>
      this.db
        .transaction(() => {
          const rows = this.statement(`DELETE FROM records WHERE rowid IN (SELECT rowid FROM records WHERE created < ? LIMIT ?) RETURNING room, ${DATA_BYTES} AS bytes`).all(before, limit) as Array<{
            room: number;
            bytes: number;
          }>;
          const byRoom = new Map<number, Usage>();
          for (const { room, bytes } of rows) {
            const usage = byRoom.get(room) ?? { records: 0, bytes: 0 };
            usage.records++;
            usage.bytes += bytes;
            byRoom.set(room, usage);
          }
          return [...byRoom].map(([room, usage]) => ({ room: this.uncount(room, usage), ...usage }));
        })
        .immediate(),
    );
  }

  /** Takes removed records off a room's usage counters; returns the room's name. */
  private uncount(room: number, gone: Usage): RoomName {
    const { name } = this.statement('UPDATE rooms SET records = max(0, records - ?), bytes = max(0, bytes - ?) WHERE room = ? RETURNING name').get(gone.records, gone.bytes, room) as { name: string };
    return name;
  }

  append(name: RoomName, records: StoredRecord[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.batch.push({ room: this.roomId(name), records, resolve, reject });
      // Rooms flush in their own callbacks of the same turn; one commit for all of them costs
      // one fsync-free WAL append instead of one per room.
      if (!this.batchTimer && !this.retryTimer) this.batchTimer = setImmediate(() => this.commitBatch());
    });
  }

  async replay(name: RoomName, from: ReplayFrom, limit: ReplayLimit): Promise<{ records: ReplayedRecord[]; truncated: boolean }> {
    return this.read({ op: 'replay', room: this.roomId(name), from, limit, budgetMs: this.budgetMs });
  }

  async search(name: RoomName, query: ValidQuery): Promise<Uint8Array> {
    const room = this.lookupRoom(name);
    if (room === undefined) return Buffer.from(JSON.stringify({ records: [], total: 0, ...(query.groupBy ? { groups: [] } : {}) }));
    try {
      const out = await this.read<SearchOutput>({ op: 'search', room, query, limits: { budgetMs: this.budgetMs, maxBytes: this.maxResultBytes } });
      this.indexer?.noteSearch(projectOf(name), room, query, out.elapsedMs);
      return out.body;
    } catch (error) {
      // A search that ran out of time is the slowest kind: it counts towards an index.
      if (error instanceof VidgetError && error.code === ErrorCode.QueryTimeout) this.indexer?.noteSearch(projectOf(name), room, query, Infinity);
      throw error;
    }
  }

  /** Waits until the index builds and drops asked for so far are done (tests, benchmarks). */
  async indexesSettled(): Promise<void> {
    await this.indexer?.settled();
  }

  async close(): Promise<void> {
    await this.indexer?.settled();
    await Promise.all([this.readers?.close(), this.writer?.close()]);
    // No other writer is left; waiting in SQLite is harmless now.
    this.db.pragma('busy_timeout = 5000');
    for (let chunk = 0; this.batch.length > 0 && chunk < 10_000; chunk++) this.commitBatch();
    clearImmediate(this.batchTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.checkpointTimer);
    for (const item of this.batch.splice(0)) item.reject(new VidgetError(ErrorCode.Unavailable, 'the store closed before this was written'));
    if (this.db.open) this.db.close();
    this.unlock();
  }

  /** The auto-indexes in the file, with the project of their room where it is known. */
  private autoIndexes(): Array<{ name: string; project: string | undefined }> {
    const rows = this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'auto:%'`).all() as Array<{ name: string }>;
    const roomName = this.db.prepare('SELECT name FROM rooms WHERE room = ?');
    return rows.map(({ name }) => {
      const room = /^auto:(\d+):/.exec(name)?.[1];
      const owner = room === undefined ? undefined : (roomName.get(Number(room)) as { name: string } | undefined);
      return { name, project: owner && projectOf(owner.name) };
    });
  }

  private execTimed(sql: string): number {
    const started = performance.now();
    this.db.exec(sql);
    return performance.now() - started;
  }

  private read<T>(job: StoreJob): Promise<T> {
    if (this.readers) return this.readers.run<T>(job, this.budgetMs);
    const reader = this.inProcess!;
    if (job.op === 'search') return Promise.resolve(reader.search(job.room, job.query, job.limits) as T);
    if (job.op === 'replay') return Promise.resolve(reader.replay(job.room, job.from, job.limit, job.budgetMs) as T);
    return Promise.reject(new Error(`${job.op} is not a read`));
  }

  /** Runs a write, retrying from a timer while another connection (an index build) holds the lock. */
  private async write<T>(fn: () => T): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return fn();
      } catch (error) {
        if (!isBusy(error)) throw error;
        await delay(Math.min(MAX_BUSY_RETRY_MS, 2 ** tries));
      }
    }
  }

  private commitBatch(): void {
    const batch = this.takeBatch();
    this.batchTimer = undefined;
    this.retryTimer = undefined;
    // What did not fit goes in the next turn (each room has one append in flight, so order holds).
    if (this.batch.length > 0) this.batchTimer = setImmediate(() => this.commitBatch());
    let results: AppendResult[][];
    try {
      // IMMEDIATE: a busy lock fails at BEGIN, before anything was written.
      results = this.appendBatch.immediate(batch);
    } catch (error) {
      if (isBusy(error)) return this.retryLater(batch);
      // One room's failure must not fail the others: each alone, in its own transaction.
      for (const item of batch) {
        try {
          item.resolve(this.appendMany.immediate(item.room, item.records));
        } catch (error) {
          if (isBusy(error)) this.retryLater([item]);
          else item.reject(error);
        }
      }
      return;
    }
    this.busyTries = 0;
    batch.forEach((item, i) => item.resolve(results[i]!));
    this.checkpointSoon();
  }

  /** After a commit: a PASSIVE checkpoint (it waits for nobody) in the writer worker, within CHECKPOINT_EVERY_MS. */
  private checkpointSoon(): void {
    const writer = this.writer;
    if (!writer || this.checkpointTimer) return;
    this.checkpointTimer = setTimeout(() => {
      void writer
        .run({ op: 'exec', sql: 'PRAGMA wal_checkpoint(PASSIVE)' })
        .catch(() => undefined) // the next commit asks again; the WAL is only longer meanwhile
        .finally(() => (this.checkpointTimer = undefined));
    }, CHECKPOINT_EVERY_MS);
    this.checkpointTimer.unref(); // closing the store checkpoints anyway
  }

  /** The appends of the next transaction: whole rooms' appends, up to about MAX_BATCH_RECORDS records. */
  private takeBatch(): PendingAppend[] {
    let records = 0;
    let n = 0;
    while (n < this.batch.length && (n === 0 || records + this.batch[n]!.records.length <= MAX_BATCH_RECORDS)) records += this.batch[n++]!.records.length;
    return this.batch.splice(0, n);
  }

  /** Puts appends back at the head of the queue (each room has one in flight, so order holds) and tries again soon. */
  private retryLater(items: PendingAppend[]): void {
    this.batch = [...items, ...this.batch];
    if (this.retryTimer) return;
    clearImmediate(this.batchTimer);
    this.batchTimer = undefined;
    this.retryTimer = setTimeout(() => this.commitBatch(), Math.min(MAX_BUSY_RETRY_MS, 2 ** this.busyTries++));
  }

  private lookupRoom(name: RoomName): number | undefined {
    let room = this.rooms.get(name);
    if (room === undefined) room = (this.statement('SELECT room FROM rooms WHERE name = ?').get(name) as { room: number } | undefined)?.room;
    if (room !== undefined) this.rooms.remember(name, room);
    return room;
  }

  private roomId(name: RoomName): number {
    const room = this.lookupRoom(name);
    if (room === undefined) throw new Error(`room ${name} was not opened`);
    return room;
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt)
      this.statements.delete(sql); // refresh its place in the LRU order
    else {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, stmt);
    return stmt;
  }
}
