import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import { builtPage } from '../helpers/built-page.js';

const PLAYER = `document.querySelector('vidget-player')`;

/** The opacity of Chromium's native control panel (in the video's user-agent shadow root), by DevTools. */
async function panelOpacity(page: Page): Promise<() => Promise<number>> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
  type Node = { nodeId: number; attributes?: string[]; children?: Node[]; shadowRoots?: Node[] };
  const find = (node: Node): Node | undefined => {
    const attrs = node.attributes ?? [];
    if (attrs[attrs.indexOf('pseudo') + 1] === '-webkit-media-controls-panel' && attrs.includes('pseudo')) return node;
    for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) {
      const found = find(child);
      if (found) return found;
    }
    return undefined;
  };
  const panel = find(root as Node);
  assert.ok(panel, "Chromium's control panel");
  return async () => {
    const { computedStyle } = await cdp.send('CSS.getComputedStyleForNode', { nodeId: panel.nodeId });
    return Number(computedStyle.find((p) => p.name === 'opacity')!.value);
  };
}

test("the controls band is reserved whenever Chromium's native controls are visible, and released once they have faded out", async (t) => {
  const page = await builtPage(`<vidget-player project="band"><video src="/clip.webm" muted controls loop></video></vidget-player>`);
  t.after(page.close);
  const p = await page.browser.newPage({ viewport: { width: 800, height: 600 } });
  await p.goto(`${page.server.url}/index.html`);
  await p.waitForFunction(`${PLAYER}?.playerApi && document.querySelector('video').readyState >= 2`, null, { timeout: 10_000 });
  const opacity = await panelOpacity(p);
  const band = () => p.evaluate(`${PLAYER}.hasAttribute('controls-shown')`) as Promise<boolean>;
  const frame = () => p.evaluate('new Promise((r) => requestAnimationFrame(() => r()))');

  assert.equal(await band(), true, 'paused: the controls show, the band is kept');
  assert.ok((await opacity()) > 0.99);

  // Playing untouched: Chromium hides its controls after 2.5 s and fades them out. Sampled every
  // frame, the band is kept whenever they are visible at all, and released after.
  await p.evaluate(`${PLAYER}.playerApi.play()`);
  const started = Date.now();
  let samples = 0;
  let visibleWithoutBand = 0;
  let chromiumHidden = false;
  while (Date.now() - started < 10_000) {
    const [shown, seen] = [await band(), await opacity()];
    samples++;
    if (seen > 0.01 && !shown) visibleWithoutBand++;
    chromiumHidden ||= seen === 0;
    if (!shown) break;
    await frame();
  }
  assert.equal(visibleWithoutBand, 0, 'never a visible control without its band');
  assert.equal(await band(), false, `the band was released while playing untouched (${samples} samples)`);
  assert.equal(chromiumHidden, true, 'Chromium had hidden its controls before the band went');
  assert.equal(await opacity(), 0);

  // A pointer move over the video shows the controls again, and the band at once.
  const box = (await p.locator('video').boundingBox())!;
  await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  assert.equal(await band(), true);
  await p.waitForFunction(`${PLAYER}.hasAttribute('controls-shown')`);
  await frame();
  assert.ok((await opacity()) > 0, 'Chromium shows them too');
});
