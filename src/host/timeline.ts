/** Anything with a time range: shown while `start <= t < end` (seconds). */
export interface Cue {
  start: number;
  end: number;
}

/** What moving the playhead changed. */
export interface TimelineChange<C> {
  entered: C[];
  exited: C[];
}

// Index of the first cue whose start (end) is greater than `value`: binary searches written out
// per field, since a keyed `cue[key]` read is markedly slower here than a direct one.
function afterStart(list: Cue[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.start <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
function afterEnd(list: Cue[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.end <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Returned by moves that change nothing (most frames), so they allocate nothing. */
const NO_CHANGE: TimelineChange<never> = Object.freeze({ entered: Object.freeze([]) as never[], exited: Object.freeze([]) as never[] });

/**
 * Which cues are active at the playhead, kept up to date in O(log n + k) per move: a cue's state
 * can only differ between t0 and t1 if its start or end lies in (min, max], so two binary searches
 * over cues sorted by start and by end find every candidate. Seeking across a cue's whole range
 * finds it, sees it inactive on both sides, and reports nothing: it does not flash.
 */
export class Timeline<C extends Cue> {
  private readonly byStart: C[] = [];
  private readonly byEnd: C[] = [];
  private readonly active = new Set<C>();
  private t = Number.NEGATIVE_INFINITY;

  /** The cues active now. */
  get current(): ReadonlySet<C> {
    return this.active;
  }

  /** How many cues the timeline holds. */
  get size(): number {
    return this.byStart.length;
  }

  /** Adds a cue; reports it entered if the playhead is inside it. */
  add(cue: C): TimelineChange<C> {
    this.byStart.splice(afterStart(this.byStart, cue.start), 0, cue);
    this.byEnd.splice(afterEnd(this.byEnd, cue.end), 0, cue);
    if (!this.isActive(cue, this.t)) return NO_CHANGE;
    this.active.add(cue);
    return { entered: [cue], exited: [] };
  }

  /** Removes a cue; reports it exited if it was active. */
  remove(cue: C): TimelineChange<C> {
    for (const list of [this.byStart, this.byEnd]) {
      const i = list.indexOf(cue);
      if (i >= 0) list.splice(i, 1);
    }
    return this.active.delete(cue) ? { entered: [], exited: [cue] } : NO_CHANGE;
  }

  /** Moves the playhead to `t` (forward, backward or a seek) and reports what changed, exits first. */
  seek(t: number): TimelineChange<C> {
    if (t === this.t || Number.isNaN(t)) return NO_CHANGE;
    const lo = Math.min(this.t, t);
    const hi = Math.max(this.t, t);
    this.t = t;
    let change: TimelineChange<C> | undefined;
    const { byStart, byEnd } = this;
    for (let i = afterStart(byStart, lo); i < byStart.length && byStart[i]!.start <= hi; i++) change = this.visit(byStart[i]!, t, change);
    for (let i = afterEnd(byEnd, lo); i < byEnd.length && byEnd[i]!.end <= hi; i++) change = this.visit(byEnd[i]!, t, change);
    return change ?? NO_CHANGE;
  }

  /** Updates one candidate's state at `t`, recording a change (the record is made on the first one). */
  private visit(cue: C, t: number, change: TimelineChange<C> | undefined): TimelineChange<C> | undefined {
    const now = this.isActive(cue, t);
    if (now === this.active.has(cue)) return change;
    change ??= { entered: [], exited: [] };
    if (now) {
      this.active.add(cue);
      change.entered.push(cue);
    } else {
      this.active.delete(cue);
      change.exited.push(cue);
    }
    return change;
  }

  private isActive(cue: C, t: number): boolean {
    return cue.start <= t && t < cue.end;
  }
}
