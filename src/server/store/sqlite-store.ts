import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { ValidQuery, VidgetRecord } from '../../protocol/index.js';
import type { AppendResult, Expired, ReplayFrom, RoomInfo, RoomName, SearchResult, Store, StoredRecord, Usage } from './store.js';
import { dataFields, fieldSql, orderSql, whereSql } from './sqlite-query.js';

/** Options of {@link SqliteStore}. */
interface PendingAppend {
  room: number;
  records: StoredRecord[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

export interface SqliteStoreOptions {
  /**
   * Create an expression index the first time a search filters, sorts or groups on a new
   * `data.*` field, so the next ones are fast. Creating it blocks for about a second per
   * million records, once. Default true.
   */
  autoIndex?: boolean;
  /** Most auto-created indexes; further fields are searched without one. Default 32. */
  maxAutoIndexes?: number;
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
/** Room ids kept in memory; others are looked up again (rooms are many, open ones few). */
const ROOM_CACHE = 10_000;

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

/**
 * The embedded default store: one SQLite file (WAL mode). Records keep their `data` as JSONB,
 * so `data.*` filters read fields without re-parsing JSON text.
 */
export class SqliteStore implements Store {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly rooms = new Map<RoomName, number>();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly indexed = new Set<string>();
  private readonly autoIndex: boolean;
  private readonly maxAutoIndexes: number;
  private readonly insert: Database.Statement;
  private readonly byCid: Database.Statement;
  private readonly appendMany: (room: number, records: StoredRecord[]) => AppendResult[];
  private readonly appendBatch: (batch: PendingAppend[]) => AppendResult[][];
  /** Appends of this event-loop turn, from every room: committed together, one transaction. */
  private batch: PendingAppend[] = [];
  private batchTimer: NodeJS.Immediate | undefined;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.file = file;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    if (options.maxBytes !== undefined) {
      const pageSize = this.db.pragma('page_size', { simple: true }) as number;
      this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
    }
    this.autoIndex = options.autoIndex ?? true;
    this.maxAutoIndexes = options.maxAutoIndexes ?? 32;
    migrate(this.db);
    for (const { name } of this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'auto:%'`).all() as Array<{ name: string }>) {
      this.indexed.add(name);
    }
    this.insert = this.db.prepare(
      'INSERT INTO records (room, id, client_id, cid, created, username, data) VALUES (?, ?, ?, ?, ?, ?, jsonb(?)) ON CONFLICT DO NOTHING',
    );
    this.byCid = this.db.prepare(`SELECT ${COLUMNS} FROM records WHERE room = ? AND client_id = ? AND cid = ?`);
    const count = this.db.prepare('UPDATE rooms SET records = records + ?, bytes = bytes + ?, seq = max(seq, ?) WHERE room = ?');
    const insertAll = (room: number, records: StoredRecord[]) => {
      let stored = 0;
      let bytes = 0;
      let top = 0;
      const results = records.map((r): AppendResult => {
        const json = r.dataJson ?? JSON.stringify(r.data);
        const { changes } = this.insert.run(room, r.id, r.client_id, r.cid, r.created, r.username, json);
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
  }

  async openRoom(name: RoomName): Promise<RoomInfo> {
    this.statement('INSERT INTO rooms (name, epoch) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, randomBytes(8).toString('hex'));
    const row = this.statement('SELECT room, epoch, seq, records, bytes FROM rooms WHERE name = ?').get(name) as { room: number; epoch: string; seq: number; records: number; bytes: number };
    this.rooms.set(name, row.room);
    const { last } = this.statement('SELECT max(id) AS last FROM records WHERE room = ?').get(row.room) as { last: number | null };
    return { epoch: row.epoch, lastId: Math.max(row.seq, last ?? 0), usage: { records: row.records, bytes: row.bytes } };
  }

  async lookup(name: RoomName, clientId: string, cid: string): Promise<VidgetRecord | undefined> {
    const row = this.byCid.get(this.roomId(name), clientId, cid) as Row | undefined;
    return row && toRecord(row);
  }

  async reserveIds(name: RoomName, upTo: number): Promise<number> {
    const { seq } = this.statement('UPDATE rooms SET seq = max(seq, ?) WHERE room = ? RETURNING seq').get(upTo, this.roomId(name)) as { seq: number };
    return seq;
  }

  async projectUsage(project: string): Promise<Usage> {
    // Room names are "<project>/<widget>": a range on the name index ('0' sorts right after '/').
    const row = this.statement('SELECT coalesce(sum(records), 0) AS records, coalesce(sum(bytes), 0) AS bytes FROM rooms WHERE name > ? AND name < ?')
      .get(`${project}/`, `${project}0`) as Usage;
    return { records: row.records, bytes: row.bytes };
  }

  async expire(before: number, limit: number): Promise<Expired[]> {
    // Retention is opt-in; its global index on `created` is made only when it is used.
    this.db.exec('CREATE INDEX IF NOT EXISTS records_created_at ON records (created)');
    const expireBatch = this.db.transaction(() => {
      const rows = this.statement(`DELETE FROM records WHERE rowid IN (SELECT rowid FROM records WHERE created < ? LIMIT ?) RETURNING room, ${DATA_BYTES} AS bytes`)
        .all(before, limit) as Array<{ room: number; bytes: number }>;
      const byRoom = new Map<number, Usage>();
      for (const { room, bytes } of rows) {
        const usage = byRoom.get(room) ?? { records: 0, bytes: 0 };
        usage.records++;
        usage.bytes += bytes;
        byRoom.set(room, usage);
      }
      const out: Expired[] = [];
      for (const [room, usage] of byRoom) {
        const { name } = this.statement('UPDATE rooms SET records = max(0, records - ?), bytes = max(0, bytes - ?) WHERE room = ? RETURNING name')
          .get(usage.records, usage.bytes, room) as { name: string };
        out.push({ room: name, ...usage });
      }
      return out;
    });
    return expireBatch();
  }

  append(name: RoomName, records: StoredRecord[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.batch.push({ room: this.roomId(name), records, resolve, reject });
      // Rooms flush in their own callbacks of the same turn; one commit for all of them costs
      // one fsync-free WAL append instead of one per room.
      this.batchTimer ??= setImmediate(() => this.commitBatch());
    });
  }

  private commitBatch(): void {
    const batch = this.batch;
    this.batch = [];
    this.batchTimer = undefined;
    let results: AppendResult[][];
    try {
      results = this.appendBatch(batch);
    } catch {
      // One room's failure must not fail the others: each alone, in its own transaction.
      for (const item of batch) {
        try {
          item.resolve(this.appendMany(item.room, item.records));
        } catch (error) {
          item.reject(error);
        }
      }
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]!));
  }

  async replay(name: RoomName, from: ReplayFrom, limit: number): Promise<{ records: VidgetRecord[]; truncated: boolean }> {
    const room = this.roomId(name);
    const rows = ('afterId' in from
      ? this.statement(`SELECT ${COLUMNS} FROM records WHERE room = ? AND id > ? ORDER BY id DESC LIMIT ?`).all(room, from.afterId, limit + 1)
      : this.statement(`SELECT ${COLUMNS} FROM records WHERE room = ? AND created >= ? ORDER BY id DESC LIMIT ?`).all(room, from.createdSince, limit + 1)) as Row[];
    const truncated = rows.length > limit;
    if (truncated) rows.length = limit;
    return { records: rows.reverse().map(toRecord), truncated };
  }

  async search(name: RoomName, query: ValidQuery): Promise<SearchResult> {
    const room = this.rooms.get(name);
    if (room === undefined) {
      const known = this.db.prepare('SELECT room FROM rooms WHERE name = ?').get(name) as { room: number } | undefined;
      if (!known) return { records: [], total: 0, ...(query.groupBy ? { groups: [] } : {}) };
      this.rooms.set(name, known.room);
    }
    this.ensureIndexes(query);
    const where = whereSql(this.roomId(name), query);
    const { total } = this.statement(`SELECT count(*) AS total FROM records WHERE ${where.sql}`).get(...where.params) as { total: number };
    const records = query.limit === 0 || total <= query.offset
      ? []
      : (this.statement(`SELECT ${COLUMNS} FROM records WHERE ${where.sql} ORDER BY ${orderSql(query)} LIMIT ? OFFSET ?`)
          .all(...where.params, query.limit, query.offset) as Row[]).map(toRecord);
    const result: SearchResult = { records, total };
    if (query.groupBy) {
      const g = fieldSql(query.groupBy, 'json');
      const rows = this.statement(`SELECT ${g} AS value, count(*) AS count FROM records WHERE ${where.sql} GROUP BY ${g} ORDER BY count DESC, value LIMIT 1000`)
        .all(...where.params) as Array<{ value: string | null; count: number }>;
      // `->` yields JSON text, so true, 1 and "1" stay distinct groups; objects and arrays come back whole.
      result.groups = rows.map((r) => ({ value: r.value === null ? null : JSON.parse(r.value), count: r.count }));
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.batchTimer) {
      clearImmediate(this.batchTimer);
      this.commitBatch();
    }
    if (this.db.open) this.db.close();
  }

  private roomId(name: RoomName): number {
    let room = this.rooms.get(name);
    if (room === undefined) {
      const row = this.statement('SELECT room FROM rooms WHERE name = ?').get(name) as { room: number } | undefined;
      if (!row) throw new Error(`room ${name} was not opened`);
      room = row.room;
    }
    // Most recently used last, so the map stays bounded however many rooms were ever opened.
    this.rooms.delete(name);
    this.rooms.set(name, room);
    if (this.rooms.size > ROOM_CACHE) this.rooms.delete(this.rooms.keys().next().value!);
    return room;
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt) {
      // Refresh its place in the LRU order.
      this.statements.delete(sql);
    } else {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, stmt);
    return stmt;
  }

  private ensureIndexes(query: ValidQuery): void {
    if (!this.autoIndex) return;
    for (const { field, form } of dataFields(query)) {
      const expr = fieldSql(field, form);
      const name = `auto:${form}:${field.kind === 'data' ? field.path.join('.') : ''}`;
      if (this.indexed.has(name) || this.indexed.size >= this.maxAutoIndexes) continue;
      this.db.exec(`CREATE INDEX IF NOT EXISTS "${name}" ON records (room, ${expr})`);
      this.indexed.add(name);
    }
  }
}
