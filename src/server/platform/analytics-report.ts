import { ErrorCode, VidgetError, isValidName, type AnalyticsReport } from '../../protocol/index.js';

/** Players one connection may report for (its page's players). */
export const MAX_SLOTS = 8;
/** Widgets one report may name. */
const MAX_WIDGETS = 32;

/** A count from a client: a finite number, floored at 0 and clamped to `max`; anything else is 0. */
const count = (v: unknown, max: number): number => (typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(0, v)) : 0);

/**
 * Reads the `data` of a player's ephemeral publish in the project room: `{ analytics: [report] }`
 * with one report per player of the page. The shape is checked (`bad_frame` naming what is
 * wrong); numbers are clamped rather than refused (a negative or absurd watch time counts as 0 or
 * as the most plausible), since reports come from clients that may be modified anyway: what one
 * connection can weigh is bounded where it is counted (see `ProjectAnalytics`).
 */
export function readReports(data: unknown): AnalyticsReport[] {
  const list = (data as { analytics?: unknown } | null)?.analytics;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SLOTS) {
    throw new VidgetError(ErrorCode.BadFrame, `the project room takes analytics reports only: { analytics: [1-${MAX_SLOTS} reports] }`);
  }
  return list.map((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null) throw new VidgetError(ErrorCode.BadFrame, `analytics[${i}] must be an object`);
    const r = raw as Record<string, unknown>;
    if (!Number.isInteger(r.slot) || (r.slot as number) < 0 || (r.slot as number) >= MAX_SLOTS) throw new VidgetError(ErrorCode.BadFrame, `analytics[${i}].slot must be 0-${MAX_SLOTS - 1}`);
    if (!isValidName(r.videoId)) throw new VidgetError(ErrorCode.BadFrame, `analytics[${i}].videoId must be 1-64 of A-Z a-z 0-9 _ -`);
    const interactions: Record<string, number> = {};
    if (typeof r.interactions === 'object' && r.interactions !== null) {
      for (const [id, n] of Object.entries(r.interactions).slice(0, MAX_WIDGETS)) if (isValidName(id)) interactions[id] = Math.floor(count(n, 1000));
    }
    return {
      slot: r.slot as number,
      videoId: r.videoId,
      playing: r.playing === true,
      plays: Math.floor(count(r.plays, 100)),
      seeks: Math.floor(count(r.seeks, 1000)),
      buffering: Math.floor(count(r.buffering, 1000)),
      quartiles: Array.isArray(r.quartiles) ? r.quartiles.filter((q): q is number => q === 25 || q === 50 || q === 75 || q === 100).slice(0, 4) : [],
      watched: count(r.watched, 3600),
      interactions,
    };
  });
}
