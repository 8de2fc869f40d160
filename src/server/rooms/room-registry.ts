import type { Expired, RoomName, Store, Usage } from '../store/store.js';
import { Room, type RoomOptions } from './room.js';

/** Room settings shared by every room; the registry adds each room's project usage. */
export type SharedRoomOptions = Omit<RoomOptions, 'projectUsage'>;

interface ProjectEntry {
  usage: Promise<Usage>;
  rooms: number;
}

/**
 * The open rooms. A room lives while it has connections or publishes in flight and is dropped
 * when idle, so memory follows what is in use, not every room ever opened. Each project's usage
 * (for its storage quota) is loaded once when its first room opens and shared by its rooms.
 */
export class RoomRegistry {
  private readonly rooms = new Map<RoomName, Room>();
  private readonly projects = new Map<string, ProjectEntry>();

  constructor(
    private readonly store: Store,
    private readonly options: SharedRoomOptions,
  ) {}

  /** Open rooms. */
  get size(): number {
    return this.rooms.size;
  }

  /** The room `name` (`<project>/<widget>`), opened if it is not. */
  roomFor(name: RoomName): Room {
    let room = this.rooms.get(name);
    if (room) return room;
    const project = name.slice(0, name.indexOf('/'));
    let entry = this.projects.get(project);
    if (!entry) {
      entry = { usage: this.store.projectUsage(project), rooms: 0 };
      entry.usage.catch(() => this.projects.delete(project)); // retried by the next room
      this.projects.set(project, entry);
    }
    entry.rooms++;
    room = new Room(name, this.store, { ...this.options, projectUsage: entry.usage, onError: (e) => this.options.onError(e) });
    this.rooms.set(name, room);
    return room;
  }

  /** An open room, if it is open. */
  get(name: RoomName): Room | undefined {
    return this.rooms.get(name);
  }

  /** Drops `room` if nothing uses it any more. */
  dropIfIdle(room: Room): void {
    if (!room.idle || this.rooms.get(room.name) !== room) return;
    room.dispose();
    this.rooms.delete(room.name);
    const project = room.name.slice(0, room.name.indexOf('/'));
    const entry = this.projects.get(project);
    if (entry && --entry.rooms === 0) this.projects.delete(project);
  }

  /** Records left the store: open rooms and their projects count them no more. */
  async released(expired: Expired[]): Promise<void> {
    for (const gone of expired) {
      this.rooms.get(gone.room)?.released(gone);
      const entry = this.projects.get(gone.room.slice(0, gone.room.indexOf('/')));
      if (!entry) continue;
      const usage = await entry.usage;
      usage.records = Math.max(0, usage.records - gone.records);
      usage.bytes = Math.max(0, usage.bytes - gone.bytes);
    }
  }

  /** Waits until everything accepted in every room is stored. */
  async drainAll(): Promise<void> {
    await Promise.all([...this.rooms.values()].map((room) => room.drain()));
  }

  /** Stops every room's timers (server shutdown). */
  disposeAll(): void {
    for (const room of this.rooms.values()) room.dispose();
  }
}
