import type { WireParticipant } from '../protocol/index.js';

/** A participant of a watch session, as a page sees it. */
export interface Participant {
  /** The participant id in this session. */
  id: string;
  /** The user behind it (invite them by this id). */
  userId: string;
  name: string;
  audioEnabled: boolean;
  videoEnabled: boolean;
  screenEnabled: boolean;
  /** Speaking now (its own page measures its microphone's level and says so). */
  speaking: boolean;
  /** This page. */
  local: boolean;
  /** `reconnecting` while its connection is down, within the server's grace period. */
  state: 'connected' | 'reconnecting';
}

/** A page's view of a participant the server described. */
export function participantOf(wire: WireParticipant, local: boolean): Participant {
  return {
    id: wire.id,
    userId: wire.uid,
    name: wire.name,
    audioEnabled: wire.audio,
    videoEnabled: wire.video,
    screenEnabled: wire.screen,
    speaking: wire.speaking,
    local,
    state: wire.state,
  };
}
