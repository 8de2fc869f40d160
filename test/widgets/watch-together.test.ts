import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { BuiltPage } from '../helpers/built-page.js';
import { playerReady, waitFor, watchPage, wt } from '../watch/watch-helpers.js';

let site: BuiltPage;

before(async () => {
  site = await watchPage();
});
after(() => site.close());

/** What the widget shows, read from its shadow root. */
function tiles(page: Page) {
  return page.evaluate(() => {
    const root = document.querySelector('vidget-watch-together')!.shadowRoot!;
    return {
      tiles: [...root.querySelectorAll('.tile')].map((t) => ({
        name: t.querySelector('.name')!.textContent,
        speaking: t.classList.contains('speaking'),
        video: !!(t.querySelector('video') as HTMLVideoElement | null)?.srcObject && (t.querySelector('video') as HTMLVideoElement).style.display !== 'none',
        playing: ((t.querySelector('video') as HTMLVideoElement | null)?.videoWidth ?? 0) > 0,
        quality: t.querySelector('.dot')!.className,
      })),
      pressed: Object.fromEntries([...root.querySelectorAll('.controls button')].map((b) => [b.textContent, b.getAttribute('aria-pressed')])),
      link: (root.querySelector('input[aria-label="Session link"]') as HTMLInputElement).value,
      width: root.host.getBoundingClientRect().width,
      overflow: root.host.scrollWidth > root.host.clientWidth + 1,
    };
  });
}

test('<vidget-watch-together> at 390 px: tiles with camera, names, mute states, the speaker and quality; the controls start media; screenshots', async () => {
  const [ann, bob] = await site.viewers(2, { width: 390, height: 844 });
  await Promise.all([ann!, bob!].map(playerReady));
  const { sid } = await wt<{ sid: string }>(ann!, 'join', { displayName: 'Ann' });
  await wt(bob!, 'join', { sessionId: sid, displayName: 'Bob' });
  await Promise.all([ann!, bob!].map((p) => wt(p, 'mountWidget')));
  await waitFor(ann!, 'session.participants.length === 2');
  // Ann turns on her camera and microphone with the widget's buttons.
  const button = (label: string) => ann!.locator('vidget-watch-together').getByRole('button', { name: label });
  await button('Camera').click();
  await waitFor(ann!, 'session.participants.find((p) => p.local).videoEnabled');
  await button('Microphone').click();
  await waitFor(ann!, 'session.participants.find((p) => p.local).audioEnabled');
  await bob!.waitForFunction(
    () => {
      const t = document.querySelector('vidget-watch-together')!.shadowRoot!.querySelector('.tile.speaking video') as HTMLVideoElement | null;
      return !!t && t.videoWidth > 0;
    },
    undefined,
    { timeout: 20_000 },
  );
  const seen = await tiles(bob!);
  assert.equal(seen.width, 390 - 16, 'fills the 390 px page (body margins aside)');
  assert.equal(seen.overflow, false);
  assert.deepEqual(
    seen.tiles.map((t) => [t.name, t.video, t.playing, t.speaking]),
    [
      ['Ann', true, true, true],
      ['Bob (you)', false, false, false],
    ],
  );
  assert.match(seen.tiles[0]!.quality, /dot (good|fair|poor)/);
  assert.ok(seen.link.endsWith(`#watch=${sid}`));
  assert.deepEqual((await tiles(ann!)).pressed, { Microphone: 'true', Camera: 'true', Screen: 'false', Leave: null });
  // WCAG 2.1 A/AA inside the widget's shadow root (axe-core, as the demo's widgets are checked).
  await bob!.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
  const axe = (await bob!.evaluate(
    `axe.run({ fromShadowDom: ['vidget-watch-together'] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => ({ passes: r.passes.length, violations: r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')) }))`,
  )) as { passes: number; violations: string[] };
  assert.deepEqual(axe.violations, []);
  assert.ok(axe.passes > 0);
  await bob!.locator('vidget-watch-together').screenshot({ path: 'test-results/watch-together-390.png' });
  await ann!.locator('vidget-watch-together').screenshot({ path: 'test-results/watch-together-390-local.png' });
});

test('<vidget-watch-together>: the invite box rings the user’s page and shows the answer', async () => {
  const [ann, bob] = await site.viewers(2, { width: 390, height: 844 });
  await Promise.all([ann!, bob!].map(playerReady));
  await wt(ann!, 'join', { displayName: 'Ann' });
  await wt(ann!, 'mountWidget');
  // Bob listens for invitations; his user id is what Ann types (here read from his own session).
  const { uid } = await wt<{ uid: string }>(bob!, 'join', {});
  await bob!.evaluate(() => (window as unknown as { wt: { session: { leave(): void } } }).wt.session.leave());
  await wt(bob!, 'listen');
  const box = ann!.locator('vidget-watch-together').getByRole('textbox', { name: 'User id to invite' });
  await box.fill(uid);
  await ann!.locator('vidget-watch-together').getByRole('button', { name: 'Invite' }).click();
  await waitFor(bob!, 'invitations.length === 1');
  await bob!.evaluate(() => (window as unknown as { wt: { invitations: Array<{ decline(): void }> } }).wt.invitations[0]!.decline());
  await ann!
    .locator('vidget-watch-together')
    .getByRole('status')
    .filter({ hasText: `${uid}: declined` })
    .waitFor();
});
