import { ErrorCode, VidgetError } from './errors.js';
import { isValidName } from './names.js';
import type { Json } from './record.js';

/**
 * The watch-together wire (`/watch/<project>`): sessions, synced playback, clock exchange,
 * WebRTC signalling and invitations. Imported by the browser and the server.
 */

/** Who may control playback: everyone (the default) or the host only. */
export type ControlMode = 'all' | 'host';
/** A playback command. */
export type ControlAction = 'play' | 'pause' | 'seek' | 'rate';

/**
 * The group's playback: at server time `at` (ms) the position was `position` (s); while playing
 * it advances at `rate`. `seq` increases with every accepted command.
 */
export interface PlaybackState {
  paused: boolean;
  position: number;
  rate: number;
  at: number;
  seq: number;
}

/** A participant as the server tells it. */
export interface WireParticipant {
  /** The participant id in this session (a new one per join). */
  id: string;
  /** The user behind it: the token's `sub`, or a stable id of an anonymous browser. */
  uid: string;
  name: string;
  audio: boolean;
  video: boolean;
  screen: boolean;
  /** Its microphone hears speech (measured by its own page, which sends audio). */
  speaking: boolean;
  /** `reconnecting` while its connection is down, within the session's grace period. */
  state: 'connected' | 'reconnecting';
}

/** What every watch frame that names a session carries. */
interface InSession {
  sid: string;
}

/** client → server: create (no `sid`) or join a session; `resume` takes a dropped place back. */
export interface JoinFrame {
  type: 'join';
  rid: string;
  sid?: string;
  name?: string;
  control?: ControlMode;
  resume?: { pid: string; key: string };
}
/** client → server: leave a session. */
export interface LeaveFrame extends InSession {
  type: 'leave';
}
/** client → server: a playback command, as done locally at server time `at`. */
export interface ControlFrame extends InSession {
  type: 'control';
  action: ControlAction;
  position: number;
  rate: number;
  paused: boolean;
  at: number;
}
/** client → server: a clock probe; answered `time` with the server's clock. */
export interface TimeFrame {
  type: 'time';
  t0: number;
}
/** client → server: this participant's media flags (`speaking` from its own microphone level). */
export interface MediaFrame extends InSession {
  type: 'media';
  audio: boolean;
  video: boolean;
  screen: boolean;
  speaking?: boolean;
}
/** client → server: a WebRTC signalling message for one participant of the same session. */
export interface SignalFrame extends InSession {
  type: 'signal';
  to: string;
  data: Json;
}
/** client → server: invite a user (by id) of this project into a session. */
export interface InviteFrame extends InSession {
  type: 'invite';
  rid: string;
  to: string;
}
/** client → server: accept or decline an invitation. */
export interface AnswerFrame {
  type: 'answer';
  iid: string;
  accept: boolean;
}

/** Every frame a watch client may send. */
export type WatchClientFrame = JoinFrame | LeaveFrame | ControlFrame | TimeFrame | MediaFrame | SignalFrame | InviteFrame | AnswerFrame;

/** An invitation's outcome. */
export type InviteAnswer = 'accepted' | 'declined' | 'expired';

/** Every frame the watch server sends. */
export type WatchServerFrame =
  | { type: 'hello'; uid: string; name: string | null; now: number; iceServers: IceServer[]; meshLimit: number; graceMs: number }
  | { type: 'joined'; rid: string; sid: string; pid: string; key: string; control: ControlMode; host: string; participants: WireParticipant[]; playback: PlaybackState }
  | { type: 'participant'; sid: string; participant: WireParticipant }
  | { type: 'left'; sid: string; pid: string; reason: 'left' | 'timeout' }
  | { type: 'host'; sid: string; pid: string }
  | { type: 'playback'; sid: string; playback: PlaybackState; by: string; action: ControlAction }
  | { type: 'time'; t0: number; now: number }
  | { type: 'signal'; sid: string; from: string; data: Json }
  | { type: 'invite'; iid: string; sid: string; from: { uid: string; name: string }; expires: number }
  | { type: 'invited'; rid: string; iid: string }
  | { type: 'answer'; iid: string; sid: string; to: string; answer: InviteAnswer }
  | { type: 'err'; code: ErrorCode; message: string; rid?: string; sid?: string };

