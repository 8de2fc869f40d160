/** The event on `window` when the viewer sets their name: every widget of the page shows it. */
export const NAME_EVENT = 'vidget-name';

const key = (project: string) => `vidget:name:${project}`;

/**
 * The display name a viewer typed, kept in this browser per project (localStorage), so they set
 * it once for every widget and visit. Unverified: widgets show it only for viewers without a
 * token, and only where the widget allows typed names.
 */
export const viewerNames = {
  get(project: string): string | undefined {
    try {
      return localStorage.getItem(key(project)) || undefined;
    } catch {
      return undefined; // storage blocked: the name lives for this widget only
    }
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
