/** Resolves with the next event of `type` on `target` that matches; rejects after `ms`. */
export function nextEvent<T extends Event = Event>(target: EventTarget, type: string, match: (e: T) => boolean = () => true, ms = 8_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`no matching "${type}" event within ${ms} ms`));
    }, ms);
    const listener = (e: Event) => {
      if (!match(e as T)) return;
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(e as T);
    };
    target.addEventListener(type, listener);
  });
}
