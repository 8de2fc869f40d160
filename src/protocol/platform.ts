import { ErrorCode, VidgetError } from './errors.js';
import { isValidName } from './names.js';

/**
 * The project room: every player of a project holds one connection to it (the player's own
 * connection). Its stored records are the project's video notifications, in one order, so a
 * player that was away resumes by cursor; clients may publish only ephemeral analytics
 * reports there, which the server takes in and never relays. Watch-together control is meant to
 * join it later as another kind of report. Reserved: no widget may use this id.
 */
export const PROJECT_ROOM = '_project';

/** The analytics room: a per-minute series (stored) and a snapshot a second (ephemeral); joining needs `analytics`. Reserved. */
export const ANALYTICS_ROOM = '_analytics';

/** A video's status: `processing` until its update, `live`/`ended` for live streams. */
export const VIDEO_STATUSES = ['processing', 'ready', 'live', 'ended', 'failed'] as const;
/** One of {@link VIDEO_STATUSES}. */
export type VideoStatus = (typeof VIDEO_STATUSES)[number];

/** A video of a project (VideoKit's `VKVideo`, trimmed to what a player needs). */
export interface Video {
  id: string;
  title: string;
  src: string;
  poster?: string;
  /** Seconds. */
  duration?: number;
  status: VideoStatus;
  /** A URL of the widget list for this video (the player's `config`). */
  config?: string;
  description?: string;
  /** Server time (ms) of its creation and last change. */
  created: number;
  updated: number;
}

/** The fields a site may set; `id` only on create. */
export type VideoFields = Omit<Video, 'id' | 'created' | 'updated'>;

/** A notification, as the `data` of a record in the project room. */
export type VideoNotification =
  { event: 'videoCreated'; video: Video } | { event: 'videoUpdated'; videoId: string; changes: Partial<VideoFields> & { updated: number } } | { event: 'videoDeleted'; videoId: string };

const URL_PATTERN = /^(?:https?:\/\/[^\s]{1,2000}|\/[^\s]{0,2000}|[A-Za-z0-9_.-][^\s:]{0,2000})$/;

const CHECKS: Record<keyof VideoFields, (v: unknown) => boolean> = {
  title: (v) => typeof v === 'string' && v.length > 0 && v.length <= 200,
  src: (v) => typeof v === 'string' && URL_PATTERN.test(v),
  poster: (v) => typeof v === 'string' && URL_PATTERN.test(v),
  duration: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1e7,
  status: (v) => VIDEO_STATUSES.includes(v as VideoStatus),
  config: (v) => typeof v === 'string' && URL_PATTERN.test(v),
  description: (v) => typeof v === 'string' && v.length <= 2000,
};

const WHAT: Record<keyof VideoFields, string> = {
  title: '1-200 characters',
  src: 'an http(s) URL or a path',
  poster: 'an http(s) URL or a path',
  duration: 'seconds, 0 to 10,000,000',
  status: VIDEO_STATUSES.join(' | '),
  config: 'an http(s) URL or a path',
  description: 'up to 2,000 characters',
};

/**
 * Checks a video body: every field known and well typed; throws `bad_frame` naming the field.
 * `partial` (an update) needs at least one field; a create needs `title`, `src` and `status`.
 */
export function validateVideoFields(body: Record<string, unknown>, partial: boolean): Partial<VideoFields> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'id' && !partial) continue;
    const check = CHECKS[key as keyof VideoFields];
    if (!check) throw new VidgetError(ErrorCode.BadFrame, `unknown video field "${key.slice(0, 40)}" (${Object.keys(CHECKS).join(', ')})`);
    if (!check(value)) throw new VidgetError(ErrorCode.BadFrame, `video.${key} must be ${WHAT[key as keyof VideoFields]}`);
    out[key] = value;
  }
  if (partial && Object.keys(out).length === 0) throw new VidgetError(ErrorCode.BadFrame, 'an update needs at least one field');
  if (!partial) for (const key of ['title', 'src', 'status'] as const) if (!(key in out)) throw new VidgetError(ErrorCode.BadFrame, `video.${key} is required`);
  if (!partial && body.id !== undefined && !isValidName(body.id)) throw new VidgetError(ErrorCode.BadFrame, 'video.id must be 1-64 of A-Z a-z 0-9 _ -');
  return out as Partial<VideoFields>;
}

