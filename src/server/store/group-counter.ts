import type { ValidQuery } from '../../protocol/index.js';
import { AutoIndexPolicy, type AutoIndexOptions } from './auto-index-policy.js';

/** When the PostgreSQL store starts counting a field's values per room, and when it stops. */
export interface GroupCountOptions extends Omit<AutoIndexOptions, 'buildGap'> {
  /** A field with more groups than this when counting would start is not counted. Default 1,000. */
  maxGroups?: number;
  /** How long the first count of a room may hold the room's appends. Default 5,000 ms. */
  startTimeoutMs?: number;
}

/** Runs one statement of the counter (`SELECT count_groups(…)`) with its parameters. */
export type RunCount = (sql: string, params: unknown[], timeoutMs?: number) => Promise<unknown>;

/** Names are `count:<room>:<path>`, path as stored (`a.b`). */
const NAME = /^count:(\d+):([A-Za-z0-9_.]+)$/;
/** Fields refused (too many groups) remembered at once, so they do not ask for another scan. */
const MAX_REFUSED = 1024;

/**
 * Decides which `(room, data path)` pairs have their values counted in `group_counts` (see
 * migration 4): a field asked for by slow, repeated unfiltered `groupBy` searches, with the same
 * caps, fairness and idle drop as the auto-indexes ({@link AutoIndexPolicy}). A counted field's
 * groupBy reads its few count rows instead of the room. Starting a count scans the room under its
 * row lock (the room's appends wait, once); a field with too many groups is refused.
 */
export class GroupCounter {
  private readonly policy: AutoIndexPolicy;
  private readonly maxGroups: number;
  private readonly startTimeoutMs: number;
  private readonly refused = new Set<string>();
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly run: RunCount,
    options: GroupCountOptions = {},
  ) {
    this.policy = new AutoIndexPolicy({ slowMs: 50, perProject: 4, total: 32, ...options });
    this.maxGroups = options.maxGroups ?? 1_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 5_000;
  }

  /** The path a query's groups can be read from counts by (an unfiltered groupBy on a `data` field), or undefined. */
  static countable(query: ValidQuery): string | undefined {
    const field = query.groupBy;
    if (field?.kind !== 'data' || query.filters.length > 0 || query.latestPerClient) return undefined;
    return field.path.join('.');
  }

  /** Counts found in the database at start-up: their idle time starts now. */
  adopt(counted: Array<{ roomId: number; project: string; path: string }>): void {
    for (const { roomId, project, path } of counted) this.policy.adopt(`count:${roomId}:${path}`, project);
  }

  /**
   * A countable search ran: `served` if counts answered it. Slow ones earn their field a count;
   * a count held here that no longer answers (stopped by another node) is forgotten.
   */
  note(project: string, roomId: number, path: string, elapsedMs: number, served: boolean): void {
    const name = `count:${roomId}:${path}`;
    if (!served && this.policy.held.includes(name)) this.policy.abandon(name);
    if (!this.refused.has(name)) {
      const { build, drop } = this.policy.touch(project, [name], served || elapsedMs >= this.policy.slowMs);
      if (drop) this.enqueue(this.stop(drop));
      if (build) this.enqueue(this.start(build));
    }
    for (const idle of this.policy.sweep()) this.enqueue(this.stop(idle));
  }

  /** Waits for the counts being started or stopped. */
  settled(): Promise<void> {
    return this.work;
  }

  private start(name: string): () => Promise<void> {
    const [, roomId, path] = NAME.exec(name)!;
    return () =>
      this.run('SELECT count_groups($1, $2, $3)', [Number(roomId), path, this.maxGroups], this.startTimeoutMs).then(
        () => undefined,
        () => {
          // Too many groups, or the room too large to count within the time: searched as before.
          this.policy.abandon(name);
          if (this.refused.size >= MAX_REFUSED) this.refused.delete(this.refused.values().next().value!);
          this.refused.add(name);
        },
      );
  }

  private stop(name: string): () => Promise<void> {
    const [, roomId, path] = NAME.exec(name)!;
    return () => this.run('SELECT uncount_groups($1, $2)', [Number(roomId), path]).then(() => undefined);
  }

  private enqueue(step: () => Promise<void>): void {
    this.work = this.work.then(step).catch(() => undefined);
  }
}
