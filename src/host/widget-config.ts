import { isValidName } from '../protocol/names.js';
import type { Json } from '../protocol/record.js';

/** Where a widget sits over the video. */
export type WidgetPosition = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'top' | 'bottom' | 'center' | 'sidebar' | 'full';

/** What a trigger (`onStart`, `onEnd`, `onClick`) does. */
export type WidgetAction =
  | { type: 'pause' }
  | { type: 'play' }
  | { type: 'seek'; time: number }
  | { type: 'setVariable'; name: string; value: Json }
  | { type: 'openUrl'; url: string }
  | { type: 'show'; widgetId: string }
  | { type: 'hide'; widgetId: string };

/**
 * Where a widget goes on a narrow player (480 px or less): collapsed to a chip that expands on
 * tap (`chip`), below the video with the sidebar (`below`), or as it is (`keep`).
 */
export type NarrowMode = 'chip' | 'below' | 'keep';

/** A trigger of a widget entry. */
export type WidgetTrigger = 'onStart' | 'onEnd' | 'onClick';

/** One widget on the timeline, as it comes from `config` (validated). */
export interface WidgetEntry {
  id: string;
  type: string;
  /** Seconds. */
  start: number;
  /** Seconds; `Infinity` when the entry has none (to the end of the video). */
  end: number;
  position: WidgetPosition;
  props: Record<string, Json>;
  /** Run in `<iframe sandbox="allow-scripts">` (third-party code, loaded from `src`). */
  sandbox: boolean;
  /** The script of a sandboxed widget (classic script, runs with `c8PlayerApi` in scope). */
  src?: string;
  actions: Partial<Record<WidgetTrigger, WidgetAction[]>>;
  /** Pause the video each time the widget is shown (a quiz, a question). */
  pauseOnShow: boolean;
  /** On a narrow player; by default a sidebar widget goes below, `full` keeps, others become chips. */
  narrow?: NarrowMode;
  /** The chip's text on a narrow player (default: the `title`, `question`, `label` or `heading` prop, else the type). */
  label?: string;
}

/** A config entry (or action) that was skipped, and why. */
export interface ConfigError {
  index: number;
  id?: string;
  message: string;
}

const POSITIONS = new Set<WidgetPosition>(['top-left', 'top-right', 'bottom-left', 'bottom-right', 'top', 'bottom', 'center', 'sidebar', 'full']);
const TRIGGERS: WidgetTrigger[] = ['onStart', 'onEnd', 'onClick'];
const NARROW = new Set<unknown>(['chip', 'below', 'keep']);

/** Checks one action; returns it, or a message saying what is wrong. */
export function parseAction(input: unknown): WidgetAction | string {
  const a = typeof input === 'string' ? { type: input } : input;
  if (typeof a !== 'object' || a === null) return 'an action is an object with a type';
  const { type, time, name, value, url, widgetId } = a as Record<string, unknown>;
  switch (type) {
    case 'pause':
    case 'play':
      return { type };
    case 'seek':
      return typeof time === 'number' && time >= 0 ? { type, time } : 'seek needs time >= 0 (seconds)';
    case 'setVariable':
      return isValidName(name) ? { type, name, value: (value ?? null) as Json } : 'setVariable needs a name of A-Z a-z 0-9 _ -';
    case 'openUrl': {
      try {
        const parsed = new URL(String(url));
        if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return { type, url: parsed.href };
      } catch {
        // reported below
      }
      return 'openUrl takes an http or https URL only';
    }
    case 'show':
    case 'hide':
      return isValidName(widgetId) ? { type, widgetId } : `${type} needs a widgetId`;
    default:
      return `unknown action "${String(type).slice(0, 40)}"`;
  }
}

/**
 * Validates a widget list (`[{ id, type, start, end, position, props, sandbox, actions }]`).
 * Every bad entry or action is reported and skipped; the good ones are returned.
 */
export function parseWidgetConfig(input: unknown): { entries: WidgetEntry[]; errors: ConfigError[] } {
  const entries: WidgetEntry[] = [];
  const errors: ConfigError[] = [];
  if (!Array.isArray(input)) return { entries, errors: [{ index: -1, message: 'the widget config must be a JSON array' }] };
  const seen = new Set<string>();
  input.forEach((raw, index) => {
    const fail = (message: string, id?: string) => errors.push({ index, message, ...(id ? { id } : {}) });
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('an entry must be an object');
    const e = raw as Record<string, unknown>;
    const id = isValidName(e.id) ? e.id : undefined;
    if (!id) return fail('id must be 1-64 of A-Z a-z 0-9 _ -');
    if (seen.has(id)) return fail(`duplicate id "${id}"`, id);
    if (typeof e.type !== 'string' || !/^[a-z][a-z0-9-]{0,63}$/.test(e.type)) return fail('type must be a lowercase widget name', id);
    const start = e.start ?? 0;
    const end = e.end ?? Number.POSITIVE_INFINITY;
    if (typeof start !== 'number' || !(start >= 0)) return fail('start must be a number of seconds >= 0', id);
    if (typeof end !== 'number' || !(end > start)) return fail('end must be a number of seconds after start', id);
    const position = e.position ?? 'top-right';
    if (!POSITIONS.has(position as WidgetPosition)) return fail(`position must be one of ${[...POSITIONS].join(', ')}`, id);
    if (e.props !== undefined && (typeof e.props !== 'object' || e.props === null || Array.isArray(e.props))) return fail('props must be an object', id);
    if (e.sandbox === true && (typeof e.src !== 'string' || e.src.length === 0 || e.src.length > 2048)) return fail('a sandboxed widget needs src, the URL of its script', id);
    if (e.src !== undefined && e.sandbox !== true) return fail('src is for sandboxed widgets; set "sandbox": true', id);
    if (e.narrow !== undefined && !NARROW.has(e.narrow)) return fail('narrow must be chip, below or keep', id);
    if (e.label !== undefined && (typeof e.label !== 'string' || e.label.length > 80)) return fail('label must be a string of at most 80 characters', id);
    const actions: WidgetEntry['actions'] = {};
    const given = (typeof e.actions === 'object' && e.actions !== null ? e.actions : e) as Record<string, unknown>;
    for (const trigger of TRIGGERS) {
      if (given[trigger] === undefined) continue;
      const list = Array.isArray(given[trigger]) ? (given[trigger] as unknown[]) : [given[trigger]];
      actions[trigger] = list.flatMap((a) => {
        const parsed = parseAction(a);
        if (typeof parsed === 'string') {
          fail(`${trigger}: ${parsed}; action skipped`, id);
          return [];
        }
        return [parsed];
      });
    }
    seen.add(id);
    entries.push({
      id,
      type: e.type,
      start,
      end,
      position: position as WidgetPosition,
      props: (e.props ?? {}) as Record<string, Json>,
      sandbox: e.sandbox === true,
      actions,
      pauseOnShow: e.pauseOnShow === true,
      ...(typeof e.src === 'string' ? { src: e.src } : {}),
      ...(e.narrow ? { narrow: e.narrow as NarrowMode } : {}),
      ...(typeof e.label === 'string' ? { label: e.label } : {}),
    });
  });
  return { entries, errors };
}
