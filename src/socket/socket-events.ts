import type { VidgetError, VidgetRecord } from '../protocol/index.js';

/** The lifecycle states of a {@link WidgetSocket}. */
export type SocketState = 'stopped' | 'starting' | 'running' | 'reconnecting' | 'paused' | 'resuming' | 'failed';

/** `message`: a record published in the room (`data` is the record, as in Cinema8's `onMessage`). */
export class RecordEvent extends Event {
  constructor(
    /** The record `{ id, client_id, created, username, data }`. */
    readonly data: VidgetRecord,
    /** Published by this widget instance (this socket or another tab of the same client). */
    readonly own: boolean,
    /** Stored by the server (a persistent socket's publish). */
    readonly persisted: boolean,
    /** Delivered by catch-up after a (re)connect rather than live. */
    readonly replayed: boolean,
  ) {
    super('message');
  }
}

/** `activeconnectionschange`: the room's connection count (`data`, as in Cinema8's hook). */
export class CountEvent extends Event {
  constructor(readonly data: number) {
    super('activeconnectionschange');
  }
}

/** `statechange`: every lifecycle transition. */
export class StateChangeEvent extends Event {
  constructor(
    readonly state: SocketState,
    readonly previous: SocketState,
    /** Close code that caused it, where one did. */
    readonly code?: number,
    readonly reason?: string,
  ) {
    super('statechange');
  }
}

/** `synced`: the catch-up replay after a (re)connect is complete; live records follow. */
export class SyncedEvent extends Event {
  constructor(
    /** Records replayed. */
    readonly replayed: number,
    /** False when the server could not replay everything since the last record seen (a gap). */
    readonly recovered: boolean,
  ) {
    super('synced');
  }
}

/** `close`: a connection closed (the socket may reconnect; see `statechange`). */
export class SocketCloseEvent extends Event {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super('close');
  }
}

/** `error`: a failure not tied to a returned Promise, or the reason the socket failed. */
export class SocketErrorEvent extends Event {
  constructor(readonly error: VidgetError) {
    super('error');
  }
}

/** `delete`: records were taken down (a moderator, the site's backend); drop them from view. */
export class DeleteEvent extends Event {
  constructor(readonly ids: number[]) {
    super('delete');
  }
}

/** Events of a {@link WidgetSocket}, for typed `addEventListener`. */
export interface WidgetSocketEventMap {
  open: Event;
  message: RecordEvent;
  activeconnectionschange: CountEvent;
  statechange: StateChangeEvent;
  synced: SyncedEvent;
  close: SocketCloseEvent;
  error: SocketErrorEvent;
  delete: DeleteEvent;
}
