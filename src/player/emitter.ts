/** A listener of an {@link Emitter}; arguments depend on the event. */
// Each event has its own arguments (a widget id, a variable's name and values): listeners declare them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Listener = (...args: any[]) => void;

/**
 * Listeners by event name (Cinema8's camelCase names), called in the order added. One that
 * throws is logged and the others still run. Serves the player's events and each widget's own
 * lifecycle events.
 */
export class Emitter {
  private readonly listeners = new Map<string, Set<Listener>>();

  /** `who` names the listeners in the log when one throws, e.g. `widget poll-1`. */
  constructor(private readonly who: string) {}

  /** Adds a listener; returns a function that removes it. */
  on(name: string, fn: Listener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn);
    return () => this.off(name, fn);
  }

  off(name: string, fn: Listener): void {
    this.listeners.get(name)?.delete(fn);
  }

  /** Adds a listener that runs once. */
  once(name: string, fn: Listener): () => void {
    const wrapper = (...args: unknown[]) => {
      this.off(name, wrapper);
      fn(...args);
    };
    return this.on(name, wrapper);
  }

  emit(name: string, ...args: unknown[]): void {
    for (const fn of [...(this.listeners.get(name) ?? [])]) {
      try {
        fn(...args);
      } catch (error) {
        console.error(`vidget: ${this.who} threw in "${name}"`, error);
      }
    }
  }

  /** Listeners of `name`, or of every event. */
  count(name?: string): number {
    if (name !== undefined) return this.listeners.get(name)?.size ?? 0;
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  clear(): void {
    this.listeners.clear();
  }
}
