import { createSecretKey } from 'node:crypto';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose';
import { ErrorCode, VidgetError } from '../../protocol/index.js';
import { Permissions, type Action } from './permissions.js';
import type { ProjectConfig } from './project-config.js';

/** Who a connection or request is, once its token (or its absence) is checked. */
export interface Identity {
  /** The token's `sub`: the user id (null when anonymous). */
  userId: string | null;
  /** The name records carry: the token's `name`, else its `sub` (null when anonymous). */
  username: string | null;
  /** When the token expires, in seconds since the epoch (undefined when anonymous). */
  exp: number | undefined;
  permissions: Permissions;
}

const ALGORITHMS = ['HS256', 'RS256', 'ES256'];
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Verifies a project's client tokens: standard JWTs whose `aud` is the project id, with `sub`
 * and `exp`, signed HS256 with the project's secret or RS256/ES256 with its public key or JWKS.
 * `alg: none` and every other algorithm are refused. Any JWT library can make them.
 */
export class TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;

  constructor(private readonly project: ProjectConfig) {
    // A KeyObject, imported once: with raw bytes jose imports the key again for every token.
    const secret = project.secret ? createSecretKey(Buffer.from(project.secret, 'utf8')) : undefined;
    const jwks = project.jwksUrl ? createRemoteJWKSet(new URL(project.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 }) : undefined;
    const publicKeys = new Map<string, ReturnType<typeof importSPKI>>();
    this.getKey = async (header: ProtectedHeaderParameters, token) => {
      if (header.alg === 'HS256' && secret) return secret;
      if (header.alg !== 'HS256' && project.publicKey) {
        let key = publicKeys.get(header.alg!);
        if (!key) publicKeys.set(header.alg!, (key = importSPKI(project.publicKey, header.alg!)));
        return key;
      }
      if (header.alg !== 'HS256' && jwks) return jwks(header, token);
      throw new VidgetError(ErrorCode.Unauthorized, `this project does not accept ${String(header.alg).slice(0, 16)} tokens`);
    };
  }

  /** The identity a token grants; throws `unauthorized`, `token_expired` or `forbidden` (another project's token). */
  async verify(token: string, defaults: readonly Action[]): Promise<Identity> {
    // Strict compact form: jose's decoder lets '=' padding and whitespace through, so an altered
    // token would still verify.
    if (!COMPACT_JWS.test(token)) throw new VidgetError(ErrorCode.Unauthorized, 'token is malformed (three base64url parts)');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, { algorithms: ALGORITHMS, audience: this.project.id, requiredClaims: ['sub', 'exp'], clockTolerance: 5 }));
    } catch (error) {
      throw refusal(error);
    }
    const { sub, name, rooms, exp } = payload as JWTPayload & { name?: unknown; rooms?: unknown };
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw new VidgetError(ErrorCode.Unauthorized, 'token sub must be 1-128 characters');
    if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 128)) throw new VidgetError(ErrorCode.Unauthorized, 'token name must be 1-128 characters');
    let permissions: Permissions;
    try {
      permissions = rooms === undefined ? Permissions.everywhere(defaults) : Permissions.parse(rooms, 'token rooms');
    } catch (error) {
      throw new VidgetError(ErrorCode.Unauthorized, (error as Error).message);
    }
    return { userId: sub, username: (name as string | undefined) ?? sub, exp: exp!, permissions };
  }
}

/** The VidgetError a failed verification is answered with. */
function refusal(error: unknown): VidgetError {
  if (error instanceof VidgetError) return error;
  if (error instanceof errors.JWTExpired) return new VidgetError(ErrorCode.TokenExpired, 'token has expired');
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') return new VidgetError(ErrorCode.Forbidden, 'token is for another project');
  if (error instanceof errors.JOSEError) return new VidgetError(ErrorCode.Unauthorized, `token refused: ${error.message.slice(0, 120)}`);
  return new VidgetError(ErrorCode.Unauthorized, 'token is malformed');
}
