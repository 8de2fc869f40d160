#!/usr/bin/env node
/**
 * The `vidget` command (`npm start`, `npm run serve`, `npm run vidget -- …`):
 *   vidget [serve]                         start the server, configured from the environment
 *   vidget token <project> <sub> [--name N] [--ttl S] [--rooms JSON]   mint an HS256 client token
 *   vidget sign-room <project> <room>      sign a room name for a project with signedRooms
 *   vidget --help                          this, and every environment variable
 */
import { parseArgs } from 'node:util';
import { createServer, demoProject, loadSecret, type VidgetServer } from './create-server.js';
import { ENVIRONMENT, optionsFromEnv } from './env-options.js';
import { createToken } from './trust/create-token.js';
import { loadProjects, type ProjectConfig } from './trust/project-config.js';
import { signRoom } from './trust/signed-rooms.js';

const USAGE = `usage:
  vidget [serve]                              start the server (configured from the environment)
  vidget token <project> <sub> [--name <display name>] [--ttl <seconds>] [--rooms '<json>']
                                              mint an HS256 client token with the project's secret
  vidget sign-room <project> <room>           sign a room name (projects with signedRooms)
  vidget --help

environment:
${Object.entries(ENVIRONMENT)
  .map(([name, meaning]) => `  ${name.padEnd(30)} ${meaning}`)
  .join('\n')}
`;

/** The project `id` from the configuration the server would use. */
function project(id: string | undefined): ProjectConfig {
  const { configFile, dataDir } = optionsFromEnv(process.env);
  if (!configFile) {
    // Without a configuration the server serves the built-in demo project, with the secret it
    // keeps in the data folder: a newcomer's first token is for it.
    if (id === 'demo') return demoProject(loadSecret(dataDir ?? './data'));
    throw new Error(`no vidget.config.json (or VIDGET_CONFIG): the only project is the built-in "demo"`);
  }
  const found = loadProjects(configFile).find((p) => p.id === id);
  if (!found) throw new Error(`no project "${id}" in ${configFile}`);
  if (!found.secret) throw new Error(`project "${id}" has no secret: its tokens are minted by your own backend`);
  return found;
}

function mint(args: string[]): void {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { name: { type: 'string' }, ttl: { type: 'string' }, rooms: { type: 'string' } } });
  const [id, sub] = positionals;
  if (!id || !sub) throw new Error('token needs <project> <sub>');
  const { token, exp } = createToken(project(id).secret!, {
    project: id,
    sub,
    ...(values.name ? { name: values.name } : {}),
    ...(values.ttl ? { ttlSeconds: Number(values.ttl) } : {}),
    ...(values.rooms ? { rooms: JSON.parse(values.rooms) } : {}),
  });
  console.log(token);
  console.error(`expires ${new Date(exp * 1000).toISOString()}`);
}

async function serve(): Promise<void> {
  const { services, ...options } = optionsFromEnv(process.env);
  const server: VidgetServer = await createServer({ ...options, ...(await services()) });
  console.log(
    `Vidget server on ${server.url}  (sockets: ${server.wsUrl}/parties/<project>/<room>, data: ${process.env.DATABASE_URL ? `PostgreSQL${process.env.REDIS_URL ? ' + Redis' : ''}` : options.dataDir}, static: ${options.staticDir ?? 'none'}, projects: ${options.configFile ?? 'demo (no vidget.config.json)'})`,
  );
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      console.log('stopping: storing what was accepted…');
      void server.close().then(() => process.exit(0));
    });
  }
}

const [command = 'serve', ...rest] = process.argv.slice(2);
try {
  if (command === '--help' || command === '-h' || command === 'help') console.log(USAGE);
  else if (command === 'serve') await serve();
  else if (command === 'token') mint(rest);
  else if (command === 'sign-room') {
    const [id, room] = rest;
    if (!id || !room) throw new Error('sign-room needs <project> <room>');
    console.log(signRoom(project(id).secret!, id, room));
  } else throw new Error(`unknown command "${command}"\n${USAGE}`);
} catch (error) {
  console.error(`vidget: ${command === 'serve' ? 'cannot start: ' : ''}${(error as Error).message}`);
  process.exit(1);
}
