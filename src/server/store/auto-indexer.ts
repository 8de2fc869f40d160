import type { FieldRef, ValidQuery } from '../../protocol/index.js';
import type { AutoIndexPolicy } from './auto-index-policy.js';
import { dataFields, fieldSql, roomSql } from './sqlite-query.js';

/** Names of indexes this store made: `auto:<room>:<form>:<path>`. */
const NAME = /^auto:(\d+):(value|json):[A-Za-z0-9_.]+$/;
/** Names of the global indexes earlier versions made (`auto:<form>:<path>`), dropped at start-up. */
const LEGACY = /^auto:(value|json):/;

/** Runs one DDL statement where it cannot block the event loop; resolves with the time it took. */
export type RunDdl = (sql: string) => Promise<number>;

/** The statements of one database: build an index (undefined: this field gets none), drop one, a field's expression. */
export interface IndexDialect {
  create(name: string, roomId: number, expr: string): string | undefined;
  drop(name: string): string;
  field(field: FieldRef & { kind: 'data' }, form: 'value' | 'json'): string;
  /** Statements run after a build succeeds (the planner's statistics on the expression); failures are ignored. */
  afterBuild?(expr: string): string[];
}

/** SQLite's: an expression index on `(room, expr, id)`, partial to the room. */
const SQLITE: IndexDialect = {
  create: (name, roomId, expr) => `CREATE INDEX IF NOT EXISTS "${name}" ON records (room, ${expr}, id) WHERE ${roomSql(roomId)}`,
  drop: (name) => `DROP INDEX IF EXISTS "${name}"`,
  field: (field, form) => fieldSql(field, form),
};

/**
 * Builds and drops the per-room expression indexes that {@link AutoIndexPolicy} asks for, one
 * statement at a time, off the event loop. Each index is partial (`WHERE room = N`) and leads
 * with `(room, expr, id)`: it serves filters, sorts and keyset pages on that field in that room,
 * costs a build proportional to that room (plus a scan of the table's leaf pages), and nothing at
 * all for another room's publishes beyond a check of the room id.
 */
export class AutoIndexer {
  private work: Promise<void> = Promise.resolve();
  private building = false;
  /** The next build may start at this time (performance.now()). */
  private notBefore = 0;

  constructor(
    private readonly policy: AutoIndexPolicy,
    private readonly runDdl: RunDdl,
    /** After a build of d ms the next waits gap × d. */
    private readonly gap: number,
    private readonly dialect: IndexDialect = SQLITE,
  ) {}

  /** Takes over the indexes found in the file: ours are kept (their idle time starts now), legacy ones dropped. */
  adopt(indexes: Array<{ name: string; project: string | undefined }>): void {
    for (const { name, project } of indexes) {
      if (NAME.test(name) && project !== undefined) this.policy.adopt(name, project);
      else if (LEGACY.test(name) || NAME.test(name)) this.enqueue(this.dialect.drop(name));
    }
  }

  /** Counts a search (or a timed-out one, as `Infinity`) towards its fields' indexes, and drops idle ones. */
  noteSearch(project: string, roomId: number, query: ValidQuery, elapsedMs: number): void {
    const wanted = new Map(dataFields(query).map(({ field, form }) => [`auto:${roomId}:${form}:${field.path.join('.')}`, this.dialect.field(field, form)]));
    if (wanted.size > 0) {
      const { build, drop } = this.policy.touch(project, [...wanted.keys()], elapsedMs >= this.policy.slowMs);
      const sql = build && this.dialect.create(build, roomId, wanted.get(build)!);
      if (build && !sql) this.policy.abandon(build);
      else if (build && sql) this.build(build, sql, drop, this.dialect.afterBuild?.(wanted.get(build)!) ?? []);
    }
    for (const name of this.policy.sweep()) this.enqueue(this.dialect.drop(name));
  }

  /** Waits for the statement in progress (and those queued) to finish. */
  settled(): Promise<void> {
    return this.work;
  }

  private build(name: string, sql: string, drop: string | undefined, after: string[]): void {
    if (this.building || performance.now() < this.notBefore) {
      // Too soon after the last build: the field earns its place again later.
      this.policy.abandon(name);
      return;
    }
    this.building = true;
    if (drop) this.enqueue(this.dialect.drop(drop));
    this.work = this.work
      .then(() => this.runDdl(sql))
      .then(
        async (ms) => {
          for (const statement of after) ms += await this.runDdl(statement).catch(() => 0);
          this.notBefore = performance.now() + this.gap * ms;
        },
        () => this.policy.abandon(name), // e.g. the disk cap: searches still work without it
      )
      .finally(() => {
        this.building = false;
      });
  }

  private enqueue(sql: string): void {
    this.work = this.work
      .then(() => this.runDdl(sql))
      .then(
        () => undefined,
        () => undefined,
      );
  }
}
