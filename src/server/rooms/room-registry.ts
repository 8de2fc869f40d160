import type { Expired, Removed, RoomName, Store, Usage } from '../store/store.js';
import type { Json, VidgetRecord } from '../../protocol/index.js';
import { Room, type RoomOptions, type RoomWatcher } from './room.js';
import { parseBusMessage } from './bus-message.js';
import { ServerPublisher } from './server-publisher.js';

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
  /** Wildcard subscribers by project. */
  private readonly watchers = new Map<string, Set<RoomWatcher>>();

  constructor(
    private readonly store: Store,
    private readonly options: SharedRoomOptions,
  ) {
    // With other nodes: after a bus outage every open room reads what it may have missed, and a
    // node coming or going changes every room's total.
    if (options.bus) options.bus.onResync = () => this.rooms.forEach((room) => room.resync());
    if (options.presence) options.presence.onNodesChanged = () => this.rooms.forEach((room) => room.presenceChanged());
  }

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
    room = new Room(name, this.store, { ...this.options, projectUsage: entry.usage, onError: (e) => this.options.onError(e), onIdle: (idle) => this.dropSoon(idle) });
    this.rooms.set(name, room);
    const plain = name.slice(project.length + 1);
    for (const watcher of this.watchers.get(project) ?? []) if (watcher.wants(plain)) room.watch(watcher);
    return room;
  }

  /**
   * Adds (or updates) a wildcard subscriber: it watches the open rooms of its project that it wants, and each
   * one that opens later. With other nodes, the bus also hears every room of the project, so a
   * room active only on another node opens here for the watcher (and stays open while watched).
   */
  async watch(watcher: RoomWatcher): Promise<void> {
    let set = this.watchers.get(watcher.project);
    const first = !set;
    if (!set) this.watchers.set(watcher.project, (set = new Set()));
    set.add(watcher);
    const prefix = `${watcher.project}/`;
    for (const room of this.rooms.values()) {
      if (!room.name.startsWith(prefix)) continue;
      // Called again when the watcher's channels change: rooms it no longer wants are let go.
      if (watcher.wants(room.name.slice(prefix.length))) room.watch(watcher);
      else if (room.unwatch(watcher)) this.dropSoon(room);
    }
    if (first) await this.options.bus?.watch(watcher.project, (room, message) => this.fromWatch(room, message));
  }

  /**
   * Removes a wildcard subscriber; rooms it alone kept open are dropped after this turn (as when a
   * last connection leaves: a socket being accepted may have one in hand).
   */
  unwatch(watcher: RoomWatcher): void {
    const set = this.watchers.get(watcher.project);
    if (!set?.delete(watcher)) return;
    if (set.size === 0) {
      this.watchers.delete(watcher.project);
      this.options.bus?.unwatch(watcher.project).catch((error: unknown) => this.options.onError(error));
    }
    for (const room of this.rooms.values()) if (room.unwatch(watcher)) this.dropSoon(room);
  }

  /** A bus message of a room not open here, heard for the project's watchers: opens the room if one wants it. */
  private fromWatch(name: RoomName, message: string): void {
    const project = name.slice(0, name.indexOf('/'));
    const plain = name.slice(project.length + 1);
    if (this.rooms.has(name) || ![...(this.watchers.get(project) ?? [])].some((w) => w.wants(plain))) return;
    // A presence change or a delete in a room no one here has open is no news to a watcher.
    if (parseBusMessage(message)?.kind !== 'record') return;
    this.roomFor(name).seed(message);
  }

  /** An open room, if it is open. */
  get(name: RoomName): Room | undefined {
    return this.rooms.get(name);
  }

  /**
   * Drops `room` after this turn if it is still idle then: a socket being accepted has the room
   * in hand and joins it in a microtask, which must not find it disposed.
   */
  private dropSoon(room: Room): void {
    setImmediate(() => this.dropIfIdle(room));
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

  /** Publishes into a room from the site's backend (the server API), in the room's order; resolves with the record. */
  async publishFromServer(name: RoomName, data: Json, persist: boolean, username: string | null): Promise<VidgetRecord> {
    const publisher = new ServerPublisher(username, data, persist);
    const room = this.roomFor(name);
    try {
      await room.ready;
      room.publish(publisher, publisher.frame);
      return await publisher.result;
    } finally {
      this.dropIfIdle(room);
    }
  }

  /** Records left the store (retention): open rooms and their projects count them no more. */
  async released(expired: Expired[]): Promise<void> {
    for (const gone of expired) await this.uncount(gone.room, gone);
  }

  /** Records were deleted outside a room's own frames (server API): its connections are told, the quotas freed. */
  async removed(room: RoomName, removed: Removed): Promise<void> {
    const open = this.rooms.get(room);
    if (open) open.removed(removed);
    else await this.uncount(room, removed);
  }

  /** Takes records off the usage of `room` (when open: it does it for itself and its project) or else of its project. */
  private async uncount(room: RoomName, gone: Usage): Promise<void> {
    const open = this.rooms.get(room);
    if (open) return open.released(gone);
    const entry = this.projects.get(room.slice(0, room.indexOf('/')));
    if (!entry) return;
    const usage = await entry.usage;
    usage.records = Math.max(0, usage.records - gone.records);
    usage.bytes = Math.max(0, usage.bytes - gone.bytes);
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
