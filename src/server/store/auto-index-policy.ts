/** When the SQLite store makes an index for a field, and when it drops one. */
export interface AutoIndexOptions {
  /** Slow searches touching one field of one room, within `windowMs`, that earn it an index. Default 3. */
  searches?: number;
  /** The window those searches must fall in. Default 10 minutes. */
  windowMs?: number;
  /** A search counts only if it took at least this long (a fast one needs no index). Default 5 ms. */
  slowMs?: number;
  /** Most auto-indexes of one project. Default 8. */
  perProject?: number;
  /**
   * Most auto-indexes in the store. Every publish checks each index's room, about 0.2 µs per
   * index (measured), so this bounds what indexes add to the publish path. Default 32.
   */
  total?: number;
  /** An index no search touched for this long is dropped. Default 24 hours. */
  idleMs?: number;
  /** After a build of d ms, the next waits 10 d: builds hold SQLite's write lock (publishes wait). Default 10. */
  buildGap?: number;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** What the policy asks for after a search: an index to build, and one to drop to make room. */
export interface IndexDecision {
  build?: string;
  drop?: string;
}

interface Tracked {
  project: string;
  /** Times of recent slow searches (candidates) or of recent uses (indexes). */
  hits: number[];
  lastUsed: number;
}

/** Candidate fields tracked at once; older ones are forgotten (a junk-field flood stays bounded). */
const MAX_CANDIDATES = 1024;

/**
 * Auto-index bookkeeping, with no I/O: which `(room, field)` indexes exist or are being built,
 * which fields are searched slowly and often enough to earn one, and which index gives way when a
 * cap is reached. Names identify indexes (`auto:<room>:<form>:<path>`); the caller builds and drops.
 *
 * Fairness: a project never holds more than `perProject` indexes. When the project is full, its
 * least-used index gives way to a field searched more often in the window. When the store is
 * full, the project holding the most indexes gives way, so a flood of junk fields in some
 * projects cannot keep a real field of another project from being indexed.
 */
export class AutoIndexPolicy {
  readonly searches: number;
  readonly windowMs: number;
  readonly slowMs: number;
  readonly perProject: number;
  readonly total: number;
  readonly idleMs: number;
  readonly now: () => number;
  private readonly candidates = new Map<string, Tracked>();
  private readonly indexes = new Map<string, Tracked>();
  private lastSweep: number;

  constructor(options: AutoIndexOptions = {}) {
    this.searches = options.searches ?? 3;
    this.windowMs = options.windowMs ?? 10 * 60_000;
    this.slowMs = options.slowMs ?? 5;
    this.perProject = options.perProject ?? 8;
    this.total = options.total ?? 32;
    this.idleMs = options.idleMs ?? 24 * 3_600_000;
    this.now = options.now ?? Date.now;
    this.lastSweep = this.now();
  }

  /** Indexes found in the file at start-up: their idle time counts from now. */
  adopt(name: string, project: string): void {
    this.indexes.set(name, { project, hits: [], lastUsed: this.now() });
  }

  /** The index names currently held or being built. */
  get held(): string[] {
    return [...this.indexes.keys()];
  }

  /**
   * A search of `project` touched these index names (built or not) and was `slow` or not. Returns
   * at most one build (with the drop that makes room for it).
   */
  touch(project: string, names: string[], slow: boolean): IndexDecision {
    const now = this.now();
    let ready: string | undefined;
    for (const name of names) {
      const index = this.indexes.get(name);
      if (index) {
        this.hit(index, now);
        continue;
      }
      if (!slow) continue;
      const candidate = this.candidates.get(name) ?? { project, hits: [], lastUsed: now };
      this.candidates.delete(name); // re-inserted last: the Map's order is least recently seen first
      this.candidates.set(name, candidate);
      this.hit(candidate, now);
      if (!ready && candidate.hits.length >= this.searches) ready = name;
    }
    while (this.candidates.size > MAX_CANDIDATES) this.candidates.delete(this.candidates.keys().next().value!);
    return ready ? this.admit(ready) : {};
  }

  /** A build failed or was put off: the field must earn its place again. */
  abandon(name: string): void {
    this.indexes.delete(name);
    this.candidates.delete(name);
  }

  /** Indexes no search touched for `idleMs`: forgotten here, for the caller to drop. */
  idle(): string[] {
    const cutoff = this.now() - this.idleMs;
    const names = [...this.indexes].filter(([, index]) => index.lastUsed < cutoff).map(([name]) => name);
    for (const name of names) this.indexes.delete(name);
    return names;
  }

  /** {@link idle}, at most once per quarter of `idleMs` (and per minute); nothing in between. Called after every search. */
  sweep(): string[] {
    const now = this.now();
    if (now - this.lastSweep < Math.min(this.idleMs / 4, 60_000)) return [];
    this.lastSweep = now;
    return this.idle();
  }

  private hit(tracked: Tracked, now: number): void {
    tracked.lastUsed = now;
    tracked.hits.push(now);
    while (tracked.hits.length > 0 && tracked.hits[0]! < now - this.windowMs) tracked.hits.shift();
    // Enough to compare uses; a hot field must not grow an unbounded list.
    if (tracked.hits.length > 64) tracked.hits.splice(0, tracked.hits.length - 64);
  }

  private admit(name: string): IndexDecision {
    const candidate = this.candidates.get(name)!;
    const mine = [...this.indexes].filter(([, index]) => index.project === candidate.project);
    let drop: string | undefined;
    if (mine.length >= this.perProject) {
      drop = this.weakest(mine, candidate);
      if (!drop) return {};
    } else if (this.indexes.size >= this.total) {
      const largest = this.largestProject();
      // A project holding fewer takes a slot from the one holding the most, however hot that
      // one's fields are: junk fields spread over many projects cannot starve another's real one.
      drop = mine.length + 1 < largest.length ? this.weakest(largest) : this.weakest(largest, candidate);
      if (!drop) return {};
    }
    if (drop) this.indexes.delete(drop);
    this.candidates.delete(name);
    this.indexes.set(name, { project: candidate.project, hits: [...candidate.hits], lastUsed: candidate.lastUsed });
    return drop ? { build: name, drop } : { build: name };
  }

  /** The least-used index of `among`; with a candidate, only if the candidate was searched more often in the window. */
  private weakest(among: Array<[string, Tracked]>, candidate?: Tracked): string | undefined {
    const now = this.now();
    const uses = (t: Tracked) => t.hits.filter((at) => at >= now - this.windowMs).length;
    const [name, index] = among.reduce((a, b) => (uses(b[1]) < uses(a[1]) || (uses(b[1]) === uses(a[1]) && b[1].lastUsed < a[1].lastUsed) ? b : a));
    return !candidate || uses(index) < uses(candidate) ? name : undefined;
  }

  /** The indexes of the project holding the most. */
  private largestProject(): Array<[string, Tracked]> {
    const byProject = new Map<string, Array<[string, Tracked]>>();
    for (const entry of this.indexes) byProject.set(entry[1].project, [...(byProject.get(entry[1].project) ?? []), entry]);
    return [...byProject.values()].reduce((a, b) => (b.length > a.length ? b : a));
  }
}
