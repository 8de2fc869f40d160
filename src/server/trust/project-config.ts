import { readFileSync } from 'node:fs';
import { isValidName, type IceServer } from '../../protocol/index.js';
import { parseActions, Permissions, type Action } from './permissions.js';

/**
 * One project on the server (`vidget.config.json` → `projects[]`): who may connect, how their
 * tokens are verified, and what they may do. Every project is isolated from every other.
 */
export interface ProjectConfig {
  /** The project id in URLs and the `aud` of its tokens: 1-64 of `A-Z a-z 0-9 _ -`. */
  id: string;
  /** The key the site's backend calls the server API with (`Authorization: Bearer <apiKey>`); at least 16 characters. */
  apiKey?: string;
  /** HS256 secret for tokens (used as its UTF-8 bytes), and the key signed room names are made with; at least 16 characters. */
  secret?: string;
  /** A PEM public key (SPKI) for RS256/ES256 tokens: the site keeps its private key. */
  publicKey?: string;
  /** A JWKS URL for RS256/ES256 tokens (keys are fetched and cached). */
  jwksUrl?: string;
  /** Origins allowed to open browser connections (`https://example.com`). Absent: any origin (a warning at start). */
  origins?: string[];
  /** What a viewer without a token may do (`["read","publish","search"]`), or false: a token is required. Default false. */
  anonymous?: false | Action[];
  /** What a token without `rooms` may do. Default `["read","publish","search"]`. */
  permissions?: Action[];
  /** Room names must carry the site's signature (`room~sig`, see `signRoom`). Default false. */
  signedRooms?: boolean;
  /** STUN/TURN servers watch-together pages use for WebRTC (`[{ "urls": "turn:turn.example.com", "username", "credential" }]`). */
  iceServers?: IceServer[];
}

/** Looks a project up by id (for projects kept elsewhere than a file); undefined for an unknown one. */
export type ProjectResolver = (id: string) => ProjectConfig | undefined;

const KEYS = new Set(['id', 'apiKey', 'secret', 'publicKey', 'jwksUrl', 'origins', 'anonymous', 'permissions', 'signedRooms', 'iceServers']);
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?$/;

/** Checks one project; throws an `Error` naming the field (`projects[2].origins[0]: …`). */
export function checkProject(input: unknown, at: string): ProjectConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error(`${at} must be an object`);
  const p = input as Record<string, unknown>;
  for (const key of Object.keys(p)) if (!KEYS.has(key)) throw new Error(`${at}.${key} is not a project setting (${[...KEYS].join(', ')})`);
  if (!isValidName(p.id)) throw new Error(`${at}.id must be 1-64 of A-Z a-z 0-9 _ -`);
  for (const key of ['apiKey', 'secret'] as const) {
    if (p[key] !== undefined && (typeof p[key] !== 'string' || (p[key] as string).length < 16)) throw new Error(`${at}.${key} must be a string of at least 16 characters`);
  }
  if (p.publicKey !== undefined && (typeof p.publicKey !== 'string' || !p.publicKey.includes('-----BEGIN PUBLIC KEY-----'))) {
    throw new Error(`${at}.publicKey must be a PEM public key (-----BEGIN PUBLIC KEY-----)`);
  }
  if (p.jwksUrl !== undefined && (typeof p.jwksUrl !== 'string' || !/^https:\/\/|^http:\/\/(localhost|127\.0\.0\.1)[:/]/.test(p.jwksUrl))) {
    throw new Error(`${at}.jwksUrl must be an https:// URL (http:// only on localhost)`);
  }
  if (p.origins !== undefined) {
    if (!Array.isArray(p.origins)) throw new Error(`${at}.origins must be a list of origins`);
    p.origins.forEach((o, i) => {
      if (typeof o !== 'string' || !ORIGIN.test(o)) throw new Error(`${at}.origins[${i}] must be an origin such as https://example.com (scheme, host, optional port; no path)`);
    });
  }
  if (p.anonymous !== undefined && p.anonymous !== false) parseActions(p.anonymous, `${at}.anonymous`);
  if (p.permissions !== undefined) parseActions(p.permissions, `${at}.permissions`);
  if (p.signedRooms !== undefined && typeof p.signedRooms !== 'boolean') throw new Error(`${at}.signedRooms must be true or false`);
  if (p.signedRooms && !p.secret) throw new Error(`${at}.signedRooms needs a secret to sign room names with`);
  if (p.iceServers !== undefined) checkIceServers(p.iceServers, `${at}.iceServers`);
  return p as unknown as ProjectConfig;
}

const ICE_URL = /^(stun|stuns|turn|turns):[^\s]{1,250}$/;

/** Checks a list of RTCIceServer: `urls` (stun:, turn:, turns:), optional string `username` and `credential`. */
function checkIceServers(list: unknown, at: string): void {
  if (!Array.isArray(list)) throw new Error(`${at} must be a list of { urls, username?, credential? }`);
  list.forEach((server: Record<string, unknown>, i) => {
    const urls = Array.isArray(server?.urls) ? server.urls : [server?.urls];
    if (urls.length === 0 || !urls.every((u) => typeof u === 'string' && ICE_URL.test(u))) throw new Error(`${at}[${i}].urls must be stun:, turn: or turns: URLs`);
    for (const key of ['username', 'credential']) if (server[key] !== undefined && typeof server[key] !== 'string') throw new Error(`${at}[${i}].${key} must be a string`);
  });
}

/** Checks a whole config (`{ "projects": [...] }`); throws an `Error` naming the bad field. */
export function parseProjects(input: unknown, source = 'config'): ProjectConfig[] {
  if (typeof input !== 'object' || input === null || !Array.isArray((input as { projects?: unknown }).projects)) {
    throw new Error(`${source}: the top level must be { "projects": [ ... ] }`);
  }
  const projects = (input as { projects: unknown[] }).projects.map((p, i) => checkProject(p, `${source}: projects[${i}]`));
  const seen = new Set<string>();
  for (const [i, p] of projects.entries()) {
    if (seen.has(p.id)) throw new Error(`${source}: projects[${i}].id "${p.id}" appears twice`);
    seen.add(p.id);
  }
  return projects;
}

/** Reads and checks `vidget.config.json` (or another path). */
export function loadProjects(path: string): ProjectConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot be read (${(error as Error).message})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not JSON (${(error as Error).message})`, { cause: error });
  }
  return parseProjects(json, path);
}

/** The permissions a project gives a viewer without a token (none when anonymous access is off). */
export function anonymousPermissions(config: ProjectConfig): Permissions | undefined {
  return config.anonymous ? Permissions.everywhere(config.anonymous) : undefined;
}
