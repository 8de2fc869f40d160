import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { builtPage } from '../helpers/built-page.js';

/** The first ```html block after a README heading, as the README has it. */
function readmeBlock(heading: string): string {
  const readme = readFileSync('README.md', 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README has "${heading}"`);
  const block = /```html\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, `an html block under "${heading}"`);
  return block[1]!;
}

/** Replaces a placeholder the README uses for the server's address, which must be there once. */
function placed(text: string, placeholder: string, value: string): string {
  assert.equal(text.split(placeholder).length, 2, `the README snippet has ${placeholder} once`);
  return text.replace(placeholder, value);
}

const PLAYER = `document.querySelector('vidget-player')`;
const widgetRoot = (id: string) => `${PLAYER}?.shadowRoot?.querySelector('.vidget-widget[data-widget-id="${id}"]')?.shadowRoot`;

test("README: a page on another origin embeds the bundle with the README's snippets as they are; both widget examples render and work", async (t) => {
  // Origin A: the Vidget server with the bundle built as `npm run build` builds it.
  const vidget = await builtPage('');
  t.after(vidget.close);
  // Origin B: the page owner's site, serving the README's page and its video.
  const embed = placed(placed(readmeBlock('## Embedding the player'), 'https://your-vidget-server', vidget.server.url), 'ws://localhost:8787', vidget.server.wsUrl);
  const widgetCode = readmeBlock('## Writing a widget');
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>A page owner's site</title><link rel="icon" href="data:,">\n${embed}\n${widgetCode}`;
  const site: Server = createServer((req, res) => {
    // The video from the Vidget server, which answers Range requests (needed to seek).
    if (req.url === '/talk.webm') res.writeHead(302, { location: `${vidget.server.url}/clip.webm` }).end();
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => site.close(() => resolve())));
  const siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  assert.notEqual(new URL(siteUrl).origin, new URL(vidget.server.url).origin, 'two origins');

  const page = await vidget.browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
  const bundle = page.waitForResponse((r) => r.url() === `${vidget.server.url}/vidget.js`);
  await page.goto(siteUrl);
  assert.equal((await bundle).headers()['access-control-allow-origin'], '*');

  // The Lit example (`hello`, from 0 s): its button, rendered with window.vidget's html and css.
  await page.waitForFunction(`${widgetRoot('ask')}?.querySelector('vidget-hello')?.shadowRoot?.querySelector('button')?.textContent === 'Pause'`, null, { timeout: 15_000 });
  assert.equal(
    await page.evaluate(
      `getComputedStyle(${widgetRoot('ask')}.querySelector('vidget-hello').shadowRoot.querySelector('button')).fontFamily === getComputedStyle(${widgetRoot('ask')}.querySelector('vidget-hello')).fontFamily`,
    ),
    true,
    'its css applied (font: inherit)',
  );
  // The function example (`note`, 2-8 s): its text, and its socket's live count from the server on origin A.
  await page.evaluate(`${PLAYER}.playerApi.seek(2.5)`);
  await page.waitForFunction(`${widgetRoot('hello')}?.querySelector('p')?.textContent === 'Hi!'`, null, { timeout: 10_000 });
  await page.waitForFunction(`${widgetRoot('hello')}.querySelector('p').title === '1 watching'`, null, { timeout: 10_000 });
  // The Lit widget's button works: it pauses the video.
  await page.evaluate(`${PLAYER}.playerApi.play()`);
  await page.waitForFunction(`!${PLAYER}.playerApi.paused`);
  await page.evaluate(`${widgetRoot('ask')}.querySelector('vidget-hello').shadowRoot.querySelector('button').click()`);
  await page.waitForFunction(`${PLAYER}.playerApi.paused`);
  assert.deepEqual(problems, []);
});
