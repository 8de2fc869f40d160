import type { PlayerApi } from '../player/player-api.js';
import { Timeline, type Cue, type TimelineChange } from './timeline.js';
import { createWidgetScope, type WidgetScope } from './widget-api.js';
import type { WidgetAction, WidgetEntry } from './widget-config.js';
import { isWidgetClass, tagFor, type WidgetRegistry } from './widget-registry.js';
import type { VidgetWidget } from './vidget-widget.js';

/** How long a widget type that is not defined yet is waited for before it is reported unknown. */
const DEFINE_WAIT_MS = 5_000;

interface Placed extends Cue {
  entry: WidgetEntry;
}

interface Mounted {
  wrapper: HTMLElement;
  scope: WidgetScope;
  cleanup?: (() => void) | undefined;
}

/** What the host reports back to the player element. */
export interface WidgetHostOptions {
  /** The viewer's username, for `getAuthenticatedUser()`. */
  user(): string | null;
  /** A widget that could not be mounted, or that threw. */
  onError(entry: WidgetEntry, error: unknown): void;
  /** Where `sidebar` widgets go, when not over the video (the player puts it beside or below). */
  aside?: HTMLElement;
}

/**
 * Cues widgets by time and mounts them into the overlay, in one region per position (widgets at
 * the same position stack instead of covering each other): each in its own shadow root with its
 * own scoped api, torn down totally (listeners, timers, sockets) when it leaves its range or the
 * host is destroyed. Triggers (`onStart`, `onEnd`, `onClick`) run their actions.
 */
export class WidgetHost {
  private readonly timeline = new Timeline<Placed>();
  private readonly placed = new Map<string, Placed>();
  private readonly mounted = new Map<string, Mounted>();
  private readonly hidden = new Set<string>();
  private generation = 0;

  constructor(
    private readonly player: PlayerApi,
    private readonly overlay: HTMLElement,
    private readonly registry: WidgetRegistry,
    private readonly options: WidgetHostOptions,
  ) {}

  /** Adds a widget to the timeline (shown at once if the playhead is in its range). */
  add(entry: WidgetEntry): void {
    if (this.placed.has(entry.id)) this.remove(entry.id);
    const cue: Placed = { start: entry.start, end: entry.end, entry };
    this.placed.set(entry.id, cue);
    this.apply(this.timeline.add(cue));
  }

  /** Removes a widget (destroying it if shown; its `onEnd` does not run: its range did not end). */
  remove(id: string): void {
    const cue = this.placed.get(id);
    if (!cue) return;
    this.timeline.remove(cue);
    this.unmount(id, false);
    this.placed.delete(id);
  }

  /** Moves the playhead. */
  update(t: number): void {
    this.apply(this.timeline.seek(t));
  }

  /** Widgets mounted now, by id. */
  get active(): string[] {
    return [...this.mounted.keys()];
  }

  /** What the mounted widgets hold (for leak checks). */
  held(): { widgets: number; listeners: number; timers: number; sockets: number } {
    const total = { widgets: this.mounted.size, listeners: 0, timers: 0, sockets: 0 };
    for (const m of this.mounted.values()) {
      const h = m.scope.held();
      total.listeners += h.listeners;
      total.timers += h.timers;
      total.sockets += h.sockets;
    }
    return total;
  }

  /** Shows or hides a mounted widget without destroying it. */
  setVisible(id: string, visible: boolean): void {
    if (visible) this.hidden.delete(id);
    else this.hidden.add(id);
    const m = this.mounted.get(id);
    if (m) m.wrapper.hidden = !visible;
  }

  /** Destroys every widget (no `onEnd` actions: the player is going away). */
  destroy(): void {
    this.generation++;
    for (const id of [...this.mounted.keys()]) this.unmount(id, false);
  }

  private apply(change: TimelineChange<Placed>): void {
    for (const cue of change.exited) this.unmount(cue.entry.id);
    for (const cue of change.entered) void this.mount(cue);
  }

