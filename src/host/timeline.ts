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

/** Index of the first element for which `before(element)` is false (binary search). */
function bound<C>(list: C[], before: (c: C) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

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
    this.byStart.splice(bound(this.byStart, (c) => c.start <= cue.start), 0, cue);
    this.byEnd.splice(bound(this.byEnd, (c) => c.end <= cue.end), 0, cue);
    if (!this.isActive(cue, this.t)) return { entered: [], exited: [] };
    this.active.add(cue);
    return { entered: [cue], exited: [] };
  }

  /** Removes a cue; reports it exited if it was active. */
  remove(cue: C): TimelineChange<C> {
    for (const list of [this.byStart, this.byEnd]) {
      const i = list.indexOf(cue);
      if (i >= 0) list.splice(i, 1);
    }
    return this.active.delete(cue) ? { entered: [], exited: [cue] } : { entered: [], exited: [] };
  }

  /** Moves the playhead to `t` (forward, backward or a seek) and reports what changed, exits first. */
  seek(t: number): TimelineChange<C> {
    const change: TimelineChange<C> = { entered: [], exited: [] };
    if (t === this.t || Number.isNaN(t)) return change;
    const lo = Math.min(this.t, t);
    const hi = Math.max(this.t, t);
    this.t = t;
    const visit = (cue: C) => {
      const now = this.isActive(cue, t);
      if (now === this.active.has(cue)) return;
      if (now) {
        this.active.add(cue);
        change.entered.push(cue);
      } else {
        this.active.delete(cue);
        change.exited.push(cue);
      }
    };
    for (let i = bound(this.byStart, (c) => c.start <= lo); i < this.byStart.length && this.byStart[i]!.start <= hi; i++) visit(this.byStart[i]!);
    for (let i = bound(this.byEnd, (c) => c.end <= lo); i < this.byEnd.length && this.byEnd[i]!.end <= hi; i++) visit(this.byEnd[i]!);
    return change;
  }

  private isActive(cue: C, t: number): boolean {
    return cue.start <= t && t < cue.end;
  }
}
