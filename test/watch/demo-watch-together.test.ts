import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtDemo } from '../helpers/built-page.js';

test('demo: "Watch together" makes a session whose address another window opens to join; both panels show both people', async (t) => {
  const demo = await builtDemo();
  t.after(demo.close);
  const [ann, bob] = await demo.viewers(2);
  const problems: string[] = [];
  for (const page of [ann!, bob!]) page.on('pageerror', (e) => problems.push(e.message));
  await ann!.getByRole('button', { name: 'Watch together' }).click();
  await ann!.waitForFunction(() => location.hash.startsWith('#watch='));
  const address = ann!.url();
  await bob!.goto('about:blank'); // a new load, not a jump within the page
  await bob!.goto(address);
  const tiles = (page: typeof ann) => page!.locator('vidget-watch-together .tile');
  await bob!.waitForFunction(
    () => document.querySelectorAll('vidget-watch-together').length === 1 && document.querySelector('vidget-watch-together')!.shadowRoot!.querySelectorAll('.tile').length === 2,
  );
  await ann!.waitForFunction(() => document.querySelector('vidget-watch-together')!.shadowRoot!.querySelectorAll('.tile').length === 2);
  assert.equal(await tiles(bob).count(), 2);
  assert.equal(new URL(bob!.url()).hash, new URL(address).hash, 'the same session');
  assert.deepEqual(problems, []);
});
