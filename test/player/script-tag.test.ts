import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { startServer } from '../server/helpers.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

test('the built dist/vidget.js works from a plain script tag: <vidget-player>, window.vidget, a widget on the video', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vidget-script-tag-'));
  // Built exactly as `npm run build` builds it (vite.config.ts, mode lib).
  await build({ logLevel: 'silent', mode: 'lib', build: { outDir: dir, emptyOutDir: true } });
  copyFileSync('test/fixtures/clip.webm', join(dir, 'clip.webm'));
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>embed</title>
    <script type="module" src="/vidget.js"></script>
    <vidget-player project="embed">
      <video src="/clip.webm" muted></video>
      <script type="application/json">[{ "id": "hi", "type": "hello", "start": 0, "end": 5, "props": { "name": "page owner" } }]</script>
    </vidget-player>
    <script type="module">
      vidget.defineWidget('hello', (api, root, props) => { root.textContent = 'Hello ' + props.name; });
    </script>`,
  );
  const server = await startServer({ staticDir: dir });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/index.html`);
  const text = await page.waitForFunction(
    `(() => { const w = document.querySelector('vidget-player')?.shadowRoot?.querySelector('.vidget-widget'); return w?.shadowRoot?.textContent; })()`,
    null,
    { timeout: 10_000 },
  );
  assert.equal(await text.jsonValue(), 'Hello page owner');
  assert.equal(await page.evaluate('typeof window.vidget.defineWidget'), 'function');
  assert.equal(await page.evaluate(`customElements.get('vidget-player') === window.vidget.VidgetPlayer`), true);
  assert.deepEqual(errors, []);
  assert.ok(readFileSync(join(dir, 'vidget.js')).length > 0);
});
