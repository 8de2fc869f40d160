/**
 * Every error Vidget reports, on the wire and in code, carries one of these codes.
 * One table for both sides, as `ws` attaches a `code` to every error it raises.
 */
export const ErrorCode = {
  /** An HTTP request that cannot be read: a malformed request target or percent-escape. */
  BadRequest: 'bad_request',
  /** A frame that is not JSON, not an object, of an unknown type, or with a missing/mistyped field. */
  BadFrame: 'bad_frame',
  /** A frame larger than the server's `maxFrameBytes`. */
  TooLarge: 'too_large',
  /** A search query that does not pass validation (operator, field path, limit, value type). */
  BadQuery: 'bad_query',
  /**
   * A search ran past the server's time budget and was stopped. Narrow it (filters, a smaller
   * `limit`, `after` instead of a deep `offset`) or retry later.
   */
  QueryTimeout: 'query_timeout',
  /** Too many frames from one connection; the frame was dropped and can be retried later. */
  RateLimited: 'rate_limited',
  /** The project or room is not allowed, or the token is for another project. */
  Forbidden: 'forbidden',
  /** The token is missing where required, malformed, tampered with, or signed with another key. */
  Unauthorized: 'unauthorized',
  /** The token has expired: get a new one (a socket with `getToken` does so by itself). */
  TokenExpired: 'token_expired',
  /** The server cannot serve the request right now (store unavailable, shutting down). */
  Unavailable: 'unavailable',
  /** An HTTP route that does not exist. */
  NotFound: 'not_found',
  /** An HTTP route that exists, asked with a method it does not answer (see `Allow`). */
  MethodNotAllowed: 'method_not_allowed',
  /** The room or project has used its storage quota (records or bytes); nothing was stored. */
  QuotaExceeded: 'quota_exceeded',
  /** A bug on the server side; the request may be retried. */
  Internal: 'internal',
  /** Client side: the offline queue is at its cap; nothing queued was dropped. */
  QueueFull: 'queue_full',
  /** Client side: an ephemeral publish could not be sent in time and was dropped. */
  Expired: 'expired',
  /** Client side: the socket was closed before the operation finished. */
  Closed: 'closed',
  /** Client side: no answer from the server in time. */
  Timeout: 'timeout',
  /** Watch together: no such session (never made, or erased when its last participant left). */
  SessionNotFound: 'session_not_found',
  /** Watch together: the invitation expired (or was answered) before this answer. */
  InviteExpired: 'invite_expired',
  /** Watch together: the session already has as many participants with media as its mesh allows. */
  MeshFull: 'mesh_full',
} as const;

/** A stable error code string, e.g. `"bad_query"`. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * WebSocket close codes the server uses. 4000-4999 are application codes (RFC 6455 §7.4.2).
 * Codes in `FATAL_CLOSE_CODES` mean "do not reconnect": retrying cannot succeed.
 */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** The server is shutting down; reconnect later. */
  GoingAway: 1001,
  /** A malformed WebSocket frame (bad opcode, unmasked, bad length): the connection is dropped. */
  ProtocolError: 1002,
  /** A text frame that is not valid UTF-8: the connection is dropped. */
  InvalidPayload: 1007,
  /** A frame above the hard limit (`maxFrameBytes` × 16); the connection is dropped. */
  MessageTooBig: 1009,
  /** The server hit an unexpected condition. */
  InternalError: 1011,
  /** The connection URL is malformed: bad project/widget name, bad `since`, `catchup` or `_pk`. */
  BadRequest: 4000,
  /** The token is missing where required, malformed, tampered with or signed with another key. Fatal. */
  Unauthorized: 4001,
  /** The token expired: reconnect with a new one (not fatal for a socket that has `getToken`). */
  TokenExpired: 4002,
  /** Unknown project, a token for another project, a room the token may not read, a bad room signature, or an origin the project does not allow. Fatal. */
  Forbidden: 4003,
  /** The connection kept flooding past its rate limit after being told. */
  RateLimited: 4008,
  /** The client read too slowly and the server's send buffer for it passed `maxBufferedBytes`. */
  SlowConsumer: 4009,
  /** Too many connections from one IP address (`maxConnectionsPerIp`). */
  TooManyConnections: 4029,
} as const;

/** A close code from {@link CloseCode}. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client must not reconnect. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.BadRequest,
  CloseCode.Unauthorized,
  CloseCode.TokenExpired, // fatal for a fixed token; a socket with `getToken` reconnects with a new one
  CloseCode.Forbidden,
]);

/** The one error class of Vidget: a message plus a stable {@link ErrorCode}. */
export class VidgetError extends Error {
  /** The stable machine-readable code. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'VidgetError';
    this.code = code;
  }
}