/** What a player reports about one of its videos since its last report (the `analytics` of an ephemeral publish in the project room). */
export interface AnalyticsReport {
  /** The player's slot in its page (several players share one connection). */
  slot: number;
  videoId: string;
  /** Playing now (not paused, ended or buffering for long). */
  playing: boolean;
  /** Plays started, seeks, buffering stalls, quartiles passed (25, 50, 75, 100), seconds watched since the last report. */
  plays: number;
  seeks: number;
  buffering: number;
  quartiles: number[];
  watched: number;
  /** Widget interactions since the last report, by widget id. */
  interactions: Record<string, number>;
}

/** One analytics snapshot: the current bucket so far (live), or a finished bucket (the series). */
export interface AnalyticsSnapshot {
  /** Server time (ms): of the snapshot, or the start of the bucket. */
  at: number;
  /** Start (ms) of the bucket it counts: a live snapshot whose bucket is already in the series is counted there. */
  bucket?: number;
  concurrentViewers: number;
  plays: number;
  avgWatchSeconds: number;
  /** Completions over plays, 0-1 (a completion whose play began in an earlier bucket counts as 1 when this bucket has none). */
  completionRate: number;
  /** Plays watched to the end (quartile 100): over a window, Σ completions / Σ plays is its completion rate. */
  completions?: number;
  interactions: Record<string, number>;
  videos: Record<string, { concurrentViewers: number; plays: number }>;
  /** The server process that counted it: with several, a subscriber sums the processes' snapshots of one time ({@link mergeSnapshots}). */
  node?: string;
  /** Viewers who watched in the bucket (the weight of `avgWatchSeconds` when summing). */
  watchers?: number;
}

/**
 * The snapshots of a window whose counts add up: the stored buckets, and the bucket in progress
 * unless it is stored already (just closed, its next live snapshot not yet in).
 */
export function countedSnapshots(series: readonly AnalyticsSnapshot[], latest: AnalyticsSnapshot | undefined): AnalyticsSnapshot[] {
  return latest && !series.some((s) => s.at === latest.bucket) ? [...series, latest] : [...series];
}

/** Completions over plays, 0-1; completions without plays (their plays began earlier) count as 1. */
export function completionRate(completions: number, plays: number): number {
  if (plays === 0) return completions > 0 ? 1 : 0;
  return Math.min(1, Math.round((completions / plays) * 1000) / 1000);
}

/**
 * Sums the snapshots several server processes made of one time (each counts its own
 * connections, so viewers add up exactly): counts added, `avgWatchSeconds` weighted by
 * `watchers`, `completionRate` by `plays`.
 */
export function mergeSnapshots(parts: readonly AnalyticsSnapshot[]): AnalyticsSnapshot {
  if (parts.length === 1) return parts[0]!;
  const out: AnalyticsSnapshot = { at: 0, concurrentViewers: 0, plays: 0, avgWatchSeconds: 0, completionRate: 0, interactions: {}, videos: {}, watchers: 0 };
  let watched = 0;
  let completed = 0;
  for (const p of parts) {
    out.at = Math.max(out.at, p.at);
    if (p.bucket !== undefined) out.bucket = Math.max(out.bucket ?? 0, p.bucket);
    out.concurrentViewers += p.concurrentViewers;
    out.plays += p.plays;
    completed += p.completions ?? p.completionRate * p.plays;
    watched += p.avgWatchSeconds * (p.watchers ?? 1);
    out.watchers! += p.watchers ?? (p.avgWatchSeconds > 0 ? 1 : 0);
    for (const [id, n] of Object.entries(p.interactions)) out.interactions[id] = (out.interactions[id] ?? 0) + n;
    for (const [id, v] of Object.entries(p.videos)) {
      const sum = (out.videos[id] ??= { concurrentViewers: 0, plays: 0 });
      sum.concurrentViewers += v.concurrentViewers;
      sum.plays += v.plays;
    }
  }
  out.avgWatchSeconds = out.watchers! > 0 ? Math.round((watched / out.watchers!) * 10) / 10 : 0;
  out.completions = completed;
  out.completionRate = completionRate(completed, out.plays);
  return out;
}
