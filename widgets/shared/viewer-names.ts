/** The event on `window` when the viewer sets their name: every widget of the page shows it. */
export const NAME_EVENT = 'vidget-name';

const key = (project: string) => `vidget:name:${project}`;
const anonymousKey = (project: string) => `vidget:anonymous:${project}`;

/**
 * The display name a viewer typed, kept in this browser per project (localStorage), so they set
 * it once for every widget and visit. Unverified: widgets show it only for viewers without a
 * token, and only where the widget allows typed names. Until they type one, `anonymous` is the
 * project's "Viewer 1a2b" for this browser, the same in every widget (a client id is per widget).
 */
export const viewerNames = {
  get(project: string): string | undefined {
    try {
      return localStorage.getItem(key(project)) || undefined;
    } catch {
      return undefined; // storage blocked: the name lives for this widget only
    }
  },
  /** The name a viewer without a token goes by: typed, else the page's `fallback`, else this browser's anonymous name in the project (made once). */
  current(project: string, fallback?: unknown): string {
    const typed = viewerNames.get(project) ?? (typeof fallback === 'string' && fallback ? fallback.slice(0, 40) : undefined);
    if (typed) return typed;
    let made = `Viewer ${crypto.randomUUID().slice(0, 4)}`;
    try {
      made = localStorage.getItem(anonymousKey(project)) ?? (localStorage.setItem(anonymousKey(project), made), made);
    } catch {
      // storage blocked: a name for this page
    }
    return made;
  },
  set(project: string, name: string): void {
    const clean = name.trim().slice(0, 40);
    try {
      if (clean) localStorage.setItem(key(project), clean);
      else localStorage.removeItem(key(project));
    } catch {
      // storage blocked
    }
    window.dispatchEvent(new CustomEvent(NAME_EVENT, { detail: { project, name: clean } }));
  },
};
