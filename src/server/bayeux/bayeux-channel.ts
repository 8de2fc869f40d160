import { ErrorCode, parseInterval } from '../../protocol/index.js';
import { BayeuxRefusal, BayeuxStatus } from './bayeux-refusal.js';

/** Which of a room's records a channel carries: every one, or only those a moderator promoted. */
export type ChannelView = 'all' | 'promoted';

/** A client channel, read: `/<project>/<room>[/<sub>…][/all|/promoted][/catchup/<n><h|m|s>]`. */
export interface BayeuxChannel {
  /** The channel as the client named it. */
  name: string;
  project: string;
  /** The room's name as in a WebSocket URL (`chat`, `quiz~sig/all`), checked by the project. */
  room: string;
  view: ChannelView;
  /** Named with a view or catch-up suffix: read-only (publishes go to the room's own channel). */
  readOnly: boolean;
  /** A catch-up sub-channel: the interval of stored records it replays (then nothing more). */
  catchupMs?: number;
  /**
   * A wildcard channel (`/<project>[/<room>…]/*` or `/**`): `room` is the part before the
   * wildcard (empty for the project's root), `*` the rooms one segment below it, `**` all below.
   */
  wildcard?: '*' | '**';
}

/** Names after the room that select a view, as TwentyThree spells them too (`all_json`). */
const VIEWS: Record<string, ChannelView> = { all: 'all', all_json: 'all', promoted: 'promoted', promoted_json: 'promoted' };
/** The whole grammar: ASCII segments, no dots, no empty segment, no trailing slash. */
const CHANNEL = /^(?:\/[A-Za-z0-9_~-]{1,128}){2,8}$/;
/** A wildcard channel: a project, up to four room segments, then `*` or `**`. */
const WILDCARD = /^\/[A-Za-z0-9_-]{1,128}((?:\/[A-Za-z0-9_~-]{1,128}){0,4})\/(\*\*?)$/;

const invalid = (): never => {
  throw new BayeuxRefusal(BayeuxStatus.ChannelInvalid, ErrorCode.BadFrame, 'a channel is /project/room with optional /sub-rooms, /all, /promoted and /catchup/<n><h|m|s>');
};

/**
 * Reads a client channel name, refusing anything outside the grammar: `..`, empty segments and
 * trailing slashes, non-ASCII look-alikes, `/meta/…` and `/service/…`, and wildcards anywhere
 * but last and below a project (`/*`, `/**`, a `*` mid-channel). The room part is checked by the project
 * afterwards (its signature, its grammar), a wildcard by the token's grant.
 */
export function parseChannel(name: unknown): BayeuxChannel {
  if (typeof name !== 'string' || name.length === 0) throw new BayeuxRefusal(BayeuxStatus.ParameterMissing, ErrorCode.BadFrame, 'a channel name is required');
  if (/^\/(meta|service)(\/|$)/i.test(name)) throw new BayeuxRefusal(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, 'meta and service channels cannot be subscribed to or published on');
  if (name.length > 300) invalid();
  if (name.includes('*')) return parseWildcard(name);
  if (!CHANNEL.test(name)) invalid();
  const [project, ...rest] = name.slice(1).split('/') as [string, ...string[]];
  let catchupMs: number | undefined;
  if (rest.length >= 3 && rest[rest.length - 2] === 'catchup') {
    catchupMs = parseInterval(rest.pop()!);
    rest.pop();
  }
  const view = rest.length >= 2 ? VIEWS[rest[rest.length - 1]!] : undefined;
  if (view) rest.pop();
  const readOnly = view !== undefined || catchupMs !== undefined;
  return { name, project, room: rest.join('/'), view: view ?? 'all', readOnly, ...(catchupMs !== undefined ? { catchupMs } : {}) };
}

function parseWildcard(name: string): BayeuxChannel {
  if (/^\/\*\*?$/.test(name)) throw new BayeuxRefusal(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, 'wildcard channels span one project at most: /<project>/* or /<project>/**');
  const match = WILDCARD.exec(name);
  if (!match) throw new BayeuxRefusal(BayeuxStatus.ChannelForbidden, ErrorCode.Forbidden, 'a wildcard is the last segment of a channel, after the project: /<project>[/<room>]/* or /**');
  const project = name.slice(1, name.indexOf('/', 1));
  return { name, project, room: match[1]!.slice(1), view: 'all', readOnly: true, wildcard: match[2] as '*' | '**' };
}

/** Whether a channel receives live records (catch-up sub-channels replay once, then nothing). */
export const isLive = (channel: BayeuxChannel): boolean => channel.catchupMs === undefined;