/** A STUN/TURN server for WebRTC (the browser's `RTCIceServer`). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Where the group is at server time `now` (s). */
export function positionAt(state: PlaybackState, now: number): number {
  return state.paused ? state.position : state.position + ((now - state.at) / 1000) * state.rate;
}

const ACTIONS: ReadonlySet<string> = new Set(['play', 'pause', 'seek', 'rate']);
/** Session ids and participant keys are random; this bounds what the server reads. */
const MAX_SIGNAL_BYTES = 16_384;

function bad(message: string): never {
  throw new VidgetError(ErrorCode.BadFrame, message);
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function name(f: Record<string, unknown>, key: string, type: string): string {
  const v = f[key];
  if (!isValidName(v)) bad(`${type}.${key} must be 1-64 of A-Z a-z 0-9 _ -`);
  return v;
}

function parseJoin(f: Record<string, unknown>): JoinFrame {
  const frame: JoinFrame = { type: 'join', rid: name(f, 'rid', 'join') };
  if (f.sid !== undefined) frame.sid = name(f, 'sid', 'join');
  if (f.name !== undefined) {
    if (typeof f.name !== 'string' || f.name.length > 64) bad('join.name must be a string of at most 64 characters');
    frame.name = f.name;
  }
  if (f.control !== undefined) {
    if (f.control !== 'all' && f.control !== 'host') bad("join.control must be 'all' or 'host'");
    frame.control = f.control;
  }
  if (f.resume !== undefined) {
    const r = f.resume as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) bad('join.resume must be { pid, key }');
    frame.resume = { pid: name(r, 'pid', 'join.resume'), key: name(r, 'key', 'join.resume') };
  }
  return frame;
}

function parseControl(f: Record<string, unknown>): ControlFrame {
  if (typeof f.action !== 'string' || !ACTIONS.has(f.action)) bad('control.action must be play, pause, seek or rate');
  if (!finite(f.position) || f.position < 0 || f.position > 1e7) bad('control.position must be a time in seconds');
  if (!finite(f.rate) || f.rate < 0.0625 || f.rate > 16) bad('control.rate must be between 0.0625 and 16');
  if (!finite(f.at)) bad('control.at must be a server time in ms');
  if (typeof f.paused !== 'boolean') bad('control.paused must be a boolean');
  return { type: 'control', sid: name(f, 'sid', 'control'), action: f.action as ControlAction, position: f.position, rate: f.rate, paused: f.paused, at: f.at };
}

function parseSignal(f: Record<string, unknown>, text: string): SignalFrame {
  if (text.length > MAX_SIGNAL_BYTES) bad(`a signal is at most ${MAX_SIGNAL_BYTES} bytes`);
  if (!('data' in f)) bad('signal.data is missing');
  return { type: 'signal', sid: name(f, 'sid', 'signal'), to: name(f, 'to', 'signal'), data: f.data as Json };
}

/** Parses and validates one watch frame from a client; throws `bad_frame`. */
export function parseWatchFrame(text: string): WatchClientFrame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    bad('frame is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad('frame must be a JSON object');
  const f = parsed as Record<string, unknown>;
  switch (f.type) {
    case 'join':
      return parseJoin(f);
    case 'leave':
      return { type: 'leave', sid: name(f, 'sid', 'leave') };
    case 'control':
      return parseControl(f);
    case 'time':
      if (!finite(f.t0)) bad('time.t0 must be a number');
      return { type: 'time', t0: f.t0 };
    case 'media':
      if (typeof f.audio !== 'boolean' || typeof f.video !== 'boolean' || typeof f.screen !== 'boolean') bad('media.audio, .video and .screen must be booleans');
      if (f.speaking !== undefined && typeof f.speaking !== 'boolean') bad('media.speaking must be a boolean');
      return { type: 'media', sid: name(f, 'sid', 'media'), audio: f.audio, video: f.video, screen: f.screen, speaking: f.speaking === true };
    case 'signal':
      return parseSignal(f, text);
    case 'invite':
      return { type: 'invite', rid: name(f, 'rid', 'invite'), sid: name(f, 'sid', 'invite'), to: name(f, 'to', 'invite') };
    case 'answer':
      if (typeof f.accept !== 'boolean') bad('answer.accept must be a boolean');
      return { type: 'answer', iid: name(f, 'iid', 'answer'), accept: f.accept };
    default:
      bad(`unknown frame type "${String(f.type).slice(0, 32)}"`);
  }
}
