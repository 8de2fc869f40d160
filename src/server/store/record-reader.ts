import type Database from 'better-sqlite3';
import { ErrorCode, VidgetError, type ValidQuery } from '../../protocol/index.js';
import { groupItems, newestWithin, PageBuilder, type Page, type RecordRow } from './answer-parts.js';
import type { ReplayFrom, ReplayLimit, ReplayedRecord } from './store.js';
import { BUDGET_SQL, fieldSql, groupSql, orderSql, pageSegments, roomSql, whereSql, type PageSegment, type SqlFragment, type SqlValue } from './sqlite-query.js';

/** Most groups a `groupBy` answers, largest first. */
export const MAX_GROUPS = 1000;
const STATEMENT_CACHE = 256;
const COLUMNS = 'id, client_id, created, username, json(data) AS data';
const encoder = new TextEncoder();

/** A search's answer and the time SQLite took. */
export interface SearchOutput {
  /**
   * The answer as UTF-8 JSON, in its own ArrayBuffer: a worker transfers it without a copy, and
   * the event loop sends it as it is. Kept out of the JS heap on purpose: as strings, answers of
   * up to 1 MiB each made the main thread's garbage collector pause for up to 60 ms (measured).
   */
  body: Uint8Array;
  elapsedMs: number;
}

/** Caps on one search: its time budget and the answer's size. */
export interface SearchLimits {
  budgetMs: number;
  maxBytes: number;
}

/**
 * The read side of the SQLite store: searches and catch-up reads on one connection, each within a
 * time budget and a byte cap, answering JSON text. It runs in a search worker (its own read-only
 * connection) or, for a `:memory:` store, on the store's connection.
 */
export class RecordReader {
  private readonly statements = new Map<string, Database.Statement>();
  private deadline = Infinity;

  constructor(private readonly db: Database.Database) {
    // Called by BUDGET_SQL on one row in 1,024 of every scan; throwing aborts the statement.
    db.function('vidget_budget', { deterministic: false, directOnly: true }, () => {
      if (performance.now() > this.deadline) throw new VidgetError(ErrorCode.QueryTimeout, 'the search ran out of time; narrow it or page with after');
      return 1;
    });
  }

  /** Runs a validated search over one room. */
  search(roomId: number, query: ValidQuery, limits: SearchLimits): SearchOutput {
    return this.budgeted(limits.budgetMs, (started) => {
      const where = whereSql(roomId, query);
      const { total } = this.statement(`SELECT count(*) AS total FROM records WHERE ${where.sql}`).get(...where.params) as { total: number };
      const parts = [`"total":${total}`];
      let left = limits.maxBytes;
      if (query.groupBy) {
        const groups = this.groups(query, where, left);
        left -= groups.bytes;
        parts.push(`"groups":[${groups.items.join(',')}]`, ...(groups.more ? ['"groupsTruncated":true'] : []));
      }
      const page = query.after === undefined && total <= query.offset ? { items: [], more: false, truncated: false, last: 0 } : this.page(roomId, query, where, left);
      parts.unshift(`"records":[${page.items.join(',')}]`);
      if (page.more || page.truncated) parts.push(`"next":${page.last}`);
      if (page.truncated) parts.push('"truncated":true');
      return { body: encoder.encode(`{${parts.join(',')}}`), elapsedMs: performance.now() - started };
    });
  }

  /** The newest records after a position, within the record and byte caps, oldest first. */
  replay(roomId: number, from: ReplayFrom, limit: ReplayLimit, budgetMs: number): { records: ReplayedRecord[]; truncated: boolean } {
    return this.budgeted(budgetMs, () => {
      const [term, value] = 'afterId' in from ? ['id > ?', from.afterId] : ['created >= ?', from.createdSince];
      const stmt = this.statement(`SELECT ${COLUMNS} FROM records WHERE ${roomSql(roomId)} AND ${BUDGET_SQL} AND ${term} ORDER BY id DESC LIMIT ?`);
      return newestWithin(stmt.iterate(value, limit.records + 1) as IterableIterator<RecordRow>, limit);
    });
  }

  private budgeted<T>(budgetMs: number, run: (started: number) => T): T {
    const started = performance.now();
    this.deadline = started + budgetMs;
    try {
      return run(started);
    } finally {
      this.deadline = Infinity;
    }
  }

  /** The largest groups, as `{"value":…,"count":n}` texts, within `maxBytes`. */
  private groups(query: ValidQuery, where: SqlFragment, maxBytes: number): { items: string[]; bytes: number; more: boolean } {
    const g = groupSql(query.groupBy!);
    const rows = this.statement(`SELECT ${g.value} AS value, count(*) AS count FROM records WHERE ${where.sql} GROUP BY ${g.key} ORDER BY count DESC, value LIMIT ${MAX_GROUPS + 1}`).all(
      ...where.params,
    ) as Array<{ value: string | null; count: number }>;
    return groupItems(rows, MAX_GROUPS, maxBytes);
  }

  /**
   * One page of records: `limit` of them (reading one more to know whether more follow), or
   * fewer once `maxBytes` is reached (at least one, so `next` always moves on).
   */
  private page(roomId: number, query: ValidQuery, where: SqlFragment, maxBytes: number): Page {
    const builder = new PageBuilder(query.limit, maxBytes);
    for (const segment of this.segments(roomId, query)) {
      const sql = `SELECT ${COLUMNS} FROM records WHERE ${where.sql}${segment.where.sql ? ` AND ${segment.where.sql}` : ''} ORDER BY ${segment.order} LIMIT ? OFFSET ?`;
      const offset = query.after === undefined ? query.offset : 0;
      for (const row of this.statement(sql).iterate(...where.params, ...segment.where.params, builder.wanted, offset) as IterableIterator<RecordRow>) {
        if (!builder.add(row)) return builder.page;
      }
    }
    return builder.page;
  }

  /** Where the page starts: the whole sorted set, or after the `after` record's sort key. */
  private segments(roomId: number, query: ValidQuery): PageSegment[] {
    if (query.after === undefined) return [{ where: { sql: '', params: [] }, order: orderSql(query) }];
    // The cursor is a record, so its sort key is read here, exact, whatever its size.
    const row = this.statement(`SELECT ${fieldSql(query.sortField)} AS k FROM records WHERE ${roomSql(roomId)} AND id = ?`).get(query.after) as { k: SqlValue } | undefined;
    if (!row) throw new VidgetError(ErrorCode.BadQuery, `after: no record ${query.after} in this room`);
    return pageSegments(query, row.k, query.after);
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
}
