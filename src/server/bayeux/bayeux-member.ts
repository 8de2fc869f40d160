import type { ServerFrame } from '../../protocol/index.js';
import type { FramedMessage } from '../rooms/framed-message.js';
import type { Room, RoomMember } from '../rooms/room.js';
import type { ReplayedRecord } from '../store/store.js';
import type { Identity } from '../trust/token-verifier.js';
import { isLive, type BayeuxChannel } from './bayeux-channel.js';
import { bayeuxMessage, bayeuxMessageOf, framePromoted, isPromoted } from './bayeux-message.js';

/** What a member delivers to: its Bayeux session. */
export interface BayeuxOutlet {
  /** One Bayeux message array (`[{"channel":…,"data":…}]`), framed for WebSocket. */
  deliver(message: FramedMessage): void;
}

/**
 * A Bayeux session's place in one room: counted in the room's presence, sent every record of the
 * room in its order, and delivering each to the session's channels of that room (the whole room,
 * or its promoted records). Catch-up sub-channels replay stored records once; live records that
 * come meanwhile wait, so a client on the base channel and its catch-up hears each record once.
 */
export class BayeuxMember implements RoomMember {
  presenceSent = false;
  /** The identity the session subscribed with (its expiry ends the session's subscriptions). */
  identity: Identity;
  private readonly channels = new Map<string, BayeuxChannel>();
  private held: Array<[number, FramedMessage]> | undefined;
  private holds = 0;
  /** The first record id that went (or waits to go) to a live channel: replays stop below it. */
  private firstLive: number | undefined;

  constructor(
    readonly clientId: string,
    readonly room: Room,
    private readonly outlet: BayeuxOutlet,
    identity: Identity,
  ) {
    this.identity = identity;
  }

  /** Channels of this room the session listens on. */
  get size(): number {
    return this.channels.size;
  }

  /**
   * Adds a channel, joining the room on the first. A catch-up channel holds live records from now
   * and returns its replay, to run once the client has the subscribe reply (Faye's client drops
   * messages of a channel it has not yet been told it is subscribed to).
   */
  subscribe(channel: BayeuxChannel): (() => Promise<void>) | undefined {
    if (this.channels.size === 0) this.room.attach(this);
    this.channels.set(channel.name, channel);
    const ms = channel.catchupMs;
    if (ms === undefined) return undefined;
    this.holds++;
    this.held ??= [];
    return () => this.catchUp(channel, ms);
  }

  /** Removes a channel; true when none of this room is left (the member has left the room). */
  unsubscribe(name: string): boolean {
    this.channels.delete(name);
    if (this.channels.size > 0) return false;
    this.leave();
    return true;
  }

  /** Leaves the room. */
  leave(): void {
    this.channels.clear();
    this.room.leave(this);
  }

  sendRecord(id: number, frame: FramedMessage): void {
    if (this.held) {
      if (this.hasLive()) this.firstLive ??= id;
      this.held.push([id, frame]);
      return;
    }
    for (const channel of this.channels.values()) {
      if (!isLive(channel)) continue;
      if (channel.view === 'promoted' && !framePromoted(frame)) continue;
      this.firstLive ??= id;
      this.outlet.deliver(bayeuxMessageOf(frame, channel.name));
    }
  }

  /** Whether the session hears this room's records on `channel` through this member (a wildcard then sends them no second time). */
  delivers(channel: string): boolean {
    const c = this.channels.get(channel);
    return c !== undefined && isLive(c);
  }

  private hasLive(): boolean {
    for (const channel of this.channels.values()) if (isLive(channel)) return true;
    return false;
  }

  /** Presence and delete frames are not Bayeux messages. */
  send(_frame: ServerFrame | FramedMessage | string): void {}

  private async catchUp(channel: BayeuxChannel, ms: number): Promise<void> {
    let records: ReplayedRecord[] = [];
    try {
      records = await this.room.storedWithin(ms);
    } finally {
      for (const r of records) {
        if (this.firstLive !== undefined && r.id >= this.firstLive) break;
        if (channel.view === 'promoted' && !isPromoted(r.json)) continue;
        this.outlet.deliver(bayeuxMessage(channel.name, r.json));
      }
      if (--this.holds === 0) this.release();
    }
  }

  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const [id, frame] of held) this.sendRecord(id, frame);
  }
}
