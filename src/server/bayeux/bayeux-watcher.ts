import type { FramedMessage } from '../rooms/framed-message.js';
import type { Room, RoomWatcher } from '../rooms/room.js';
import type { RoomName } from '../store/store.js';
import { joinAction } from '../trust/permissions.js';
import type { Project } from '../trust/project.js';
import type { Identity } from '../trust/token-verifier.js';
import type { BayeuxChannel } from './bayeux-channel.js';
import type { BayeuxMember, BayeuxOutlet } from './bayeux-member.js';
import { bayeuxMessageOf } from './bayeux-message.js';

/** A wildcard's reach: the rooms named `<prefix><one segment>` (`*`) or `<prefix><anything>` (`**`). */
interface Pattern {
  prefix: string;
  deep: boolean;
}

/**
 * A Bayeux session's wildcard channels in one project (`/p/*`, `/p/show/**`): it watches every
 * room of the project they match and the token lets it read, and sends each record once, on its
 * room's own channel (`/p/show`), which Faye's client hands to every matching subscription. Not
 * counted in presence: it is an observer of many rooms, not a viewer of one.
 */
export class BayeuxWatcher implements RoomWatcher {
  readonly project: string;
  private readonly patterns = new Map<string, Pattern>();
  /** Channel names by room (signing one costs an HMAC). */
  private readonly channels = new Map<string, string>();

  constructor(
    private readonly owner: Project,
    private readonly outlet: BayeuxOutlet,
    /** The session's members by room, consulted so a room it also subscribed to by name is not sent twice. */
    private readonly members: ReadonlyMap<RoomName, BayeuxMember>,
    /** The identity of the latest wildcard subscribe (its expiry ends the session's subscriptions). */
    public identity: Identity,
  ) {
    this.project = owner.id;
  }

  /** Wildcard channels held. */
  get size(): number {
    return this.patterns.size;
  }

  /** Adds a wildcard channel; `prefix` is its room part as permissions see it (`''` or `show/`). */
  add(channel: BayeuxChannel, prefix: string): void {
    this.patterns.set(channel.name, { prefix, deep: channel.wildcard === '**' });
  }

  /** Removes a wildcard channel; false when it was not one of these. */
  remove(name: string): boolean {
    return this.patterns.delete(name);
  }

  wants(room: string): boolean {
    if (!this.identity.permissions.allows(room, joinAction(room))) return false;
    for (const { prefix, deep } of this.patterns.values()) {
      if (room.length > prefix.length && room.startsWith(prefix) && (deep || !room.includes('/', prefix.length))) return true;
    }
    return false;
  }

  record(room: Room, _id: number, frame: FramedMessage): void {
    const plain = room.name.slice(this.project.length + 1);
    if (!this.wants(plain)) return;
    let channel = this.channels.get(plain);
    if (channel === undefined) {
      if (this.channels.size >= 10_000) this.channels.clear();
      this.channels.set(plain, (channel = `/${this.project}/${this.owner.publicName(plain)}`));
    }
    if (this.members.get(room.name)?.delivers(channel)) return;
    this.outlet.deliver(bayeuxMessageOf(frame, channel));
  }
}
