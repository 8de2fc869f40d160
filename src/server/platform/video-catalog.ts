import { randomBytes } from 'node:crypto';
import { ErrorCode, PROJECT_ROOM, VidgetError, validateQuery, type Video, type VideoFields, type VideoNotification } from '../../protocol/index.js';
import type { RoomRegistry } from '../rooms/room-registry.js';
import type { SearchResult, Store } from '../store/store.js';

/** Projects whose lists are kept in memory (least recently used out past it; read again from the store when needed). */
const MAX_PROJECTS = 1000;
/** Most videos a project may hold (a list is answered whole). */
const MAX_VIDEOS = 10_000;

interface ProjectVideos {
  videos: Map<string, Video>;
  /** The id of the last notification folded in. */
  lastId: number;
  /** Read from the store once (enough with a store of this process alone: every change then comes through here). */
  loaded: boolean;
  /** Mutations of this project on this node run one after another. */
  tail: Promise<unknown>;
}

/**
 * A project's videos, kept as the notifications themselves: every create, update and delete is
 * a stored record of the project room (`<project>/_project`), published in the room's order, so
 * the live notification, the catch-up of a player that was away and the list all come from one
 * log, in SQLite or PostgreSQL alike, with no table of its own. The list is that log folded,
 * cached per project: with a store of this process alone (SQLite) it is read once, and every
 * change goes through here; with a shared store (PostgreSQL, several nodes) it is brought up to
 * date from the store (`id > last`) on every call, so changes made through another node are
 * seen too.
 */
export class VideoCatalog {
  private readonly projects = new Map<string, ProjectVideos>();

  constructor(
    private readonly store: Store,
    private readonly registry: RoomRegistry,
  ) {}

  /** Every video of `project`, oldest first. */
  async list(project: string): Promise<Video[]> {
    return [...(await this.current(project)).videos.values()];
  }

  /** One video; throws `not_found`. */
  async get(project: string, id: string): Promise<Video> {
    const video = (await this.current(project)).videos.get(id);
    if (!video) throw new VidgetError(ErrorCode.NotFound, `no video ${id} in project ${project}`);
    return video;
  }

  /** Creates a video (`fields` validated) and tells every player; throws `bad_frame` for an id in use. */
  create(project: string, fields: Partial<VideoFields>, id = randomBytes(9).toString('base64url')): Promise<Video> {
    return this.serial(project, async (state) => {
      if (state.videos.has(id)) throw new VidgetError(ErrorCode.BadFrame, `video ${id} exists; PATCH it`);
      if (state.videos.size >= MAX_VIDEOS) throw new VidgetError(ErrorCode.QuotaExceeded, `a project holds at most ${MAX_VIDEOS} videos`);
      const now = Date.now();
      const video = { ...(fields as VideoFields), id, created: now, updated: now };
      await this.notify(project, { event: 'videoCreated', video });
      return video;
    });
  }

  /** Changes a video and tells every player `{ videoId, changes }`; throws `not_found`. */
  update(project: string, id: string, changes: Partial<VideoFields>): Promise<Video> {
    return this.serial(project, async (state) => {
      if (!state.videos.has(id)) throw new VidgetError(ErrorCode.NotFound, `no video ${id} in project ${project}`);
      await this.notify(project, { event: 'videoUpdated', videoId: id, changes: { ...changes, updated: Date.now() } });
      return (await this.current(project)).videos.get(id)!;
    });
  }

  /** Deletes a video and tells every player; throws `not_found`. */
  remove(project: string, id: string): Promise<void> {
    return this.serial(project, async (state) => {
      if (!state.videos.has(id)) throw new VidgetError(ErrorCode.NotFound, `no video ${id} in project ${project}`);
      await this.notify(project, { event: 'videoDeleted', videoId: id });
    });
  }

  private async notify(project: string, notification: VideoNotification): Promise<void> {
    const record = await this.registry.publishFromServer(`${project}/${PROJECT_ROOM}`, notification as never, true, null);
    const state = this.stateOf(project);
    if (record.id <= state.lastId) return;
    apply(state.videos, notification);
    state.lastId = record.id;
  }

  /** Runs `fn` after the project's earlier mutations on this node, on the up-to-date list. */
  private serial<T>(project: string, fn: (state: ProjectVideos) => Promise<T>): Promise<T> {
    const state = this.stateOf(project);
    const run = state.tail.then(async () => fn(await this.current(project)));
    state.tail = run.catch(() => {});
    return run;
  }

  private stateOf(project: string): ProjectVideos {
    let state = this.projects.get(project);
    if (state) {
      // Most recently used last, so the first is the one to let go when there are too many.
      this.projects.delete(project);
      this.projects.set(project, state);
      return state;
    }
    this.projects.set(project, (state = { videos: new Map(), lastId: 0, loaded: false, tail: Promise.resolve() }));
    if (this.projects.size > MAX_PROJECTS) this.projects.delete(this.projects.keys().next().value!);
    return state;
  }

  /** The project's list with every stored notification after the last one folded in. */
  private async current(project: string): Promise<ProjectVideos> {
    const state = this.stateOf(project);
    if (state.loaded && !this.store.shared) return state;
    const room = `${project}/${PROJECT_ROOM}`;
    // Everything accepted on this node is stored before it is read back.
    await this.registry.get(room)?.settled();
    for (;;) {
      const query = validateQuery({ filters: [{ field: 'id', operator: '>', value: state.lastId }], sortField: 'id', sortOrder: 'asc', limit: 1000 });
      const page = JSON.parse(Buffer.from(await this.store.search(room, query)).toString('utf8')) as SearchResult;
      for (const record of page.records) {
        if (record.id <= state.lastId) continue;
        apply(state.videos, record.data as unknown as VideoNotification);
        state.lastId = record.id;
      }
      if (page.records.length < 1000 && !page.truncated) {
        state.loaded = true;
        return state;
      }
    }
  }
}

/** Folds one notification into a list; anything that is not one (a record posted by hand) is skipped. */
function apply(videos: Map<string, Video>, n: VideoNotification): void {
  if (typeof n !== 'object' || n === null) return;
  if (n.event === 'videoCreated' && n.video && typeof n.video.id === 'string') videos.set(n.video.id, n.video);
  else if (n.event === 'videoUpdated' && videos.has(n.videoId)) videos.set(n.videoId, { ...videos.get(n.videoId)!, ...n.changes });
  else if (n.event === 'videoDeleted') videos.delete(n.videoId);
}
