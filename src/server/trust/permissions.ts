import { ANALYTICS_ROOM } from '../../protocol/platform.js';

/** What an identity may do in a room. */
export const ACTIONS = ['read', 'publish', 'search', 'moderate', 'analytics'] as const;

/** One action: `read` (join and receive), `publish`, `search`, `moderate` (take records down), `analytics` (join `_analytics`, read the project's analytics). */
export type Action = (typeof ACTIONS)[number];

/** A token's or project's room permissions: a room-name pattern (`*`, `quiz-*`, `chat`) → actions. */
export type RoomPermissions = Record<string, Action[]>;

/** A pattern: a room name (sub-rooms with `/`), optionally ending in `*`; `*` alone is every room. */
const PATTERN = /^(?:\*|[A-Za-z0-9_-]{1,64}(?:\/[A-Za-z0-9_-]{1,64}){0,3}\*?|[A-Za-z0-9_-]{1,64}(?:\/[A-Za-z0-9_-]{1,64}){0,2}\/\*)$/;

interface Rule {
  prefix: string;
  wildcard: boolean;
  actions: ReadonlySet<Action>;
}

/**
 * Checked permissions: for a room (its name without a signature), the union of the actions of
 * every pattern that matches it. Patterns are a name, or a name prefix ending in one `*`; nothing
 * else (`**`, `../`, empty) is accepted, so a pattern cannot widen past what it says.
 */
export class Permissions {
  private constructor(
    private readonly rules: readonly Rule[],
    /** Granted room by room (a token's `rooms`), not by a project-wide default. */
    private readonly explicit: boolean,
  ) {}

  /** The same actions in every room (a project's defaults, anonymous viewers). */
  static everywhere(actions: readonly Action[]): Permissions {
    return new Permissions(actions.length > 0 ? [{ prefix: '', wildcard: true, actions: new Set(actions) }] : [], false);
  }

  /** Parses `{ pattern: actions }`; throws an `Error` naming `what` and the bad entry. */
  static parse(input: unknown, what: string): Permissions {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error(`${what} must be an object of room pattern → actions`);
    const entries = Object.entries(input as Record<string, unknown>);
    if (entries.length > 64) throw new Error(`${what} has more than 64 patterns`);
    return new Permissions(
      entries.map(([pattern, actions]) => {
        if (!PATTERN.test(pattern)) throw new Error(`${what}: "${pattern.slice(0, 80)}" is not a room pattern (a room name, optionally ending in one *)`);
        return { prefix: pattern.endsWith('*') ? pattern.slice(0, -1) : pattern, wildcard: pattern.endsWith('*'), actions: new Set(parseActions(actions, `${what}["${pattern}"]`)) };
      }),
      true,
    );
  }

  /** Whether `action` is allowed in `room` (its name without a signature). */
  allows(room: string, action: Action): boolean {
    return this.rules.some((r) => r.actions.has(action) && (r.wildcard ? room.startsWith(r.prefix) : room === r.prefix));
  }

  /**
   * Whether a token's `rooms` grant `action` in every room whose name starts with `prefix` (a
   * wildcard subscription). Defaults never do: a wildcard reaches rooms the page was not handed,
   * signed ones included, so the site's backend must grant it by pattern.
   */
  covers(prefix: string, action: Action): boolean {
    return this.explicit && this.rules.some((r) => r.wildcard && r.actions.has(action) && prefix.startsWith(r.prefix));
  }
}

/** Checks a list of actions; throws an `Error` naming `what`. */
export function parseActions(input: unknown, what: string): Action[] {
  if (!Array.isArray(input)) throw new Error(`${what} must be a list of actions (${ACTIONS.join(', ')})`);
  for (const a of input) if (!ACTIONS.includes(a as Action)) throw new Error(`${what}: "${String(a).slice(0, 40)}" is not one of ${ACTIONS.join(', ')}`);
  return input as Action[];
}

/** The action joining `room` needs: `analytics` for the project's analytics room, else `read`. */
export function joinAction(room: string): Action {
  return room === ANALYTICS_ROOM ? 'analytics' : 'read';
}
