import type { VidgetError } from '../protocol/index.js';
import type { Participant } from './participant.js';

/** The lifecycle states of a watch session (and of the connection under it). */
export type WatchState = 'stopped' | 'starting' | 'running' | 'reconnecting' | 'paused' | 'failed';

/** `statechange`: every lifecycle transition, with the close code or reason that caused it. */
export class WatchStateEvent extends Event {
  constructor(
    readonly state: WatchState,
    readonly previous: WatchState,
    readonly code?: number,
    readonly reason?: string,
  ) {
    super('statechange');
  }
}

/** `participantjoined`, `participantleft`, `participantchange`: one participant. */
export class ParticipantEvent extends Event {
  constructor(
    type: 'participantjoined' | 'participantleft' | 'participantchange',
    readonly participant: Participant,
  ) {
    super(type);
  }
}

/** `error`: something failed that no promise reports (a refused command, a mesh that is full). */
export class WatchErrorEvent extends Event {
  constructor(readonly error: VidgetError) {
    super('error');
  }
}
