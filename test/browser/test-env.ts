/** Where the Vidget server started for this browser test run listens. */
export interface TestEnv {
  /** `127.0.0.1:<port>`, the partysocket `host`. */
  host: string;
  /** `http://127.0.0.1:<port>`, the REST API. */
  http: string;
}

/** Reads the address of the server the runner started (see web-test-runner.config.mjs). */
export async function testEnv(): Promise<TestEnv> {
  return (await fetch('/__test-env')).json();
}

/** Resolves with the first event of `type` on `target` that matches. */
export function nextEvent<T extends Event = Event>(target: EventTarget, type: string, match: (e: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const listener = (e: Event) => {
      if (!match(e as T)) return;
      target.removeEventListener(type, listener);
      resolve(e as T);
    };
    target.addEventListener(type, listener);
  });
}
