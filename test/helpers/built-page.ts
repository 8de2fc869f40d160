import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../scripts/chromium.mjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { startServer, tempDir } from '../server/helpers.js';
import type { ServerOptions, VidgetServer } from '../../src/server/index.js';

/** A built page, its server and a headless Chromium. */
export interface BuiltPage {
  /** The server now running (replaced by `start()`). */
  server: VidgetServer;
  browser: Browser;
  /** `n` pages, each in its own browser context (its own IndexedDB: a distinct viewer), on `index.html`. */
  viewers(n: number, viewport?: { width: number; height: number }): Promise<Page[]>;
  /** Stops the server (pages stay open and go offline). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real server serving the bundle built exactly as `npm run build` builds it, the test clip, and
 * `index.html` with `body`; plus headless Chromium. For tests of what a page owner embeds.
 */
export async function builtPage(body: string, options: ServerOptions = {}): Promise<BuiltPage> {
  const dir = mkdtempSync(join(tmpdir(), 'vidget-page-'));
  await build({ logLevel: 'silent', mode: 'lib', build: { outDir: dir, emptyOutDir: true } });
  copyFileSync('test/fixtures/clip.webm', join(dir, 'clip.webm'));
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>embed</title>\n<script type="module" src="/vidget.js"></script>\n${body}`,
  );
  return serve(dir, options);
}

/**
 * The demo pages (`index.html`, `analytics.html`) built as `npm run build` builds them, served as
 * `npm start` serves them; `pages` adds files beside them (name → HTML).
 */
export async function builtDemo(options: ServerOptions = {}, pages: Record<string, string> = {}): Promise<BuiltPage> {
  const dir = mkdtempSync(join(tmpdir(), 'vidget-demo-'));
  await build({ logLevel: 'silent', build: { outDir: dir, emptyOutDir: true } });
  await build({ logLevel: 'silent', mode: 'lib', build: { outDir: dir, emptyOutDir: false } });
  copyFileSync('test/fixtures/clip.webm', join(dir, 'clip.webm'));
  for (const [name, html] of Object.entries(pages)) writeFileSync(join(dir, name), html);
  return serve(dir, options);
}

async function serve(dir: string, options: ServerOptions): Promise<BuiltPage> {
  const dataDir = tempDir();
  const serverOptions = { staticDir: dir, dataDir, ...options };
  let server = await startServer(serverOptions);
  let running = true;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const page: BuiltPage = {
    server,
    browser,
    async viewers(n, viewport) {
      return Promise.all(
        Array.from({ length: n }, async () => {
          const p = await (await browser.newContext(viewport ? { viewport } : {})).newPage();
          await p.goto(`${page.server.url}/index.html`);
          return p;
        }),
      );
    },
    async stop() {
      running = false;
      await server.close();
    },
    async start() {
      page.server = server = await startServer({ ...serverOptions, port: server.port });
      running = true;
    },
    async close() {
      await browser.close();
      if (running) await server.close();
    },
  };
  return page;
}

/** JS (a string, see below) for `<vidget-TYPE>` inside the player's widget wrapper, `id` picking the entry. */
export const widgetEl = (type: string, id?: string): string =>
  `document.querySelector('vidget-player')?.shadowRoot?.querySelector('.vidget-widget${id ? `[data-widget-id="${id}"]` : ''}')?.shadowRoot?.querySelector('vidget-${type}')`;
// Page code travels as strings: tsx would inject helpers (`__name`) into compiled functions.
