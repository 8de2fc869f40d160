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

/** Stops the run's server (its port and data are kept for `startServer`). */
export async function stopServer(): Promise<void> {
  await fetch('/__test-server/stop');
}

/** Starts the run's server again on the same port with the same data. */
export async function startServer(): Promise<void> {
  await fetch('/__test-server/start');
}

export { nextEvent } from '../helpers/events.js';
