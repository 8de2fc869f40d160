// vidget.config.json: checked at start with an error that names the bad field; the command line
// mints tokens and signs rooms from it, and what it makes is what the server accepts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseProjects } from '../../../src/server/index.js';
import { TestClient, startServer } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Runs `vidget <args>` in a folder holding `config` as vidget.config.json. */
function vidget(config: unknown, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vidget-cli-'));
  writeFileSync(join(dir, 'vidget.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  const run = spawnSync(process.execPath, ['--import', `${ROOT}node_modules/tsx/dist/loader.mjs`, `${ROOT}src/server/cli.ts`, ...args], {
    cwd: dir,
    env: { ...process.env, PORT: '0', DATA_DIR: join(dir, 'data') },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const SITE = { id: 'site', secret: 'site-secret-0123456789', anonymous: false as const, signedRooms: true };

describe('projects configuration', () => {
  test('each bad field is named', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /top level must be \{ "projects"/],
      [{ projects: [{ id: 'bad id' }] }, /projects\[0\]\.id/],
      [{ projects: [{ id: 'a', secret: 'short' }] }, /projects\[0\]\.secret must be a string of at least 16/],
      [{ projects: [{ id: 'a', origins: ['https://a.example/path'] }] }, /projects\[0\]\.origins\[0\]/],
      [{ projects: [{ id: 'a', anonymous: ['read', 'fly'] }] }, /projects\[0\]\.anonymous: "fly"/],
      [{ projects: [{ id: 'a', signedRooms: true }] }, /signedRooms needs a secret/],
      [{ projects: [{ id: 'a', jwksUrl: 'http://example.com/jwks' }] }, /jwksUrl must be an https/],
      [{ projects: [{ id: 'a', publicKey: 'not a key' }] }, /publicKey must be a PEM/],
      [{ projects: [{ id: 'a' }, { id: 'a' }] }, /projects\[1\]\.id "a" appears twice/],
      [{ projects: [{ id: 'a', colour: 'red' }] }, /projects\[0\]\.colour is not a project setting/],
    ];
    for (const [config, message] of cases) assert.throws(() => parseProjects(config), message, JSON.stringify(config));
  });

  test('the server refuses to start on a bad config, naming the field', () => {
    const run = vidget({ projects: [{ id: 'site', origins: ['site.example'] }] });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /cannot start: vidget\.config\.json: projects\[0\]\.origins\[0\] must be an origin/);
    assert.equal(vidget('{ not json').status, 1);
  });

  test('vidget token and vidget sign-room make what the server accepts', async (t) => {
    const minted = vidget({ projects: [SITE] }, 'token', 'site', 'ann', '--name', 'Ann');
    assert.equal(minted.status, 0, minted.stderr);
    const signed = vidget({ projects: [SITE] }, 'sign-room', 'site', 'show');
    assert.equal(signed.status, 0, signed.stderr);
    const server = await startServer({ projects: [SITE] });
    t.after(() => server.close());
    const c = await TestClient.joined(server, 'site', signed.stdout.trim(), { token: minted.stdout.trim() });
    assert.equal((await c.publish('hi')).record.username, 'Ann');
    await c.close();
    assert.match(vidget({ projects: [SITE] }, '--help').stdout, /VIDGET_CONFIG/);
    assert.equal(vidget({ projects: [SITE] }, 'token', 'nobody', 'x').status, 1);
  });
});
