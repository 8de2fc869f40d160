// Static files: byte ranges for video, the bundle readable from other origins with cache headers
// that fit hashed chunks, and nothing served that is not meant to be: no traversal, no dotfiles,
// no symlink out of the folder, never the data directory, and never the working directory.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { createServer } from '../../../src/server/index.js';
import { startServer, tempDir } from '../helpers.js';
import { spawnServer } from '../server-process.js';

/** A file every Linux machine has whose read fails: the process must live through it. */
const UNREADABLE = '/sys/bus/pci/rescan';

/** A folder with `files` (path → content) in it. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vidget-static-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('static files', () => {
  test('answer byte ranges (videos need them to seek)', async (t) => {
    const server = await startServer({ staticDir: folder({ 'clip.webm': '0123456789' }) });
    t.after(() => server.close());
    const whole = await fetch(`${server.url}/clip.webm`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.equal(await whole.text(), '0123456789');
    const part = await fetch(`${server.url}/clip.webm`, { headers: { range: 'bytes=2-5' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 2-5/10');
    assert.equal(await part.text(), '2345');
    assert.equal(await (await fetch(`${server.url}/clip.webm`, { headers: { range: 'bytes=-3' } })).text(), '789');
    assert.equal(await (await fetch(`${server.url}/clip.webm`, { headers: { range: 'bytes=7-' } })).text(), '789');
    assert.equal((await fetch(`${server.url}/clip.webm`, { headers: { range: 'bytes=20-30' } })).status, 416);
  });

  test('the bundle is readable from any origin; hashed chunks are cached for a year, the rest revalidated', async (t) => {
    const server = await startServer({ staticDir: folder({ 'vidget.js': 'export {}', 'vidget-core-C-6Hqs5u.js': 'export {}', 'index.html': '<p>hi</p>' }) });
    t.after(() => server.close());
    const entry = await fetch(`${server.url}/vidget.js`, { headers: { origin: 'https://customer.example' } });
    assert.equal(entry.headers.get('access-control-allow-origin'), '*');
    assert.equal(entry.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.equal(entry.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(entry.headers.get('cache-control')!, /max-age=0, must-revalidate/);
    const chunk = await fetch(`${server.url}/vidget-core-C-6Hqs5u.js`);
    assert.equal(chunk.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(chunk.headers.get('access-control-allow-origin'), '*');
    const again = await fetch(`${server.url}/vidget.js`, { headers: { 'if-none-match': entry.headers.get('etag')! } });
    assert.equal(again.status, 304);
    assert.equal((await fetch(`${server.url}/`)).status, 200);
  });

  test('traversal, dotfiles and symlinks out of the folder are never served', async (t) => {
    const outside = folder({ 'secret.txt': 'outside' });
    const dir = folder({ 'ok.txt': 'ok', '.env': 'KEY=1', '.git/config': '[core]', 'sub/.hidden': 'h', 'sub/file.txt': 'inner' });
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'link-out.txt'));
    symlinkSync(outside, join(dir, 'dir-out'));
    symlinkSync(join(dir, 'sub', 'file.txt'), join(dir, 'link-in.txt'));
    const server = await startServer({ staticDir: dir });
    t.after(() => server.close());
    for (const path of [
      '/..%2f..%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/.env',
      '/.git/config',
      '/%2egit/config',
      '/sub/.hidden',
      '/sub/..%2f.env',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/sub%2f..%2f.env',
    ]) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, `${path} answered ${res.status}`);
      assert.doesNotMatch(await res.text(), /KEY=1|\[core\]|outside|root:/);
    }
    assert.equal(await (await fetch(`${server.url}/link-in.txt`)).text(), 'inner', 'a symlink inside the folder is fine');
  });

  test('the server refuses to start when the data directory is inside the static folder', async () => {
    const dir = folder({ 'index.html': '<p>hi</p>' });
    await assert.rejects(createServer({ port: 0, staticDir: dir, dataDir: join(dir, 'data'), log: () => {} }), /data directory .* is inside the static folder/);
  });

  test('`npm run serve` in a checkout without a build serves nothing: not the data, not .git, not the sources', async (t) => {
    const checkout = folder({ 'index.html': '<p>source page</p>', '.git/config': '[core]', 'src/index.ts': 'export {}', 'package.json': '{}' });
    const server = await spawnServer({ DATA_DIR: './data' }, { cwd: checkout });
    t.after(() => server.stop());
    for (const path of ['/data/secret', '/data/vidget.db', '/.git/config', '/src/index.ts', '/package.json', '/index.html']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
    }
    const root = await fetch(`${server.url}/`);
    assert.match(((await root.json()) as { error: { message: string } }).error.message, /serves no static files/);
    assert.match(server.output(), /static: none/);
  });

  test('with a build, only dist/ is served', async (t) => {
    const checkout = folder({ 'dist/index.html': '<p>built</p>', '.git/config': '[core]', 'package.json': '{}' });
    const server = await spawnServer({ DATA_DIR: join(tempDir(), 'data') }, { cwd: checkout });
    t.after(() => server.stop());
    assert.equal(await (await fetch(`${server.url}/`)).text(), '<p>built</p>');
    assert.equal((await fetch(`${server.url}/package.json`)).status, 404);
    assert.equal((await fetch(`${server.url}/dist/index.html`)).status, 404);
  });

  test('a file that cannot be read is answered 500 and the server goes on', { skip: !existsSync(UNREADABLE) && `${UNREADABLE} is absent on this machine` }, async (t) => {
    // A sysfs attribute without a read method: stat says a 4 KB regular file, open() fails even for root.
    const server = await startServer({ staticDir: dirname(UNREADABLE) });
    t.after(() => server.close());
    const res = await fetch(`${server.url}/${basename(UNREADABLE)}`);
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'internal');
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
  });
});
