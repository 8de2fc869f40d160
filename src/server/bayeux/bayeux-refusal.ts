import { ErrorCode, VidgetError } from '../../protocol/index.js';

/** Bayeux error numbers (the CometD table Faye uses) for each refusal. */
export const BayeuxStatus = {
  VersionMismatch: 300,
  ConntypeMismatch: 301,
  BadRequest: 400,
  ClientUnknown: 401,
  ParameterMissing: 402,
  ChannelForbidden: 403,
  ChannelInvalid: 405,
  PublishFailed: 407,
  ServerError: 500,
} as const;

/** Characters Faye's error grammar accepts in a message or parameter; anything else becomes a space. */
const UNSAFE = /[^A-Za-z0-9\-_!~()$@ /*.]/g;

/**
 * A refused Bayeux message: the Bayeux number, the Vidget {@link ErrorCode} and a message. On
 * the wire it is `"<number>:<channel>,<code>:<message>"`, which Faye's client parses into
 * `error.code`, `error.params` (`[channel, code]`) and `error.message`.
 */
export class BayeuxRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BayeuxRefusal';
  }

  /** A Vidget error (from the trust checks, the channel grammar) as a refusal. */
  static from(error: unknown): BayeuxRefusal {
    if (error instanceof BayeuxRefusal) return error;
    if (!(error instanceof VidgetError)) return new BayeuxRefusal(BayeuxStatus.ServerError, ErrorCode.Internal, 'internal error');
    const status = error.code === ErrorCode.BadFrame ? BayeuxStatus.ChannelInvalid : error.code === ErrorCode.RateLimited ? BayeuxStatus.PublishFailed : BayeuxStatus.ChannelForbidden;
    return new BayeuxRefusal(status, error.code, error.message);
  }

  /** The Bayeux `error` field for a message on `channel`. */
  wire(channel: unknown): string {
    const name = typeof channel === 'string' ? channel.slice(0, 200).replace(UNSAFE, ' ') : '';
    return `${this.status}:${name},${this.code}:${this.message.slice(0, 200).replace(UNSAFE, ' ')}`;
  }
}
