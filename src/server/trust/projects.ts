import { isValidName } from '../../protocol/index.js';
import { Project } from './project.js';
import type { ProjectConfig, ProjectResolver } from './project-config.js';
import { checkProject } from './project-config.js';

/** Projects kept in memory at most; beyond, the least recently used are made again from their config. */
const MAX_CACHED = 10_000;

/**
 * The server's projects: a fixed list (from `vidget.config.json`) or a resolver (projects kept
 * elsewhere). Each is checked when first used and its {@link Project} kept.
 */
export class Projects {
  private readonly cache = new Map<string, Project>();
  private readonly resolve: ProjectResolver;

  constructor(source: ProjectConfig[] | ProjectResolver) {
    if (typeof source === 'function') {
      this.resolve = source;
    } else {
      const byId = new Map(source.map((p, i) => [checkProject(p, `projects[${i}]`).id, p]));
      this.resolve = (id) => byId.get(id);
    }
  }

  /** The project `id`, or undefined if there is none. */
  get(id: string): Project | undefined {
    if (!isValidName(id)) return undefined;
    const cached = this.cache.get(id);
    if (cached) return cached;
    const config = this.resolve(id);
    if (!config || config.id !== id) return undefined;
    const project = new Project(checkProject(config, `project ${id}`));
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, project);
    return project;
  }
}
