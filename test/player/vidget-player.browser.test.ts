import { expect } from '@esm-bundle/chai';
import { html, css } from 'lit';
import { defineWidget, VidgetWidget, type VidgetPlayer, type WidgetApi } from '../../src/index.js';
import { mountPlayer as mountTestPlayer } from '../browser/mount-player.js';
import { nextEvent, testEnv, type TestEnv } from '../browser/test-env.js';
import { until } from '../helpers/wait.js';

let env: TestEnv;
const calls: Array<{ widget: string; api: WidgetApi; alias: boolean; at: number }> = [];

// A function widget (Cinema8 style) and a Lit class widget.
defineWidget('fn-note', (api, root, props) => {
  calls.push({ widget: 'fn-note', api, alias: api.c8PlayerApi === api, at: api.currentTime });
  const p = document.createElement('p');
  p.className = 'note';
  p.textContent = String(props.text);
  const style = document.createElement('style');
  style.textContent = 'p { color: rgb(255, 0, 0); }';
  root.append(style, p);
});
class LitNote extends VidgetWidget {
  static override styles = css`p { color: rgb(0, 128, 0); }`;
  override connectedCallback() {
    super.connectedCallback();
    calls.push({ widget: 'lit-note', api: this.api, alias: this.c8PlayerApi === this.api, at: this.api.currentTime });
  }
  override render() {
    return html`<p class="lit">${this.props.text}</p>`;
  }
}
defineWidget('lit-note', LitNote);
// A widget that takes everything it can: listeners, a timer, a socket.
defineWidget('greedy', (api) => {
  api.on('timeupdate', () => {});
  api.on('widgetDestroy', () => {});
  api.setInterval(() => {}, 1000);
  api.webSocket({});
});

const mountPlayer = (config: unknown[]) => mountTestPlayer(env, 'player-test', config);

const shown = (player: VidgetPlayer) => [...player.renderRoot.querySelectorAll<HTMLElement>('.vidget-widget')].map((w) => w.dataset.widgetId).sort();

