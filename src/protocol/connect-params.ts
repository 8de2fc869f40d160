import { ErrorCode, VidgetError } from './errors.js';
import { isValidName, parseInterval } from './names.js';

/**
 * What a client says about itself in the connection URL's query string. It travels in the URL
 * (not in a first frame) because partysocket flushes its send queue before `open`, and because
 * its `query` may be an async function re-read on every reconnect.
 */
export interface ConnectParams {
  /** Stable id of the widget instance in one browser (partysocket's `_pk`). */
  clientId: string;
  /** A token from the token endpoint; sets `username`. */
  token?: string;
  /** Resume: replay stored records with an id greater than this. */
  since?: number;
  /** The room epoch `since` belongs to; a different epoch means the client has a gap. */
  epoch?: string;
  /** First connect: replay stored records created within this many ms. */
  catchupMs?: number;
}

/** The query-string names of {@link ConnectParams}. */
export const CONNECT_PARAM = {
  clientId: '_pk',
  token: 'token',
  since: 'since',
  epoch: 'epoch',
  catchup: 'catchup',
} as const;

/** Parses and validates the connection URL's query; throws `VidgetError('bad_frame')`. */
export function parseConnectParams(query: URLSearchParams): ConnectParams {
  const clientId = query.get(CONNECT_PARAM.clientId);
  if (!isValidName(clientId)) throw new VidgetError(ErrorCode.BadFrame, '_pk (client id) must be 1-64 of A-Z a-z 0-9 _ -');
  const params: ConnectParams = { clientId };
  const token = query.get(CONNECT_PARAM.token);
  if (token) {
    if (token.length > 4096) throw new VidgetError(ErrorCode.BadFrame, 'token is too long');
    params.token = token;
  }
  const since = query.get(CONNECT_PARAM.since);
  if (since !== null && since !== '') {
    if (!/^\d{1,15}$/.test(since)) throw new VidgetError(ErrorCode.BadFrame, 'since must be a record id');
    params.since = Number(since);
  }
  const epoch = query.get(CONNECT_PARAM.epoch);
  if (epoch) {
    if (!isValidName(epoch)) throw new VidgetError(ErrorCode.BadFrame, 'epoch is malformed');
    params.epoch = epoch;
  }
  const catchup = query.get(CONNECT_PARAM.catchup);
  if (catchup) params.catchupMs = parseInterval(catchup);
  return params;
}
