/** `npm start` / `npm run serve`: a Vidget server configured from the environment (see `ENVIRONMENT`). */
import { createServer, type VidgetServer } from './create-server.js';
import { optionsFromEnv } from './env-options.js';

let server: VidgetServer;
let options: ReturnType<typeof optionsFromEnv>;
try {
  options = optionsFromEnv(process.env);
  server = await createServer(options);
} catch (error) {
  console.error(`vidget: cannot start: ${(error as Error).message}`);
  process.exit(1);
}
console.log(`Vidget server on ${server.url}  (sockets: ${server.wsUrl}/parties/<project>/<room>, data: ${options.dataDir}, static: ${options.staticDir ?? 'none'}, projects: ${options.configFile ?? 'demo (no vidget.config.json)'})`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('stopping: storing what was accepted…');
    void server.close().then(() => process.exit(0));
  });
}
