import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { ErrorCode, MAX_OFFSET, VidgetError, type ValidQuery, type VidgetRecord } from '../../protocol/index.js';
import { AutoIndexPolicy, type AutoIndexOptions } from './auto-index-policy.js';
import { AppendBatcher } from './append-batcher.js';
import { AutoIndexer } from './auto-indexer.js';
import { GroupCounter, type GroupCountOptions } from './group-counter.js';
import { migrate, quoteIdent } from './postgres-schema.js';
import { PgParams, pgField, pgGroup, pgKey, pgOrder, pgPageSegments, pgRoom, pgWhere, type PgSegment } from './postgres-query.js';
import { MAX_GROUPS } from './record-reader.js';
import { RoomIdCache } from './room-id-cache.js';
import { groupItems, newestWithin, PageBuilder, removedByRoom, type Page, type RecordRow } from './answer-parts.js';
import type { AppendResult, Expired, Removed, ReplayFrom, ReplayLimit, ReplayedRecord, RoomInfo, RoomLimits, RoomName, SharedStore, StoredRecord, Usage } from './store.js';

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` (the `DATABASE_URL`). */
  connectionString: string;
  /** The schema that holds Vidget's tables (created if missing). Default `vidget`. */
  schema?: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** Time budget of one search or catch-up read; past it, `query_timeout`. Default 1,000 ms. */
  searchTimeoutMs?: number;
  /** Most bytes of records and groups in one search answer. Default 1 MiB. */
  maxResultBytes?: number;
  /** Per-room expression indexes for slow, repeated `data.*` searches, built CONCURRENTLY; `false` for none. Default on. */
  autoIndex?: boolean | AutoIndexOptions;
  /**
   * Per-room counts of a `data` field's values, for slow, repeated unfiltered `groupBy` searches
   * on it (totals over every record; not `latestPerClient`): kept by every append and delete,
   * read instead of the room; `false` for none. Default on.
   */
  groupCounts?: boolean | GroupCountOptions;
  /** Called with errors of idle pool connections (PostgreSQL restarted): logged, never thrown. */
  onError?: (error: unknown) => void;
}

const COLUMNS = 'id, client_id, created, username, data::text AS data';
/** A group of a `groupBy`: its value as JSON text (null: the field is missing) and how many. */
type GroupRow = { value: string | null; count: number };
const MiB = 1024 * 1024;
/** PostgreSQL's identifier limit: longer auto-index names would be cut, so such fields get none. */
const MAX_IDENT = 63;
/**
 * `total` is counted exactly up to this many matches, then the answer says `totalExact: false`
 * (as Elasticsearch's `track_total_hits`): PostgreSQL cannot count from an expression index
 * alone, so an exact count of half a million matches reads half a million rows (~0.5 s).
 * The same as the deepest `offset`, so a page within reach is never skipped.
 */
const EXACT_TOTAL = MAX_OFFSET;
/** Planner statistics objects on searched `data` paths, at most this many per schema. */
const MAX_STATISTICS = 64;

/**
 * After an auto-index build: statistics on its expression (PostgreSQL 14+), so the planner
 * knows how many rows a filter keeps and how many groups a `groupBy` makes (without them it
 * guesses 0.5% and one group per row, and picks a slow index scan over a parallel one).
 */
function expressionStatistics(expr: string): string[] {
  const name = `auto_stat:${createHash('sha256').update(expr).digest('hex').slice(0, 16)}`;
  const ours = 'stxnamespace = current_schema()::regnamespace';
  return [
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_statistic_ext WHERE stxname = '${name}' AND ${ours})
       AND (SELECT count(*) FROM pg_statistic_ext WHERE ${ours}) < ${MAX_STATISTICS} THEN
       CREATE STATISTICS "${name}" ON (${expr}) FROM records; ANALYZE records; END IF; END $$`,
  ];
}

/** bigint and numeric as JS numbers: ids, times and counts stay far below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const toRecord = (r: RecordRow): VidgetRecord => ({ id: r.id, client_id: r.client_id, created: r.created, username: r.username, data: JSON.parse(r.data) });
const projectOf = (room: RoomName): string => room.slice(0, room.indexOf('/'));
/** Room names are "<project>/<widget>": the project's rooms are a range ('0' sorts right after '/'). */
const projectRange = (project: string): [string, string] => [`${project}/`, `${project}0`];
const encoder = new TextEncoder();

