import { get, set } from 'idb-keyval';
import type { Json } from '../protocol/record.js';
import { vidgetStore } from '../socket/idb-store.js';

/**
 * Named JSON values a player keeps while the page is open; the ones set `persistent` are also
 * kept in IndexedDB across reloads, all in one record under `key`. The player's variables are
 * one of these, its widgets' own state another.
 */
export class KeptValues {
  /** Resolves when the persistent values are loaded (a value set before then wins over the stored one). */
  readonly ready: Promise<void>;
  private readonly values = new Map<string, Json>();
  private readonly persistent = new Set<string>();

  constructor(private readonly key: IDBValidKey) {
    this.ready = this.load();
  }

  get(name: string): Json | undefined {
    return this.values.get(name);
  }

  all(): Record<string, Json> {
    return Object.fromEntries(this.values);
  }

  /** Sets a value and returns the previous one; `persistent` writes this record's persistent values to IndexedDB. */
  set(name: string, value: Json, persistent = false): Json | undefined {
    const previous = this.values.get(name);
    this.values.set(name, value);
    if (persistent) {
      this.persistent.add(name);
      const saved = Object.fromEntries([...this.persistent].map((n) => [n, this.values.get(n) ?? null]));
      void set(this.key, saved, vidgetStore()).catch(() => {});
    }
    return previous;
  }

  private async load(): Promise<void> {
    try {
      const saved = (await get<Record<string, Json>>(this.key, vidgetStore())) ?? {};
      for (const [name, value] of Object.entries(saved)) {
        this.persistent.add(name);
        if (!this.values.has(name)) this.values.set(name, value);
      }
    } catch {
      // No IndexedDB: the values live for this page only.
    }
  }
}
