import { timingSafeEqual } from 'node:crypto';
import { ANALYTICS_ROOM, ErrorCode, PROJECT_ROOM, VidgetError, isValidRoom } from '../../protocol/index.js';
import { Permissions, type Action } from './permissions.js';
import type { ProjectConfig } from './project-config.js';
import { hasValidSignature, signRoom, splitRoom, type RoomRef } from './signed-rooms.js';
import { TokenVerifier, type Identity } from './token-verifier.js';

const DEFAULT_PERMISSIONS: Action[] = ['read', 'publish', 'search'];

/**
 * A project's trust decisions, in one place for every protocol (WebSocket, REST, and later
 * Bayeux): who a token makes you, which rooms exist for you, which origins may open browser
 * connections, and whether a call carries the project's API key.
 */
export class Project {
  readonly id: string;
  private readonly verifier: TokenVerifier;
  private readonly anonymous: Permissions | undefined;
  private readonly origins: ReadonlySet<string> | undefined;

  constructor(readonly config: ProjectConfig) {
    this.id = config.id;
    this.verifier = new TokenVerifier(config);
    this.anonymous = config.anonymous ? Permissions.everywhere(config.anonymous) : undefined;
    this.origins = config.origins ? new Set(config.origins.map((o) => o.toLowerCase())) : undefined;
  }

  /** Whether tokens can be minted here (an HS256 secret is configured). */
  get canMint(): boolean {
    return this.config.secret !== undefined;
  }

  /** The identity of a token, or of a viewer without one; throws `unauthorized`/`token_expired`/`forbidden`. */
  async identify(token: string | undefined): Promise<Identity> {
    if (token) return this.verifier.verify(token, this.config.permissions ?? DEFAULT_PERMISSIONS);
    if (!this.anonymous) throw new VidgetError(ErrorCode.Unauthorized, 'this project needs a token');
    return { userId: null, username: null, exp: undefined, permissions: this.anonymous };
  }

  /**
   * A room of this project by its name in a URL; throws `bad_frame` (malformed) or `forbidden`
   * (signature). `trusted` (the site's backend, with the API key) may name any room plainly.
   */
  room(name: string, trusted = false): RoomRef {
    if (!isValidRoom(name)) throw new VidgetError(ErrorCode.BadFrame, 'a room is a name (1-64 of A-Z a-z 0-9 _ -), optionally ~signature and /sub-rooms');
    const room = splitRoom(name);
    if (trusted) return room;
    if (this.config.signedRooms) {
      // The platform's rooms are the project's own, guarded by permissions (analytics), not signatures.
      if (room.signature === undefined && (room.plain === PROJECT_ROOM || room.plain === ANALYTICS_ROOM)) return room;
      if (!hasValidSignature(this.config.secret!, this.id, room)) throw new VidgetError(ErrorCode.Forbidden, 'this project needs signed room names (room~signature from the site)');
    } else if (room.signature !== undefined) {
      throw new VidgetError(ErrorCode.BadFrame, 'this project does not sign room names; drop the ~signature');
    }
    return room;
  }

  /** A room's name as the site's pages know it (`show~<sig>/all` when the project signs room names). */
  publicName(plain: string): string {
    if (!this.config.signedRooms || plain === PROJECT_ROOM || plain === ANALYTICS_ROOM) return plain;
    const slash = plain.indexOf('/');
    const root = slash < 0 ? plain : plain.slice(0, slash);
    return signRoom(this.config.secret!, this.id, root) + plain.slice(root.length);
  }

  /** Whether a browser page of `origin` may connect (no `Origin` header: not a browser, allowed). */
  allowsOrigin(origin: string | undefined): boolean {
    return !this.origins || origin === undefined || this.origins.has(origin.toLowerCase());
  }

  /** The CORS origin to answer a browser with: its own when allowed, `*` when the project allows any. */
  corsOrigin(origin: string | undefined): string | undefined {
    if (!this.origins) return '*';
    return origin !== undefined && this.origins.has(origin.toLowerCase()) ? origin : undefined;
  }

  /** Whether `key` is this project's API key (compared in constant time). */
  isApiKey(key: string | undefined): boolean {
    const expected = this.config.apiKey;
    if (!expected || key === undefined) return false;
    const a = Buffer.from(key);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** Checks an action against an identity for a room; throws `forbidden` naming both. */
export function authorize(identity: Identity, room: RoomRef, action: Action): void {
  if (!identity.permissions.allows(room.plain, action)) throw new VidgetError(ErrorCode.Forbidden, `no ${action} permission for room ${room.plain}`);
}
