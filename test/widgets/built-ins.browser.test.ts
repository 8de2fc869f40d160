import { expect } from '@esm-bundle/chai';
import '../../src/define.js'; // defines <vidget-player> and registers the built-ins
import type { VidgetPlayer } from '../../src/index.js';
import { mountPlayer } from '../browser/mount-player.js';
import { startServer, stopServer, testEnv, type TestEnv } from '../browser/test-env.js';
import { until } from '../helpers/wait.js';

let env: TestEnv;

const player = async (config: unknown[]): Promise<VidgetPlayer> => (await mountPlayer(env, 'builtins', config)).player;

/** The shadow root of a mounted built-in widget's element. */
function widgetRoot(p: VidgetPlayer, id: string): ShadowRoot | null | undefined {
  const wrapper = p.renderRoot.querySelector<HTMLElement>(`[data-widget-id="${id}"]`);
  return wrapper?.shadowRoot?.firstElementChild?.shadowRoot;
}

describe('built-in widgets', () => {
  before(async () => (env = await testEnv()));
  afterEach(() => document.querySelectorAll('vidget-player').forEach((p) => p.remove()));

  it('viewers: every player of the room shows the live count', async () => {
    const config = [{ id: 'watch', type: 'viewers', props: { label: 'watching' } }];
    const [a, b] = [await player(config), await player(config)];
    for (const p of [a, b]) await until(() => widgetRoot(p, 'watch')?.textContent?.trim() === '2 watching', 'the count of 2');
    b.remove();
    await until(() => widgetRoot(a, 'watch')?.textContent?.trim() === '1 watching', 'the count to drop to 1');
    expect(widgetRoot(a, 'watch')!.querySelector('[role=status]')).to.not.equal(null);
  });

  it('connection state: with the server stopped the count is shown stale and "reconnecting…", the chat says so too; live again when it is back', async () => {
    const p = await player([
      { id: 'stale-count', type: 'viewers', props: { label: 'watching' } },
      { id: 'stale-chat', type: 'chat', position: 'sidebar' },
    ]);
    const count = () => widgetRoot(p, 'stale-count')?.querySelector('[role=status]');
    const chatTitle = () => widgetRoot(p, 'stale-chat')?.querySelector('h2')?.textContent;
    await until(() => count()?.textContent === '1 watching' && chatTitle() === 'Comments', 'the live count');
    expect(count()!.querySelector('.stale')).to.equal(null);
    await stopServer();
    try {
      await until(() => count()?.textContent === '1 watchingreconnecting…', `the stale count (${count()?.textContent})`);
      expect(count()!.querySelector('.stale')?.textContent).to.equal('1 watching', 'the last count, muted');
      expect(getComputedStyle(count()!.querySelector('.stale')!).opacity).to.equal('0.7');
      await until(() => chatTitle() === 'Commentsreconnecting…', `the chat's state (${chatTitle()})`);
      expect(widgetRoot(p, 'stale-chat')!.querySelector('.hint')!.textContent).to.equal('', 'a drop is not shown as a chat failure');
    } finally {
      await startServer();
    }
    await until(() => count()?.textContent === '1 watching' && chatTitle() === 'Comments', 'live again');
    expect(count()!.querySelector('.stale')).to.equal(null);
  });

  it('hotspot: seeks on click; follows only http(s) links, in a new tab, never javascript:', async () => {
    const p = await player([
      { id: 'jump', type: 'hotspot', start: 0, end: 10, position: 'center', props: { label: 'Skip intro', seek: 5 } },
      { id: 'evil', type: 'hotspot', start: 0, end: 10, props: { label: 'Prize', href: 'javascript:alert(1)' } },
      { id: 'shop', type: 'hotspot', start: 0, end: 10, props: { label: 'Shop', href: 'https://shop.example/item' } },
    ]);
    await until(() => !!widgetRoot(p, 'jump')?.querySelector('button') && !!widgetRoot(p, 'shop')?.querySelector('a'), 'the hotspots to render');
    const button = widgetRoot(p, 'jump')!.querySelector('button')!;
    expect(button.textContent).to.equal('Skip intro');
    button.click();
    await until(() => p.playerApi!.currentTime === 5, `the seek to 5 (at ${p.playerApi!.currentTime})`);
    expect(widgetRoot(p, 'evil')!.querySelector('a')).to.equal(null, 'a javascript: href must not become a link');
    const link = widgetRoot(p, 'shop')!.querySelector('a')!;
    expect([link.href, link.target, link.rel]).to.deep.equal(['https://shop.example/item', '_blank', 'noopener noreferrer']);
  });

  it('chapters: a click seeks, and the current chapter is marked as the playhead moves', async () => {
    const p = await player([
      {
        id: 'toc',
        type: 'chapters',
        position: 'sidebar',
        props: {
          chapters: [
            { title: 'Intro', start: 0 },
            { title: 'Middle', start: 4 },
            { title: 'End', start: 8 },
          ],
        },
      },
    ]);
    await until(() => widgetRoot(p, 'toc')?.querySelectorAll('button').length === 3);
    const current = () => [...widgetRoot(p, 'toc')!.querySelectorAll('button')].findIndex((b) => b.getAttribute('aria-current') === 'true');
    await until(() => current() === 0);
    widgetRoot(p, 'toc')!.querySelectorAll('button')[2]!.click();
    await until(() => p.playerApi!.currentTime === 8);
    await until(() => current() === 2, 'the End chapter to be marked');
    p.playerApi!.seek(5);
    await until(() => current() === 1, 'the Middle chapter to be marked');
  });
});
