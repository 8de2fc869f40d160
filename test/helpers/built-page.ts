import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../scripts/chromium.mjs';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { startServer } from '../server/helpers.js';
import type { VidgetServer } from '../../src/server/index.js';


/**
 * A real server serving the bundle built exactly as `npm run build` builds it, the test clip, and
 * `index.html` with `body`; plus headless Chromium. For tests of what a page owner embeds.
 */
export async function builtPage(body: string): Promise<{ server: VidgetServer; browser: Browser; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'vidget-page-'));
  await build({ logLevel: 'silent', mode: 'lib', build: { outDir: dir, emptyOutDir: true } });
  copyFileSync('test/fixtures/clip.webm', join(dir, 'clip.webm'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>embed</title>\n<script type="module" src="/vidget.js"></script>\n${body}`);
  const server = await startServer({ staticDir: dir });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  return {
    server,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