describe('<vidget-player> with a real video', () => {
  before(async () => (env = await testEnv()));
  afterEach(() => document.querySelectorAll('vidget-player').forEach((p) => p.remove()));

  it('embeds around a <video>, runs the good entries of an inline config and reports the bad ones', async () => {
    const { player, errors } = await mountPlayer([
      { id: 'a', type: 'fn-note', start: 1, end: 3, props: { text: 'one' } },
      { id: 'b', type: 'lit-note', start: 2, end: 5, position: 'bottom-left', props: { text: 'two' } },
      { id: 'bad', type: 'fn-note', start: 4, end: 2 },
      { type: 'fn-note' },
      { id: 'c', type: 'fn-note', start: 0, end: 1, onClick: [{ type: 'openUrl', url: 'javascript:alert(1)' }] },
    ]);
    expect(errors.map((e) => [e.index, e.widgetId])).to.deep.equal([[2, 'bad'], [3, undefined], [4, 'c']]);
    expect(errors[2]!.message).to.match(/http or https/);
    player.playerApi!.seek(2.5);
    await until(() => shown(player).length === 2);
    expect(shown(player)).to.deep.equal(['a', 'b']);
  });

  it('cues widgets while playing, within a frame of their start, and hides them at their end', async () => {
    const { player, video } = await mountPlayer([{ id: 'a', type: 'fn-note', start: 0.5, end: 1.2, props: { text: 'x' } }]);
    const api = player.playerApi!;
    const events: string[] = [];
    for (const name of ['play', 'widgetShow', 'widgetDestroy', 'pause']) api.on(name, (id?: string) => events.push(id ? `${name}:${id}` : name));
    calls.length = 0;
    await api.play();
    await until(() => events.includes('widgetDestroy:a'), 'the widget to leave at 1.2 s');
    api.pause();
    await until(() => events.includes('pause'));
    expect(events.slice(0, 3)).to.deep.equal(['play', 'widgetShow:a', 'widgetDestroy:a']);
    // Shown with the frame presented at 0.5 s; currentTime may still read the frame before
    // (24 fps: a frame is ~42 ms). timeupdate alone would be up to 250 ms late.
    expect(calls[0]!.at).to.be.within(0.5 - 0.042, 0.5 + 0.042);
    expect(video.currentTime).to.be.greaterThan(1.2 - 0.042, 'left with the frame presented at its end');
  });

  it('seeking across a widget\'s whole range does not flash it; seeking into it shows it', async () => {
    const { player } = await mountPlayer([{ id: 'mid', type: 'fn-note', start: 3, end: 4, props: { text: 'x' } }]);
    const api = player.playerApi!;
    const shows: string[] = [];
    api.on('widgetShow', (id: string) => shows.push(id));
    api.seek(6);
    await nextEvent(api.video, 'seeked');
    api.seek(1);
    await nextEvent(api.video, 'seeked');
    expect(shows).to.deep.equal([]);
    api.seek(3.5);
    await nextEvent(api.video, 'seeked');
    await until(() => shows.length === 1);
    expect(shown(player)).to.deep.equal(['mid']);
  });

  it('both authoring styles get the scoped api and its c8PlayerApi alias; styles stay inside each shadow root', async () => {
    calls.length = 0;
    const page = document.createElement('p');
    page.textContent = 'page text';
    document.body.append(page);
    const { player } = await mountPlayer([
      { id: 'f', type: 'fn-note', start: 0, end: 10, props: { text: 'fn' } },
      { id: 'l', type: 'lit-note', start: 0, end: 10, props: { text: 'lit' } },
    ]);
    await until(() => calls.length === 2);
    expect(calls.map((c) => [c.widget, c.alias]).sort()).to.deep.equal([['fn-note', true], ['lit-note', true]]);
    expect(calls.find((c) => c.widget === 'fn-note')!.api.getWidgetProps()).to.deep.equal({ text: 'fn' });
    const wrappers = [...player.renderRoot.querySelectorAll<HTMLElement>('.vidget-widget')];
    const fnP = wrappers.find((w) => w.dataset.widgetId === 'f')!.shadowRoot!.querySelector('p')!;
    expect(getComputedStyle(fnP).color).to.equal('rgb(255, 0, 0)');
    expect(getComputedStyle(page).color).to.not.equal('rgb(255, 0, 0)', 'a widget style leaked to the page');
    const lit = wrappers.find((w) => w.dataset.widgetId === 'l')!.shadowRoot!.querySelector('lit-note')!;
    await (lit as LitNote).updateComplete;
    expect(getComputedStyle(lit.shadowRoot!.querySelector('p')!).color).to.equal('rgb(0, 128, 0)');
    page.remove();
  });

  it('onStart and onEnd run when the playhead enters and leaves a widget; removing it or the player runs no onEnd', async () => {
    const { player } = await mountPlayer([
      { id: 'w', type: 'fn-note', start: 1, end: 2, props: { text: 'x' }, onStart: [{ type: 'setVariable', name: 'started', value: 1 }], onEnd: [{ type: 'setVariable', name: 'ended', value: 1 }] },
      { id: 'k', type: 'fn-note', start: 0, end: 10, props: { text: 'y' }, onEnd: [{ type: 'setVariable', name: 'kEnded', value: 1 }] },
    ]);
    const api = player.playerApi!;
    api.seek(1.5);
    await until(() => api.getVariable('started') === 1);
    expect(api.getVariable('ended')).to.equal(undefined);
    api.seek(3);
    await until(() => api.getVariable('ended') === 1);
    player.removeWidget('k');
    expect(shown(player)).to.deep.equal([]);
    expect(api.getVariable('kEnded')).to.equal(undefined);
  });

  it('variables: shared by widgets, variableChange(name, previous, next), persistent ones kept for the next page load', async () => {
    calls.length = 0;
    const first = await mountPlayer([{ id: 'f', type: 'fn-note', start: 0, end: 10, props: { text: 'x' } }]);
    await until(() => calls.length === 1);
    const widgetApi = calls[0]!.api;
    const changes: unknown[][] = [];
    first.player.playerApi!.on('variableChange', (...args: unknown[]) => changes.push(args));
    widgetApi.setVariable('score', 3);
    widgetApi.setVariable('score', 5);
    widgetApi.setVariable('level', 'gold', true);
    expect(changes).to.deep.equal([['score', undefined, 3], ['score', 3, 5], ['level', undefined, 'gold']]);
    expect(first.player.playerApi!.getVariables()).to.deep.equal({ score: 5, level: 'gold' });
    first.player.remove();
    // A new player for the same video (what a reload does) finds the persistent one only. (Its
    // read is ordered after the write in IndexedDB: same store, created later.)
    const second = await mountPlayer([]);
    await second.player.playerApi!.ready;
    await until(() => second.player.playerApi!.getVariable('level') === 'gold', 'the persistent variable to load');
    expect(second.player.playerApi!.getVariable('score')).to.equal(undefined);
  });

  it('mounting and destroying 1,000 widgets leaves no listeners, timers, sockets or DOM nodes behind', async () => {
    const { player } = await mountPlayer([]);
    const api = player.playerApi!;
    const overlay = player.renderRoot.querySelector('.overlay')!;
    const listenersBefore = api.listenerCount();
    for (let i = 0; i < 1000; i++) {
      player.addWidget({ id: `g${i}`, type: 'greedy', start: 0, end: 100 });
      await until(() => player.held().widgets === 1, `widget ${i} to mount`);
      expect(player.held().sockets).to.equal(1);
      player.removeWidget(`g${i}`);
    }
    expect(player.held()).to.deep.equal({ widgets: 0, listeners: 0, timers: 0, sockets: 0 });
    expect(api.listenerCount()).to.equal(listenersBefore);
    expect(overlay.querySelectorAll('.vidget-widget').length).to.equal(0);
  });
});

