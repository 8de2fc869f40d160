import type { PlayerApi } from '../player/player-api.js';
import { Timeline, type Cue, type TimelineChange } from './timeline.js';
import { createWidgetScope, type WidgetScope } from './widget-api.js';
import type { NarrowMode, WidgetAction, WidgetEntry } from './widget-config.js';
import { isWidgetClass, tagFor, type WidgetRegistry } from './widget-registry.js';
import type { VidgetWidget } from './vidget-widget.js';

/** How long a widget type that is not defined yet is waited for before it is reported unknown. */
const DEFINE_WAIT_MS = 5_000;

interface Placed extends Cue {
  entry: WidgetEntry;
  /** Place in the config (order of `add`): the order within a region, whatever loads first. */
  order: number;
}

interface Mounted {
  cue: Placed;
  wrapper: HTMLElement;
  /** The toggle a `chip` widget shows on a narrow player, in the widget's region (made for every widget). */
  chip: HTMLButtonElement;
  narrow: NarrowMode;
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
  /** Chips the viewer opened (kept across a remount). */
  private readonly open = new Set<string>();
  private generation = 0;
  private added = 0;
  private narrow = false;

  constructor(
    private readonly player: PlayerApi,
    private readonly overlay: HTMLElement,
    private readonly registry: WidgetRegistry,
    private readonly options: WidgetHostOptions,
  ) {}

  /** Adds a widget to the timeline (shown at once if the playhead is in its range). */
  add(entry: WidgetEntry): void {
    if (this.placed.has(entry.id)) this.remove(entry.id);
    const cue: Placed = { start: entry.start, end: entry.end, entry, order: this.added++ };
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

  /** Replaces every widget with `entries` (another video's list). */
  replaceAll(entries: WidgetEntry[]): void {
    for (const id of [...this.placed.keys()]) this.remove(id);
    for (const entry of entries) this.add(entry);
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
    if (m) m.wrapper.hidden = m.chip.hidden = !visible;
  }

  /** The player became narrow (480 px or less) or wide: widgets that go below the video there move. */
  setNarrow(narrow: boolean): void {
    if (narrow === this.narrow) return;
    this.narrow = narrow;
    for (const m of [...this.mounted.values()]) this.relocate(m);
  }

  /** Mounts the shown widgets again (a new token: their sockets connect as the new viewer). Their state is kept. */
  remount(): void {
    for (const id of [...this.mounted.keys()]) this.unmount(id, false);
    for (const cue of this.timeline.current) void this.mount(cue);
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
      await this.player.ready; // the widget's state, if kept in IndexedDB
    } catch (error) {
      return this.options.onError(entry, error);
    }
    // It may have left its range, or the host may be gone, while its code loaded.
    if (generation !== this.generation || !this.timeline.current.has(cue) || this.mounted.has(entry.id)) return;
    const wrapper = document.createElement('div');
    wrapper.className = 'vidget-widget';
    wrapper.dataset.widgetId = entry.id;
    const root = wrapper.attachShadow({ mode: 'open' });
    const scope = createWidgetScope(this.player, entry, { setVisible: (id, v) => this.setVisible(id, v), user: this.options.user });
    const { position, props } = entry;
    // A widget class may say how it fits a narrow player (`static narrow`); the entry decides last.
    const narrow = position === 'sidebar' ? 'below' : (entry.narrow ?? (definition as { narrow?: NarrowMode } | undefined)?.narrow ?? (position === 'full' ? 'keep' : 'chip'));
    // The chip is always made (the layout shows it only on a narrow player), so a resize needs no remount.
    const chip = document.createElement('button');
    const mounted: Mounted = { cue, wrapper, chip, narrow, scope };
    chip.className = `vidget-chip ${narrow}`;
    chip.dataset.for = entry.id;
    chip.textContent = String(entry.label ?? props.title ?? props.question ?? props.label ?? props.heading ?? entry.type);
    chip.setAttribute('aria-expanded', String(this.open.has(entry.id)));
    chip.addEventListener(
      'click',
      () => {
        if (!this.open.delete(entry.id)) this.open.add(entry.id);
        chip.setAttribute('aria-expanded', String(this.open.has(entry.id)));
        this.relocate(mounted);
      },
      { signal: scope.api.signal },
    );
    this.mounted.set(entry.id, mounted);
    this.setVisible(entry.id, !this.hidden.has(entry.id));
    if (entry.actions.onClick) wrapper.addEventListener('click', () => this.run(entry.actions.onClick!), { signal: scope.api.signal });
    this.insert(this.region(position), chip, cue.order);
    this.insert(this.target(mounted), wrapper, cue.order);
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
    if (entry.pauseOnShow) {
      this.player.pause();
      // Shown with the frame presented at `start`, which leads currentTime by up to a frame: pause
      // on that frame, or the pause would read a time before `start` and hide the widget again.
      if (this.player.currentTime < entry.start) this.player.seek(entry.start);
    }
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
    m.chip.remove();
    if (region?.classList.contains('made') && region.childElementCount === 0) region.remove();
    const entry = this.placed.get(id)?.entry;
    if (runEnd && entry) this.run(entry.actions.onEnd);
  }

  /**
   * Where a widget goes now: its position's region, but below the video on a narrow player for
   * `below` widgets (with the sidebar) and opened chips (first, next to the video, where a card has
   * room: over a phone-sized picture the native controls leave it about 120 px).
   */
  private target(m: Mounted): HTMLElement {
    const below = this.narrow && (m.narrow === 'below' || (m.narrow === 'chip' && this.open.has(m.cue.entry.id)));
    return this.region(!below ? m.cue.entry.position : m.narrow === 'below' ? 'sidebar' : 'open');
  }

  /**
   * Moves a widget to its target if it is elsewhere, with `moveBefore` where there is one (the
   * widget keeps running: VidgetWidget takes the move without reconnecting, an iframe does not
   * reload). Elsewhere the widget is mounted anew there, and its state store carries it across.
   */
  private relocate(m: Mounted): void {
    const target = this.target(m);
    if (m.wrapper.parentElement === target) return;
    if ('moveBefore' in Element.prototype) return this.insert(target, m.wrapper, m.cue.order, true);
    this.unmount(m.cue.entry.id, false);
    void this.mount(m.cue);
  }

  /** Inserts (or moves) an element into a region in config order: widgets mount as their code loads, in any order. */
  private insert(region: HTMLElement, el: HTMLElement, order: number, move = false): void {
    el.dataset.order = String(order);
    const next = [...region.children].find((c) => Number((c as HTMLElement).dataset.order) > order) ?? null;
    if (move) (region as HTMLElement & { moveBefore(node: Node, child: Node | null): void }).moveBefore(el, next);
    else region.insertBefore(el, next);
  }

  /** The stacking container of a position: the player's, or one made here (and removed when empty). */
  private region(position: string): HTMLElement {
    const parent = (position === 'sidebar' || position === 'open') && this.options.aside ? this.options.aside : this.overlay;
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