/**
 * Records in PostgreSQL, for several server processes behind a load balancer. Ids come from a
 * per-room sequence taken under the room row's lock in the publish transaction (`shared`): the
 * nodes agree on one order per room, and a record is visible only once every lower id of the room
 * is committed. `data` is `jsonb`; searches run under a statement timeout.
 */
export class PostgresStore implements SharedStore {
  readonly shared = true as const;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly rooms = new RoomIdCache();
  private readonly budgetMs: number;
  private readonly maxResultBytes: number;
  private readonly indexer: AutoIndexer | undefined;
  private readonly counter: GroupCounter | undefined;
  private readonly appends: AppendBatcher;
  private readonly ready: Promise<void>;

  constructor(options: PostgresStoreOptions) {
    this.schema = options.schema ?? 'vidget';
    const ident = quoteIdent(this.schema);
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      types,
      options: `-c search_path=${ident}`,
      connectionTimeoutMillis: 5_000,
    });
    // An idle connection dropped by the server (a restart) must not take the process down.
    this.pool.on('error', (error) => (options.onError ?? (() => {}))(error));
    this.appends = new AppendBatcher(this.pool);
    this.budgetMs = options.searchTimeoutMs ?? 1_000;
    this.maxResultBytes = options.maxResultBytes ?? MiB;
    this.ready = this.withClient((client) => migrate(client, this.schema));
    if (options.autoIndex !== false) {
      const policy = new AutoIndexPolicy(options.autoIndex === true ? {} : options.autoIndex);
      // CONCURRENTLY: publishes go on while the index builds.
      this.indexer = new AutoIndexer(policy, (sql) => this.ddl(sql), 0, {
        // No leading room column: PostgreSQL drops `room = N` from the conditions (the partial
        // predicate implies it), and an index led by room would then be scanned whole.
        // NULLS FIRST: read forwards it is the ascending order (missing values first), backwards
        // the descending one (missing last), so either sort stops after its limit.
        create: (name, roomId, expr) => (name.length > MAX_IDENT ? undefined : `CREATE INDEX CONCURRENTLY IF NOT EXISTS "${name}" ON records (${expr} NULLS FIRST, id) WHERE ${pgRoom(roomId)}`),
        drop: (name) => `DROP INDEX CONCURRENTLY IF EXISTS "${name}"`,
        field: (field) => pgField(field),
        afterBuild: expressionStatistics,
      });
    }
    if (options.groupCounts !== false) {
      this.counter = new GroupCounter((sql, params, timeoutMs) => this.runCount(sql, params, timeoutMs), options.groupCounts === true ? {} : options.groupCounts);
    }
    this.ready.catch(() => {}); // reported by the first call that awaits it
  }

  /** Resolves once the schema is up to date (rejects if PostgreSQL cannot be reached). */
  async open(): Promise<void> {
    await this.ready;
    const { rows } = await this.pool.query<{ name: string; project: string | null }>(
      `SELECT i.indexname AS name, r.name AS project FROM pg_indexes i LEFT JOIN rooms r ON r.room = substring(i.indexname FROM '^auto:(\\d+):')::bigint
       WHERE i.schemaname = $1 AND i.indexname LIKE 'auto:%'`,
      [this.schema],
    );
    this.indexer?.adopt(rows.map((r) => ({ name: r.name, project: r.project === null ? undefined : projectOf(r.project) })));
    const counted = await this.pool.query<{ room: number; name: string; path: string }>('SELECT room, name, unnest(counted) AS path FROM rooms WHERE cardinality(counted) > 0');
    this.counter?.adopt(counted.rows.map((r) => ({ roomId: r.room, project: projectOf(r.name), path: r.path })));
  }

  async openRoom(name: RoomName): Promise<RoomInfo> {
    await this.ready;
    await this.pool.query('INSERT INTO rooms (name, epoch) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(8).toString('hex')]);
    const { rows } = await this.pool.query<{ room: number; epoch: string; seq: number; last_record: number; records: number; bytes: number }>(
      'SELECT room, epoch, seq, last_record, records, bytes FROM rooms WHERE name = $1',
      [name],
    );
    const row = rows[0]!;
    this.rooms.remember(name, row.room);
    return { epoch: row.epoch, lastId: row.seq, lastRecord: row.last_record, usage: { records: row.records, bytes: row.bytes } };
  }

  async append(name: RoomName, records: StoredRecord[], limits?: RoomLimits): Promise<AppendResult[]> {
    return this.appends.append(await this.roomId(name), records, limits);
  }

  async lookup(name: RoomName, clientId: string, cid: string): Promise<VidgetRecord | undefined> {
    const room = await this.roomId(name);
    const { rows } = await this.pool.query<RecordRow>(`SELECT ${COLUMNS} FROM records WHERE room = $1 AND client_id = $2 AND cid = $3`, [room, clientId, cid]);
    return rows[0] && toRecord(rows[0]);
  }

  async replay(name: RoomName, from: ReplayFrom, limit: ReplayLimit): Promise<{ records: ReplayedRecord[]; truncated: boolean }> {
    const room = await this.roomId(name);
    const [term, value] = 'afterId' in from ? ['id > $2', from.afterId] : ['created >= $2', from.createdSince];
    const { rows } = await this.budgeted((client) => client.query<RecordRow>(`SELECT ${COLUMNS} FROM records WHERE room = $1 AND ${term} ORDER BY id DESC LIMIT $3`, [room, value, limit.records + 1]));
    return newestWithin(rows, limit);
  }

  async search(name: RoomName, query: ValidQuery): Promise<Uint8Array> {
    const room = await this.knownRoom(name);
    if (room === undefined) return encoder.encode(JSON.stringify({ records: [], total: 0, ...(query.groupBy ? { groups: [] } : {}) }));
    const started = performance.now();
    const countable = this.counter && GroupCounter.countable(query);
    try {
      const { body, counted } = await this.budgeted((client) => this.runSearch(client, room, query, countable));
      const elapsedMs = performance.now() - started;
      this.indexer?.noteSearch(projectOf(name), room, query, elapsedMs);
      if (countable) this.counter!.note(projectOf(name), room, countable, elapsedMs, counted);
      return body;
    } catch (error) {
      if (error instanceof VidgetError && error.code === ErrorCode.QueryTimeout) this.indexer?.noteSearch(projectOf(name), room, query, Infinity);
      throw error;
    }
  }

  async takeIds(name: RoomName, count: number): Promise<number> {
    const room = await this.roomId(name);
    const { rows } = await this.pool.query<{ seq: number }>('UPDATE rooms SET seq = seq + $2 WHERE room = $1 RETURNING seq', [room, count]);
    return rows[0]!.seq;
  }

  async projectUsage(project: string): Promise<Usage> {
    await this.ready;
    const { rows } = await this.pool.query<Usage>('SELECT coalesce(sum(records), 0) AS records, coalesce(sum(bytes), 0) AS bytes FROM rooms WHERE name > $1 AND name < $2', projectRange(project));
    return rows[0]!;
  }

  async delete(name: RoomName, ids: number[]): Promise<Removed> {
    const room = await this.roomId(name);
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ id: number; bytes: number }>('DELETE FROM records WHERE room = $1 AND id = ANY($2::bigint[]) RETURNING id, bytes', [room, ids]);
      const removed = { ids: rows.map((r) => r.id).sort((a, b) => a - b), records: rows.length, bytes: rows.reduce((n, r) => n + r.bytes, 0) };
      if (removed.records > 0) await this.uncount(client, room, removed);
      return removed;
    });
  }

  async deleteUser(project: string, userId: string): Promise<Array<Removed & { room: RoomName }>> {
    await this.ready;
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ room: number; id: number; bytes: number }>(
        'DELETE FROM records WHERE user_id = $1 AND room IN (SELECT room FROM rooms WHERE name > $2 AND name < $3) RETURNING room, id, bytes',
        [userId, ...projectRange(project)],
      );
      const out: Array<Removed & { room: RoomName }> = [];
      for (const [room, removed] of removedByRoom(rows)) {
        out.push({ room: await this.uncount(client, room, removed), ...removed, ids: removed.ids });
      }
      return out;
    });
  }

  async listRooms(project: string, limit = 1000): Promise<Array<Usage & { room: RoomName }>> {
    await this.ready;
    const { rows } = await this.pool.query<Usage & { room: RoomName }>('SELECT name AS room, records, bytes FROM rooms WHERE name > $1 AND name < $2 AND records > 0 ORDER BY name LIMIT $3', [
      ...projectRange(project),
      limit,
    ]);
    return rows;
  }

  async expire(before: number, limit: number): Promise<Expired[]> {
    await this.ready;
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ room: number; id: number; bytes: number }>(
        'DELETE FROM records WHERE ctid IN (SELECT ctid FROM records WHERE created < $1 LIMIT $2) RETURNING room, id, bytes',
        [before, limit],
      );
      const out: Expired[] = [];
      for (const [room, { records, bytes }] of removedByRoom(rows)) out.push({ room: await this.uncount(client, room, { records, bytes }), records, bytes });
      return out;
    });
  }

  /** Waits until the index builds and drops asked for so far are done (tests, benchmarks). */
  async indexesSettled(): Promise<void> {
    await Promise.all([this.indexer?.settled(), this.counter?.settled()]);
  }

  async close(): Promise<void> {
    await this.indexesSettled();
    await this.pool.end();
  }

  /** `countable`: the groupBy's path where counts may answer it; `counted` says whether they did. */
  private async runSearch(client: pg.PoolClient, room: number, query: ValidQuery, countable: string | undefined): Promise<{ body: Uint8Array; counted: boolean }> {
    const count = new PgParams();
    const where = pgWhere(room, query, count);
    const sql = `SELECT count(*) AS total FROM (SELECT 1 FROM records WHERE ${where} LIMIT ${EXACT_TOTAL + 1}) AS matches`;
    // A bitmap scan collects every match before the first row comes out, which the LIMIT
    // cannot stop: half a million matches cost ~150 ms of bitmap for a count that wants 10,001.
    await client.query('SET LOCAL enable_bitmapscan = off');
    const total = (await client.query<{ total: number }>(sql, count.values)).rows[0]!.total;
    await client.query('SET LOCAL enable_bitmapscan TO DEFAULT');
    const parts = total > EXACT_TOTAL ? [`"total":${EXACT_TOTAL}`, '"totalExact":false'] : [`"total":${total}`];
    let left = this.maxResultBytes;
    let counted = false;
    if (query.groupBy) {
      const fromCounts = countable === undefined ? undefined : await this.countedGroups(client, room, countable);
      counted = fromCounts !== undefined;
      const groups = groupItems(fromCounts ?? (await this.groups(client, room, query)), MAX_GROUPS, left);
      left -= groups.bytes;
      parts.push(`"groups":[${groups.items.join(',')}]`, ...(groups.more ? ['"groupsTruncated":true'] : []));
    }
    const page = query.after === undefined && total <= query.offset ? { items: [], more: false, truncated: false, last: 0 } : await this.page(client, room, query, left);
    parts.unshift(`"records":[${page.items.join(',')}]`);
    if (page.more || page.truncated) parts.push(`"next":${page.last}`);
    if (page.truncated) parts.push('"truncated":true');
    return { body: encoder.encode(`{${parts.join(',')}}`), counted };
  }

  private async groups(client: pg.PoolClient, room: number, query: ValidQuery): Promise<GroupRow[]> {
    const params = new PgParams();
    const where = pgWhere(room, query, params);
    const g = pgGroup(query.groupBy!);
    const sql = `SELECT ${g.value} AS value, count(*) AS count FROM records WHERE ${where} GROUP BY ${g.key} ORDER BY count(*) DESC, ${g.value} COLLATE "C" LIMIT ${MAX_GROUPS + 1}`;
    return (await client.query<GroupRow>(sql, params.values)).rows;
  }

  /**
   * The groups of `path` from the room's counts, in the order {@link groups} gives them, or
   * undefined where the path is not counted. One statement: one snapshot of the flag and the counts.
   */
  private async countedGroups(client: pg.PoolClient, room: number, path: string): Promise<GroupRow[] | undefined> {
    const { rows } = await client.query<GroupRow & { counted: boolean }>(
      `SELECT $2 = ANY (r.counted) AS counted, g.value, g.count FROM rooms r LEFT JOIN LATERAL (
         SELECT c.value::text AS value, c.count FROM group_counts c WHERE c.room = r.room AND c.path = $2 AND c.count > 0
         ORDER BY c.count DESC, c.value::text COLLATE "C" LIMIT ${MAX_GROUPS + 1}) g ON true
       WHERE r.room = $1`,
      [room, path],
    );
    if (!rows[0]?.counted) return undefined;
    return rows.filter((r) => r.count !== null);
  }

  /** A statement of the group counter, in a transaction of its own under `timeoutMs`. */
  private async runCount(sql: string, params: unknown[], timeoutMs?: number): Promise<void> {
    await this.transaction(async (client) => {
      if (timeoutMs !== undefined) await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      await client.query(sql, params);
    });
  }

  private async page(client: pg.PoolClient, room: number, query: ValidQuery, maxBytes: number): Promise<Page> {
    const builder = new PageBuilder(query.limit, maxBytes);
    for (const segment of await this.segments(client, room, query)) {
      const params = new PgParams();
      const where = pgWhere(room, query, params);
      const { where: extra, order } = segment(params);
      const offset = query.after === undefined ? query.offset : 0;
      const sql = `SELECT ${COLUMNS} FROM records WHERE ${where}${extra ? ` AND ${extra}` : ''} ORDER BY ${order} LIMIT ${params.add(builder.wanted)} OFFSET ${params.add(offset)}`;
      for (const row of (await client.query<RecordRow>(sql, params.values)).rows) {
        if (!builder.add(row)) return builder.page;
      }
    }
    return builder.page;
  }

  private async segments(client: pg.PoolClient, room: number, query: ValidQuery): Promise<PgSegment[]> {
    if (query.after === undefined) return [() => ({ where: '', order: pgOrder(query) })];
    const { rows } = await client.query<{ k: string | number | null }>(`SELECT ${pgKey(query.sortField)} AS k FROM records WHERE ${pgRoom(room)} AND id = $1`, [query.after]);
    if (rows.length === 0) throw new VidgetError(ErrorCode.BadQuery, `after: no record ${query.after} in this room`);
    return pgPageSegments(query, rows[0]!.k, query.after);
  }

  /** Runs reads in one read-only transaction under the time budget; a timeout is `query_timeout`. */
  private async budgeted<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.ready;
    const client = await this.pool.connect();
    let broken = false;
    try {
      // No JIT: compiling costs more than it saves on searches that fit a budget of a second.
      await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.round(this.budgetMs))}; SET LOCAL jit = off`);
      const out = await run(client);
      await client.query('COMMIT');
      return out;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      if ((error as { code?: string }).code === '57014') throw new VidgetError(ErrorCode.QueryTimeout, 'the search ran out of time; narrow it or page with after');
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private async transaction<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.ready;
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await run(client);
      await client.query('COMMIT');
      return out;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private async withClient<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await run(client);
    } finally {
      client.release();
    }
  }

  private async ddl(sql: string): Promise<number> {
    const started = performance.now();
    await this.pool.query(sql);
    return performance.now() - started;
  }

  /** Takes removed records off a room's usage counters; returns the room's name. */
  private async uncount(client: pg.PoolClient, room: number, gone: Usage): Promise<RoomName> {
    const { rows } = await client.query<{ name: string }>('UPDATE rooms SET records = greatest(0, records - $2), bytes = greatest(0, bytes - $3) WHERE room = $1 RETURNING name', [
      room,
      gone.records,
      gone.bytes,
    ]);
    return rows[0]!.name;
  }

  private async knownRoom(name: RoomName): Promise<number | undefined> {
    await this.ready;
    let room = this.rooms.get(name);
    if (room === undefined) {
      room = (await this.pool.query<{ room: number }>('SELECT room FROM rooms WHERE name = $1', [name])).rows[0]?.room;
      if (room !== undefined) this.rooms.remember(name, room);
    }
    return room;
  }

  private async roomId(name: RoomName): Promise<number> {
    const room = await this.knownRoom(name);
    if (room === undefined) throw new Error(`room ${name} was not opened`);
    return room;
  }
}
