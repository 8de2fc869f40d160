import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import WebSocket from 'ws';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../scripts/chromium.mjs';

// What a new user gets from the registry: the package packed as `npm publish` would pack it,
// installed from the tarball into a project outside the repo, used from there as the README says.

const ROOT = resolve('.');
const TSC = join(ROOT, 'node_modules/typescript7/bin/tsc');
/** The repo's own versions, so the scratch install is served from npm's cache. */
const version = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The README's files for a new project: its ```lang file=PATH blocks, as they are. */
function readmeFiles(): Map<string, string> {
  const readme = readFileSync('README.md', 'utf8');
  return new Map([...readme.matchAll(/```\w+ file=(\S+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!]));
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  assert.equal(result.status, 0, `${cmd} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function write(dir: string, path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

/** Replaces a placeholder that must be there exactly once. */
function placed(text: string, placeholder: string, value: string): string {
  assert.equal(text.split(placeholder).length, 2, `the README file has ${placeholder} once`);
  return text.replace(placeholder, value);
}

/** `npx vidget` in `cwd` on a free port; resolves with its URL once it says it listens. */
async function startVidget(cwd: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  // Its own process group: npx runs the server as a child, and both are stopped together.
  const child = spawn('npx', ['--no', '--', 'vidget'], { cwd, detached: true, env: { ...process.env, NODE_OPTIONS: '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`npx vidget exited with ${code} before listening`);
  });
  const listening = (async () => {
    for await (const line of lines) {
      const url = /Vidget server on (http:\/\/\S+)/.exec(line)?.[1];
      if (url) return url;
    }
    throw new Error('npx vidget closed its output before listening');
  })();
  return { child, url: await Promise.race([listening, exited]) };
}

async function stopVidget(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

/** The first frame the server sends on a new connection to `url` (rejects if it closes first, saying why). */
async function firstFrame(url: string): Promise<{ type: string; username?: string | null }> {
  const ws = new WebSocket(url);
  const closed = once(ws, 'close').then(([code, reason]) => {
    throw new Error(`closed with ${code} ${String(reason)} before a frame`);
  });
  try {
    const [data] = await Promise.race([once(ws, 'message'), closed]);
    return JSON.parse(String(data));
  } finally {
    closed.catch(() => {});
    ws.close();
  }
}

const PLAYER = `document.querySelector('vidget-player')`;
/** JS for the text a widget shows: a class widget's element renders in its own shadow root, a function widget in the wrapper's. */
const widgetText = (id: string) => `(() => {
  const root = ${PLAYER}?.shadowRoot?.querySelector('.vidget-widget[data-widget-id="${id}"]')?.shadowRoot;
  return (root?.firstElementChild?.shadowRoot ?? root)?.textContent?.trim();
})()`;

test('the packed package, installed from its tarball into a new project: types, a Vite page, React, npx vidget and a socket', { timeout: 300_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'vidget-pack-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // 1. Build as `npm run build` does, and pack (prepack would build again: the build is done).
  run('npm', ['run', '--silent', 'build'], ROOT);
  const [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT)) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  const files = packed!.files.map((f) => f.path).sort();
  t.diagnostic(`tarball ${packed!.filename}: ${files.length} files, ${(packed!.size / 1024).toFixed(1)} KiB`);
  assert.deepEqual(
    files.filter((f) => /^(test|bench|demo|scripts|src|public|data|\.ci)\//.test(f)),
    [],
    'no tests, benches, demo, scripts or sources',
  );
  assert.deepEqual(
    files.filter((f) => /\.(ts|tsx|mts)$/.test(f) && !f.endsWith('.d.ts')),
    [],
    'no TypeScript but .d.ts',
  );
  assert.deepEqual(
    files.filter((f) => f.startsWith('dist/') && !/^dist\/[\w-]+\.js$/.test(f)),
    [],
    'of dist/, only the script bundle and its chunks (not the demo page)',
  );
  for (const needed of [
    'package.json',
    'README.md',
    'LICENSE',
    'custom-elements.json',
    'dist/vidget.js',
    'lib/src/index.js',
    'lib/src/index.d.ts',
    'lib/src/define.js',
    'lib/src/define.d.ts',
    'lib/src/protocol/index.js',
    'lib/src/protocol/index.d.ts',
    'lib/src/server/index.js',
    'lib/src/server/index.d.ts',
    'lib/src/server/cli.js',
    'lib/src/server/store/store-worker.js',
    'lib/widgets/poll/poll.js',
  ]) {
    assert.ok(files.includes(needed), `the tarball has ${needed}`);
  }

  // 2. A new project outside the repo, with the tarball and React installed from the registry.
  const app = join(work, 'app');
  write(app, 'package.json', JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  const started = Date.now();
  run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(work, packed!.filename),
      `react@${version('react')}`,
      `react-dom@${version('react-dom')}`,
      `@types/react@${version('@types/react')}`,
      `@types/react-dom@${version('@types/react-dom')}`,
      `@types/node@${version('@types/node')}`,
    ],
    app,
  );
  t.diagnostic(`npm install in the new project: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(existsSync(join(app, 'node_modules/tsx')), false, 'no TypeScript loader installed with vidget');

  // 3. `npx vidget`, as the README says, serving the app's build (made below) on a free port.
  mkdirSync(join(app, 'dist'));
  const help = run('npx', ['--no', '--', 'vidget', '--help'], app);
  for (const listed of ['vidget [serve]', 'vidget token', 'PORT', 'DATA_DIR', 'STATIC_DIR', 'VIDGET_CONFIG']) assert.ok(help.includes(listed), `--help lists ${listed}`);
  const dataDir = join(work, 'data');
  const { child, url } = await startVidget(app, { STATIC_DIR: 'dist', DATA_DIR: dataDir });
  t.after(() => stopVidget(child));
  const host = new URL(url).host;
  // A newcomer's first token, for the built-in demo project, is one the running server accepts.
  const token = run('npx', ['--no', '--', 'vidget', 'token', 'demo', 'alice', '--name', 'Alice'], app, { DATA_DIR: dataDir }).trim();
  const hello = await firstFrame(`ws://${host}/parties/demo/first?_pk=newcomer&token=${token}`);
  assert.deepEqual([hello.type, hello.username], ['hello', 'Alice']);

  // 4. The README's files, pointed at this server, and what the test adds around them.
  const readme = readmeFiles();
  for (const name of ['index.html', 'src/main.ts', 'src/vidget-jsx.d.ts', 'src/Talk.tsx']) assert.ok(readme.has(name), `the README has ${name}`);
  write(app, 'index.html', placed(readme.get('index.html')!, 'ws://localhost:8787', `ws://${host}`));
  write(app, 'src/main.ts', placed(readme.get('src/main.ts')!, `'localhost:8787'`, `'${host}'`));
  write(app, 'src/vidget-jsx.d.ts', readme.get('src/vidget-jsx.d.ts')!);
  write(app, 'src/Talk.tsx', readme.get('src/Talk.tsx')!);
  write(app, 'react.html', '<!doctype html><html lang="en"><meta charset="utf-8"><title>React</title><div id="root"></div><script type="module" src="/src/react-main.tsx"></script></html>');
  write(
    app,
    'src/react-main.tsx',
    `import { createRoot } from 'react-dom/client';\nimport { Talk } from './Talk';\n\ncreateRoot(document.getElementById('root')!).render(<Talk server={\`ws://\${location.host}\`} />);\n`,
  );
  for (const n of [1, 2]) write(app, `public/talks/${n}.json`, JSON.stringify([{ id: `greet${n}`, type: 'greeting', start: 0, props: { name: `talk ${n}` } }]));
  mkdirSync(join(app, 'public'), { recursive: true });
  copyFileSync('test/fixtures/clip.webm', join(app, 'public/talk.webm'));
  // A Node file using the server API, checked with Node's own resolution.
  write(
    app,
    'server.ts',
    `import { createServer, createToken, type VidgetServer } from 'vidget/server';\nimport { validateQuery } from 'vidget/protocol';\n\nconst server: VidgetServer = await createServer({ port: 0 });\nconst { token } = createToken('0123456789abcdef0123456789abcdef', { project: 'demo', sub: 'me' });\nvalidateQuery({ limit: 1 });\nconsole.log(server.url, token);\nawait server.close();\n`,
  );

  // 5. Type-check: the app as a Vite app does (bundler resolution, JSX), the server file as Node
  // does (nodenext); both with skipLibCheck off, so the package's own .d.ts are checked too.
  const strict = { strict: true, target: 'es2022', lib: ['es2023', 'dom', 'dom.iterable'], noEmit: true, skipLibCheck: false };
  write(app, 'tsconfig.json', JSON.stringify({ compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'bundler', jsx: 'react-jsx', types: [] }, include: ['src'] }));
  write(app, 'tsconfig.node.json', JSON.stringify({ compilerOptions: { ...strict, module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] }, files: ['server.ts'] }));
  run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
  run(process.execPath, [TSC, '-p', 'tsconfig.node.json'], app);

  // 6. Vite builds both pages from the installed package (not from the repo's sources).
  await build({
    root: app,
    configFile: false,
    logLevel: 'silent',
    build: { outDir: 'dist', emptyOutDir: true, rollupOptions: { input: { index: join(app, 'index.html'), react: join(app, 'react.html') } } },
  });
  const bundled = readFileSync(join(app, 'dist/index.html'), 'utf8');
  assert.doesNotMatch(bundled, /wt-pkg|\/src\//, 'built, not served from sources');

  // 7. The pages in Chromium, against `npx vidget`.
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  /** Opens `path` in a new context; `logged` resolves with what the page first logs after `label`. */
  const open = async (path: string, label = ''): Promise<{ page: Page; errors: string[]; logged: Promise<unknown> }> => {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const logged = new Promise((resolve) =>
      page.on('console', async (m) => {
        const [first, second] = await Promise.all(m.args().map((a) => a.jsonValue()));
        if (first === label) resolve(second);
      }),
    );
    await page.goto(`${url}${path}`);
    return { page, errors, logged };
  };

  // The plain Vite page: a custom Lit widget, a built-in one (loaded on demand, with a socket),
  // and the page's own WidgetSocket, whose publish comes back from the server.
  const vite = await open('/index.html', 'guestbook:');
  assert.equal(await (await vite.page.waitForFunction(widgetText('hi'), null, { timeout: 15_000 })).jsonValue(), 'Hello Vite');
  await vite.page.waitForFunction(`${widgetText('count')}?.startsWith('1 ')`, null, { timeout: 15_000 });
  // The chat with its parts (the name line is an element of its own, defined by the chat).
  const nameLine = `${PLAYER}.shadowRoot.querySelector('.vidget-widget[data-widget-id="talk"]')?.shadowRoot?.querySelector('vidget-chat')?.shadowRoot?.querySelector('vidget-name-line')?.shadowRoot?.querySelector('strong')?.textContent`;
  assert.match(String(await (await vite.page.waitForFunction(nameLine, null, { timeout: 15_000 })).jsonValue()), /^Viewer [\w-]{4}$/);
  assert.deepEqual(await vite.logged, { text: 'signed' }, 'the socket published, and the record came back');
  assert.deepEqual(vite.errors, []);

  // React: the element rendered by React, then another config from React state.
  const react = await open('/react.html');
  assert.equal(await (await react.page.waitForFunction(widgetText('greet1'), null, { timeout: 15_000 })).jsonValue(), 'Hi talk 1');
  await react.page.click('button');
  assert.equal(await (await react.page.waitForFunction(widgetText('greet2'), null, { timeout: 15_000 })).jsonValue(), 'Hi talk 2');
  assert.equal(await react.page.evaluate(widgetText('greet1')), undefined, "the first talk's widget is gone");
  assert.deepEqual(react.errors, []);
});
