import type { RoomName } from './store.js';

/** Room ids kept in memory; others are looked up again (rooms are many, open ones few). */
const ROOM_CACHE = 10_000;

/** The store's ids of recently used rooms, least recently used first out, so memory stays bounded however many rooms were ever opened. */
export class RoomIdCache {
  private readonly ids = new Map<RoomName, number>();

  get(name: RoomName): number | undefined {
    return this.ids.get(name);
  }

  /** Records (or refreshes) a room's id as the most recently used. */
  remember(name: RoomName, id: number): void {
    this.ids.delete(name);
    this.ids.set(name, id);
    if (this.ids.size > ROOM_CACHE) this.ids.delete(this.ids.keys().next().value!);
  }
}