describe('sandboxed widgets (iframe sandbox="allow-scripts")', () => {
  before(async () => (env = await testEnv()));
  afterEach(() => document.querySelectorAll('vidget-player').forEach((p) => p.remove()));

  it('get the same api over the bridge, including a socket, but not the page\'s DOM, cookies, storage or other sockets', async () => {
    document.cookie = 'session=secret; path=/';
    localStorage.setItem('host-secret', '1');
    const { player } = await mountPlayer([
      { id: 'probe', type: 'probe', sandbox: true, src: `${env.http}/probe-widget.js`, start: 0, end: 100, props: { color: 'blue' } },
    ]);
    const api = player.playerApi!;
    await until(() => api.getVariable('probe') !== undefined, 'the probe report');
    const report = api.getVariable('probe') as Record<string, unknown>;
    expect(report.parentDocument).to.match(/^blocked/);
    expect(report.topLocation).to.match(/^blocked/);
    expect(report.cookie).to.match(/^blocked/);
    expect(report.localStorage).to.match(/^blocked/);
    expect(report.indexedDB).to.match(/^blocked/);
    expect(report.navigateTop).to.match(/^blocked/);
    expect(report.popup).to.equal('allowed:no window');
    expect(location.hash).to.not.equal('#hijacked');
    expect(report.otherSocket).to.equal('refused:bad_frame');
    expect(report.props).to.deep.equal({ color: 'blue' });
    expect(report.alias).to.equal(true);
    expect(report.published).to.equal('ok');
    expect(player.held().sockets).to.equal(1);
    player.removeWidget('probe');
    expect(player.held()).to.deep.equal({ widgets: 0, listeners: 0, timers: 0, sockets: 0 });
  });

  it('a widget that throws, never settles a promise and floods the bridge does not break the player or other widgets', async () => {
    const { player, errors } = await mountPlayer([
      { id: 'hostile', type: 'hostile', sandbox: true, src: `${env.http}/hostile-widget.js`, start: 0, end: 100 },
      { id: 'later', type: 'fn-note', start: 2, end: 4, props: { text: 'still cued' } },
    ]);
    await until(() => errors.some((e) => /flooding/.test(e.message)), 'the flood to be reported');
    const api = player.playerApi!;
    api.seek(3);
    await until(() => shown(player).includes('later'));
    expect(shown(player)).to.deep.equal(['hostile', 'later']);
    await api.play();
    await until(() => api.currentTime > 3.2);
    expect(api.paused).to.equal(false, 'the flood of pause calls was dropped, not obeyed');
    api.pause();
  });
});
