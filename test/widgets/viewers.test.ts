import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { builtPage, widgetEl } from '../helpers/built-page.js';

const PAGE = `
  <vidget-player project="demo">
    <video src="/clip.webm" muted></video>
    <script type="application/json">[{ "id": "watching", "type": "viewers", "position": "top" }]</script>
  </vidget-player>`;
const COUNT = `${widgetEl('viewers')}?.shadowRoot?.querySelector('[role=status]')?.textContent`;
const shows = (page: Page, n: number) => page.waitForFunction(`${COUNT} === '${n} watching'`, null, { timeout: 10_000 });

test('viewers: the live count follows pages as they open, reload and close', async (t) => {
  const page = await builtPage(PAGE);
  t.after(page.close);
  const [a] = await page.viewers(1);
  await shows(a!, 1);
  const [b, c] = await page.viewers(2);
  for (const p of [a!, b!, c!]) await shows(p, 3);
  await c!.close();
  for (const p of [a!, b!]) await shows(p, 2);
  await b!.reload(); // the old connection goes, the new one comes: still 2
  for (const p of [a!, b!]) await shows(p, 2);
  await b!.context().close();
  await shows(a!, 1);
});
