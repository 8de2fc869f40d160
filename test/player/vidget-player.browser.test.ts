import { expect } from '@esm-bundle/chai';
import { html, css } from 'lit';
import { fetchDemoToken } from '../../demo/fetch-demo-token.js';
import * as vidget from '../../src/define.js';
import { defineWidget, VidgetWidget, type VidgetPlayer, type WidgetApi, type WidgetSocket } from '../../src/index.js';
import { mountPlayer as mountTestPlayer } from '../browser/mount-player.js';
import { nextEvent, testEnv, type TestEnv } from '../browser/test-env.js';
import { until } from '../helpers/wait.js';
// @ts-expect-error: plain JavaScript, kept exactly as the Cinema8 documentation has it
import { createAndListen, searchScores } from '../socket/cinema8-snippets.js';

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
const wrapper = (player: VidgetPlayer, id: string) => player.renderRoot.querySelector<HTMLElement>(`.vidget-widget[data-widget-id="${id}"]`);
const chipOf = (player: VidgetPlayer, id: string) => player.renderRoot.querySelector<HTMLButtonElement>(`.vidget-chip[data-for="${id}"]`)!;
/** Unique per run: widget state and client ids live in this browser's IndexedDB. */
const run = Date.now().toString(36);

// A function widget that counts its own mounts in its state (and in IndexedDB, as `visits`).
defineWidget('counter', (api, root) => {
  const n = Number(api.getState('n') ?? 0) + 1;
  api.setState('n', n);
  api.setState('visits', Number(api.getState('visits') ?? 0) + 1, true);
  root.textContent = `mount ${n}, visit ${String(api.getState('visits'))}`;
});
// Who the server says this viewer is, once a socket is open.
defineWidget('whoami', (api, root) => {
  const socket = api.webSocket({});
  socket.onOpen = () => (root.textContent = socket.username ?? 'anonymous');
});
// A Lit widget that counts how often it is connected and the sockets it opened.
let connects = 0;
class Tracked extends VidgetWidget {
  socket: WidgetSocket | undefined;
  override connectedCallback() {
    super.connectedCallback();
    connects++;
    this.socket = this.api.webSocket({});
  }
  override render() {
    return html`<p>tracked</p>`;
  }
}
defineWidget('tracked', Tracked);

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
    expect(errors.map((e) => [e.index, e.widgetId])).to.deep.equal([
      [2, 'bad'],
      [3, undefined],
      [4, 'c'],
    ]);
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

  it("seeking across a widget's whole range does not flash it; seeking into it shows it", async () => {
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
    expect(calls.map((c) => [c.widget, c.alias]).sort()).to.deep.equal([
      ['fn-note', true],
      ['lit-note', true],
    ]);
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
    expect(changes).to.deep.equal([
      ['score', undefined, 3],
      ['score', 3, 5],
      ['level', undefined, 'gold'],
    ]);
    expect(first.player.playerApi!.getVariables()).to.deep.equal({ score: 5, level: 'gold' });
    first.player.remove();
    // A new player for the same video (what a reload does) finds the persistent one only. (Its
    // read is ordered after the write in IndexedDB: same store, created later.)
    const second = await mountPlayer([]);
    await second.player.playerApi!.ready;
    await until(() => second.player.playerApi!.getVariable('level') === 'gold', 'the persistent variable to load');
    expect(second.player.playerApi!.getVariable('score')).to.equal(undefined);
  });

  it('a function widget runs the Cinema8 snippets unchanged, c8PlayerApi in scope; its widgetDestroy close() fires onClose', async () => {
    const sockets: WidgetSocket[] = [];
    // A function widget's first argument is its api: named c8PlayerApi, Cinema8 code runs as written.
    defineWidget('c8-doc', (c8PlayerApi) => void sockets.push(createAndListen(c8PlayerApi)));
    const logged: unknown[][] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => logged.push(args);
    const id = `c8page${run}`;
    const count = (text: string) => logged.filter((a) => a[0] === text).length;
    try {
      const { player } = await mountPlayer([{ id, type: 'c8-doc', start: 0, end: 100 }]);
      await until(() => logged.some((a) => (a[0] as { data?: { msg?: string } })?.data?.msg === 'Hi'), 'the published message');
      expect(count('Socket Con. Open!')).to.equal(1);
      await sockets[0]!.publish({ score: 60 });
      searchScores(sockets[0]);
      await until(() => logged.some((a) => (a[0] as { total?: number })?.total === 1), 'the search result');
      player.removeWidget(id); // widgetDestroy: the snippet closes its socket
      expect(count('Socket Con. Closed!')).to.equal(1);
      expect(sockets[0]!.state).to.equal('stopped');
    } finally {
      console.log = log;
    }
    expect(count('Socket Con. Error!')).to.equal(0);
  });

  it('a type defined after the player read its config shows every entry that uses it (three)', async () => {
    const { player } = await mountPlayer([1, 2, 3].map((i) => ({ id: `late${i}`, type: 'late-three', start: 0, end: 100 })));
    expect(shown(player)).to.deep.equal([]);
    defineWidget('late-three', (api, root) => void (root.textContent = api.widgetId));
    await until(() => shown(player).length === 3, 'all three entries');
    expect(shown(player)).to.deep.equal(['late1', 'late2', 'late3']);
  });

  it('widgets of one region stay in config order whatever loads first', async () => {
    const { player } = await mountPlayer([
      { id: 'first', type: 'order-late', start: 0, end: 100, position: 'bottom-left' },
      { id: 'second', type: 'fn-note', start: 0, end: 100, position: 'bottom-left', props: { text: 'b' } },
      { id: 'third', type: 'order-late', start: 0, end: 100, position: 'bottom-left' },
    ]);
    await until(() => shown(player).includes('second'), 'the defined one to mount first');
    defineWidget('order-late', (api, root) => void (root.textContent = api.widgetId));
    await until(() => shown(player).length === 3);
    const region = player.renderRoot.querySelector('.pos-bottom-left')!;
    expect([...region.querySelectorAll<HTMLElement>('.vidget-widget')].map((w) => w.dataset.widgetId)).to.deep.equal(['first', 'second', 'third']);
    const ys = ['first', 'second', 'third'].map((id) => wrapper(player, id)!.getBoundingClientRect().y);
    expect(ys[0]).to.be.lessThan(ys[1]!);
    expect(ys[1]).to.be.lessThan(ys[2]!);
  });

  it("a widget's state survives leaving and re-entering its range; persistent state survives a reload", async () => {
    const id = `count-${run}`;
    const first = await mountPlayer([{ id, type: 'counter', start: 1, end: 2 }]);
    const api = first.player.playerApi!;
    const text = () => wrapper(first.player, id)?.shadowRoot?.textContent;
    api.seek(1.5);
    await until(() => text() === 'mount 1, visit 1');
    api.seek(3);
    await until(() => !wrapper(first.player, id), 'the widget to leave');
    api.seek(1.5);
    await until(() => text() === 'mount 2, visit 2', `the state back (${text()})`);
    first.player.remove();
    // A new player for the same video (a reload): the in-memory state is gone, the persistent one is not.
    const second = await mountPlayer([{ id, type: 'counter', start: 1, end: 2 }]);
    second.player.playerApi!.seek(1.5);
    await until(() => wrapper(second.player, id)?.shadowRoot?.textContent === 'mount 1, visit 3', 'the persistent visits');
  });

  it('pauseOnShow pauses the video when the widget comes on screen', async () => {
    const { player } = await mountPlayer([{ id: 'ask', type: 'fn-note', start: 0.4, end: 5, pauseOnShow: true, props: { text: 'question' } }]);
    const api = player.playerApi!;
    const shows: number[] = [];
    api.on('widgetShow', () => shows.push(api.currentTime));
    // Added after the player's own listeners: by then the player has seen the pause.
    const paused = nextEvent(api.video, 'pause');
    await api.play().catch(() => {}); // the pause may interrupt play()
    await paused;
    expect(shows).to.have.length(1);
    // On the widget's first frame: not before it (which would hide the widget again), and not much later.
    expect(api.currentTime).to.be.within(0.4, 0.8, 'paused where the widget showed');
    expect(shown(player)).to.deep.equal(['ask']);
  });

  it('a narrow player: an overlay card is a chip that opens it below the video; a below-flagged widget moves there and back without reconnecting', async () => {
    const { player, video } = await mountPlayer([
      { id: 'card', type: 'fn-note', start: 0, end: 100, position: 'bottom-left', props: { text: 'a card' }, label: 'Card' },
      { id: 'moves', type: 'tracked', start: 0, end: 100, position: 'top-left', narrow: 'below' },
    ]);
    await until(() => shown(player).length === 2);
    const aside = player.renderRoot.querySelector('.aside')!;
    const before = connects;
    const socket = (wrapper(player, 'moves')!.shadowRoot!.firstElementChild as Tracked).socket!;
    expect(chipOf(player, 'card').getBoundingClientRect().height).to.equal(0, 'no chip on a wide player');
    player.style.width = '400px';
    await until(() => aside.contains(wrapper(player, 'moves')), 'the below widget to move below');
    expect(wrapper(player, 'moves')!.getBoundingClientRect().top).to.be.at.least(video.getBoundingClientRect().bottom - 1);
    expect(connects).to.equal(before, 'moved, not disconnected and connected again');
    expect(socket.state).to.not.equal('stopped');
    // The card: a chip on the video, the card hidden until the chip is tapped.
    const chip = chipOf(player, 'card');
    expect(chip.getBoundingClientRect().height).to.be.greaterThan(0);
    expect([chip.textContent, chip.getAttribute('aria-expanded')]).to.deep.equal(['Card', 'false']);
    expect(wrapper(player, 'card')!.getBoundingClientRect().height).to.equal(0);
    chip.click();
    expect(chip.getAttribute('aria-expanded')).to.equal('true');
    expect(aside.contains(wrapper(player, 'card'))).to.equal(true, 'opened below the video');
    expect(wrapper(player, 'card')!.getBoundingClientRect().height).to.be.greaterThan(0);
    chip.click();
    expect(wrapper(player, 'card')!.getBoundingClientRect().height).to.equal(0);
    player.style.width = '';
    await until(() => !aside.contains(wrapper(player, 'moves')), 'back over the video');
    expect(player.renderRoot.querySelector('.pos-top-left')!.contains(wrapper(player, 'moves'))).to.equal(true);
    expect(connects).to.equal(before);
  });

  it('a new token remounts the widgets as that viewer (a dev token from the server), keeping their state', async () => {
    const { player } = await mountPlayer([
      { id: `who-${run}`, type: 'whoami', start: 0, end: 100 },
      { id: `kept-${run}`, type: 'counter', start: 0, end: 100 },
    ]);
    const text = (id: string) => wrapper(player, id)?.shadowRoot?.textContent;
    await until(() => text(`who-${run}`) === 'anonymous');
    expect(text(`kept-${run}`)).to.match(/^mount 1,/);
    player.token = await fetchDemoToken('player-test', 'ann', env.http);
    await until(() => text(`who-${run}`) === 'ann', `the verified name (${text(`who-${run}`)})`);
    expect(text(`kept-${run}`)).to.match(/^mount 2,/, 'remounted, its state kept');
  });

  it('the native controls band: reserved while paused and after pointer activity, released while playing untouched, none without controls', async () => {
    const { player, video } = await mountPlayer([]);
    expect(player.hasAttribute('controls-shown')).to.equal(false, 'no controls, no band');
    video.controls = true;
    video.dispatchEvent(new Event('pause')); // any activity re-reads the video
    expect(player.hasAttribute('controls-shown')).to.equal(true);
    const overlay = player.renderRoot.querySelector('.overlay')!;
    expect(video.getBoundingClientRect().bottom - overlay.getBoundingClientRect().bottom).to.be.closeTo(72, 1, 'the overlay ends above the band');
    await player.playerApi!.play();
    await until(() => !player.hasAttribute('controls-shown'), 'the band to be released while playing untouched', 8_000);
    expect(overlay.getBoundingClientRect().bottom).to.be.closeTo(video.getBoundingClientRect().bottom, 1);
    player.dispatchEvent(new PointerEvent('pointermove', { bubbles: true }));
    expect(player.hasAttribute('controls-shown')).to.equal(true, 'a pointer move shows the controls: the band at once');
    player.playerApi!.pause();
  });

  it('html, css and nothing are the same Lit the player uses, exported and on window.vidget', () => {
    const w = (window as unknown as { vidget: typeof vidget.vidget }).vidget;
    expect([w.html, w.css, w.nothing]).to.deep.equal([html, css, vidget.nothing]);
    expect([vidget.html, vidget.css]).to.deep.equal([html, css]);
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

  it("get the same api over the bridge, including a socket, but not the page's DOM, cookies, storage or other sockets", async () => {
    document.cookie = 'session=secret; path=/';
    localStorage.setItem('host-secret', '1');
    const { player } = await mountPlayer([{ id: 'probe', type: 'probe', sandbox: true, src: `${env.http}/probe-widget.js`, start: 0, end: 100, props: { color: 'blue' } }]);
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

  it('a partner script runs once its document is parsed: document.body.append works', async () => {
    const { player } = await mountPlayer([{ id: 'body', type: 'partner', sandbox: true, src: `${env.http}/body-widget.js`, start: 0, end: 100 }]);
    const api = player.playerApi!;
    await until(() => api.getVariable('bodyWidget') !== undefined, 'the widget report');
    expect(api.getVariable('bodyWidget')).to.deep.equal({ appended: true, readyState: 'interactive' });
  });

  it('the Cinema8 snippets run unchanged in a sandboxed widget: open, message, count, search, onClose after close()', async () => {
    const { player } = await mountPlayer([{ id: `c8sandbox${run}`, type: 'c8', sandbox: true, src: `${env.http}/cinema8-widget.js`, start: 0, end: 100 }]);
    const api = player.playerApi!;
    const log = () => (api.getVariable('c8log') ?? []) as unknown[][];
    await until(() => log().some((a) => a[0] === 'Socket Con. Closed!'), 'the close to be logged', 10_000);
    const first = log().map((a) => a[0]);
    expect(first[0]).to.equal('Socket Con. Open!');
    expect(first).to.deep.include(1, 'onActiveConnectionsChange: one connection');
    const records = first.filter((x): x is { data: unknown } => typeof x === 'object' && x !== null && 'data' in x && 'client_id' in x);
    expect(records.map((r) => r.data)).to.deep.equal([{ msg: 'Hi', user: 'John' }, { score: 60 }]);
    const result = first.find((x) => typeof x === 'object' && x !== null && 'total' in x) as { total: number; records: Array<{ data: unknown }> };
    expect([result.total, result.records[0]!.data]).to.deep.equal([1, { score: 60 }]);
    expect(first.at(-1)).to.equal('Socket Con. Closed!');
    expect(first.filter((x) => x === 'Socket Con. Closed!')).to.have.length(1);
    expect(first.some((x) => x === 'Socket Con. Error!')).to.equal(false);
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
