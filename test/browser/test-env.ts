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

export { nextEvent } from '../helpers/events.js';
