import type { Json } from '../protocol/index.js';
import type { WidgetApi } from './widget-api.js';
import type { VidgetWidget } from './vidget-widget.js';

/** A widget written as a function (Cinema8 style); may return a cleanup function. */
export type WidgetFunction = (api: WidgetApi, root: ShadowRoot, props: Record<string, Json>) => void | (() => void);
/** A widget written as a Lit element class. */
export type WidgetClass = new () => VidgetWidget;
/** Either way of writing a widget. */
export type WidgetDefinition = WidgetClass | WidgetFunction;

const TYPE = /^[a-z][a-z0-9-]{0,63}$/;

/** The custom element tag of a class widget: its type if it has a dash, else `vidget-<type>`. */
export const tagFor = (type: string): string => (type.includes('-') ? type : `vidget-${type}`);

/** Whether a definition is a class (an element) rather than a function widget. */
export const isWidgetClass = (def: WidgetDefinition): def is WidgetClass => typeof def === 'function' && def.prototype instanceof HTMLElement;

/**
 * Widget types by name: defined by authors (`defineWidget`), or loaded on demand (built-ins
 * register a loader, a dynamic import, so the core bundle does not carry them).
 */
export class WidgetRegistry {
  private readonly definitions = new Map<string, WidgetDefinition>();
  private readonly loaders = new Map<string, () => Promise<unknown>>();
  private readonly waiting = new Map<string, Array<(definition: WidgetDefinition) => void>>();

  /** Defines a widget type. A class is also registered as the custom element `tagFor(type)`. */
  define(type: string, definition: WidgetDefinition): void {
    if (!TYPE.test(type)) throw new TypeError(`widget type "${type}" must be lowercase letters, digits and dashes`);
    if (typeof definition !== 'function') throw new TypeError(`widget "${type}" must be a VidgetWidget class or a function`);
    if (this.definitions.has(type)) throw new TypeError(`widget "${type}" is already defined`);
    if (isWidgetClass(definition) && !customElements.get(tagFor(type))) customElements.define(tagFor(type), definition);
    this.definitions.set(type, definition);
    // A copy: each waiter removes itself from the list as it resolves.
    for (const resolve of [...(this.waiting.get(type) ?? [])]) resolve(definition);
    this.waiting.delete(type);
  }

  /** Registers a lazy loader for a type; it must call `define` for that type. */
  registerLoader(type: string, loader: () => Promise<unknown>): void {
    this.loaders.set(type, loader);
  }

  /**
   * The definition of a type, loading it first if it has a loader. A type that is not known yet
   * is waited for up to `waitMs` (a page usually defines its widgets after the player script has
   * loaded and read its config), like `customElements.whenDefined`; then undefined.
   */
  async resolve(type: string, waitMs = 0): Promise<WidgetDefinition | undefined> {
    const known = this.definitions.get(type);
    if (known) return known;
    const loader = this.loaders.get(type);
    if (loader) {
      await loader();
      return this.definitions.get(type);
    }
    if (waitMs <= 0) return undefined;
    return new Promise((resolve) => {
      const list = this.waiting.get(type) ?? [];
      const done = (definition?: WidgetDefinition) => {
        clearTimeout(timer);
        list.splice(list.indexOf(done), 1);
        resolve(definition);
      };
      const timer = setTimeout(done, waitMs);
      list.push(done);
      this.waiting.set(type, list);
    });
  }

  /** Whether a type is defined now or can be loaded. */
  has(type: string): boolean {
    return this.definitions.has(type) || this.loaders.has(type);
  }
}

/** The page-wide registry behind `vidget.defineWidget`. */
export const widgets = new WidgetRegistry();