  private async mount(cue: Placed): Promise<void> {
    const { entry } = cue;
    const generation = this.generation;
    let definition;
    let sandbox: typeof import('./sandbox-bridge.js') | undefined;
    try {
      // Sandboxed widgets bring their own code; the bridge is loaded only when one appears.
      if (entry.sandbox) sandbox = await import('./sandbox-bridge.js');
      else definition = await this.registry.resolve(entry.type, DEFINE_WAIT_MS);
      if (!definition && !sandbox) throw new Error(`unknown widget type "${entry.type}" (not defined within ${DEFINE_WAIT_MS / 1000} s); define it with vidget.defineWidget`);
    } catch (error) {
      return this.options.onError(entry, error);
    }
    // It may have left its range, or the host may be gone, while its code loaded.
    if (generation !== this.generation || !this.timeline.current.has(cue) || this.mounted.has(entry.id)) return;
    const wrapper = document.createElement('div');
    wrapper.className = 'vidget-widget';
    wrapper.dataset.widgetId = entry.id;
    wrapper.hidden = this.hidden.has(entry.id);
    const root = wrapper.attachShadow({ mode: 'open' });
    const scope = createWidgetScope(this.player, entry, { setVisible: (id, v) => this.setVisible(id, v), user: this.options.user });
    const mounted: Mounted = { wrapper, scope };
    this.mounted.set(entry.id, mounted);
    if (entry.actions.onClick) wrapper.addEventListener('click', () => this.run(entry.actions.onClick!), { signal: scope.api.signal });
    this.region(entry.position).append(wrapper);
    try {
      if (sandbox) {
        mounted.cleanup = sandbox.mountSandboxed(entry as WidgetEntry & { src: string }, scope, root, this.player, (error) => this.options.onError(entry, error));
      } else if (definition && isWidgetClass(definition)) {
        const element = document.createElement(tagFor(entry.type)) as VidgetWidget;
        element.api = scope.api;
        element.props = entry.props;
        root.append(element);
      } else if (definition) {
        const cleanup = definition(scope.api, root, structuredClone(entry.props));
        if (typeof cleanup === 'function') mounted.cleanup = cleanup;
      }
    } catch (error) {
      this.options.onError(entry, error);
      this.unmount(entry.id, false);
      return;
    }
    scope.emitLocal('widgetInit');
    this.player.emit('widgetInit', entry.id);
    scope.emitLocal('widgetShow');
    this.player.emit('widgetShow', entry.id);
    this.run(entry.actions.onStart);
  }

  /** Tears a widget down; `runEnd` when the playhead left its range (then `onEnd` runs). */
  private unmount(id: string, runEnd = true): void {
    const m = this.mounted.get(id);
    if (!m) return;
    this.mounted.delete(id);
    m.scope.emitLocal('widgetHide');
    this.player.emit('widgetHide', id);
    m.scope.emitLocal('widgetDestroy');
    this.player.emit('widgetDestroy', id);
    try {
      m.cleanup?.();
    } catch (error) {
      console.error(`vidget: widget ${id} threw in its cleanup`, error);
    }
    m.scope.destroy();
    const region = m.wrapper.parentElement;
    m.wrapper.remove();
    if (region?.classList.contains('made') && region.childElementCount === 0) region.remove();
    const entry = this.placed.get(id)?.entry;
    if (runEnd && entry) this.run(entry.actions.onEnd);
  }

  /** The stacking container of a position: the player's, or one made here (and removed when empty). */
  private region(position: string): HTMLElement {
    const parent = position === 'sidebar' && this.options.aside ? this.options.aside : this.overlay;
    let region = parent.querySelector<HTMLElement>(`.region.pos-${position}`);
    if (!region) {
      region = document.createElement('div');
      region.className = `region pos-${position} made`;
      parent.append(region);
    }
    return region;
  }

  /** Runs a trigger's actions in order. */
  private run(actions: WidgetAction[] | undefined): void {
    for (const action of actions ?? []) {
      switch (action.type) {
        case 'pause':
          this.player.pause();
          break;
        case 'play':
          void this.player.play().catch(() => {});
          break;
        case 'seek':
          this.player.seek(action.time);
          break;
        case 'setVariable':
          this.player.setVariable(action.name, action.value);
          break;
        case 'openUrl':
          window.open(action.url, '_blank', 'noopener');
          break;
        case 'show':
        case 'hide':
          this.setVisible(action.widgetId, action.type === 'show');
          break;
      }
    }
  }
}

