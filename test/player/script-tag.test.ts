import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtPage } from '../helpers/built-page.js';

test('the built dist/vidget.js works from a plain script tag: <vidget-player>, window.vidget, a widget on the video', async (t) => {
  const { server, browser, close } = await builtPage(`
    <vidget-player project="embed">
      <video src="/clip.webm" muted></video>
      <script type="application/json">[{ "id": "hi", "type": "hello", "start": 0, "end": 5, "props": { "name": "page owner" } }]</script>
    </vidget-player>
    <script type="module">
      vidget.defineWidget('hello', (api, root, props) => { root.textContent = 'Hello ' + props.name; });
    </script>`);
  t.after(close);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/index.html`);
  const text = await page.waitForFunction(`(() => { const w = document.querySelector('vidget-player')?.shadowRoot?.querySelector('.vidget-widget'); return w?.shadowRoot?.textContent; })()`, null, {
    timeout: 10_000,
  });
  assert.equal(await text.jsonValue(), 'Hello page owner');
  assert.equal(await page.evaluate('typeof window.vidget.defineWidget'), 'function');
  assert.equal(await page.evaluate(`customElements.get('vidget-player') === window.vidget.VidgetPlayer`), true);
  assert.deepEqual(errors, []);
});
