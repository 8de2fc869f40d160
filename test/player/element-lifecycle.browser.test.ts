import { expect } from '@esm-bundle/chai';
import '../../src/define.js';
import { defineWidget, WidgetSocket, type VidgetPlayer } from '../../src/index.js';
import { mountPlayer } from '../browser/mount-player.js';
import { testEnv, type TestEnv } from '../browser/test-env.js';
import { until } from '../helpers/wait.js';

// <vidget-player> as frameworks treat it: moved (removed and inserted again in one task), detached
// for a while and attached again, its attributes changed after the first render, and removed.

let env: TestEnv;
/** Unique per run: rooms and IndexedDB outlive a run. */
const run = Date.now().toString(36);

/** Every socket a `room-probe` widget opened, newest last, with the element it rendered into. */
const probes: Array<{ socket: WidgetSocket; root: ShadowRoot }> = [];
defineWidget('room-probe', (api, root) => {
  const socket = api.webSocket({});
  probes.push({ socket, root });
  root.textContent = 'probe';
});

/** A socket outside any player in the room of the widget `p` of `project`: its count says who is in the room. */
function observer(project: string): WidgetSocket {
  return new WidgetSocket({ host: env.host, project, widgetId: 'p', database: `lifecycle-${run}` });
}

const widgetIds = (player: VidgetPlayer) => [...player.renderRoot.querySelectorAll<HTMLElement>('.vidget-widget')].map((w) => w.dataset.widgetId);
const nothingHeld = { widgets: 0, listeners: 0, timers: 0, sockets: 0 };
/** Lets the task's microtasks run: a player still detached then has been torn down. */
const afterTask = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('<vidget-player> lifecycle (moves, attribute changes, removal)', () => {
  const observers: WidgetSocket[] = [];
  before(async () => (env = await testEnv()));
  afterEach(() => {
    document.querySelectorAll('vidget-player').forEach((p) => p.remove());
    observers.splice(0).forEach((o) => o.close());
  });

  it('moved in the DOM (removed and inserted in one task), keeps its widgets and their open socket', async () => {
    const project = `move-${run}`;
    const watch = observer(project);
    observers.push(watch);
    const { player } = await mountPlayer(env, project, [{ id: 'p', type: 'room-probe', start: 0, end: 100 }]);
    await until(() => probes.at(-1)?.socket.state === 'running' && watch.activeConnections === 2, 'the probe in the room');
    const { socket, root } = probes.at(-1)!;
    const api = player.playerApi;
    const opens: Event[] = [];
    socket.addEventListener('open', (e) => opens.push(e));

    // What a framework does when it reorders children: insertBefore of an attached node.
    const elsewhere = document.createElement('section');
    document.body.append(elsewhere);
    elsewhere.append(player);
    document.body.insertBefore(player, document.body.firstChild);
    await afterTask();

    expect(player.playerApi).to.equal(api, 'the same player api');
    expect(probes.at(-1)!.root).to.equal(root, 'the same widget, not mounted again');
    expect(socket.state).to.equal('running');
    expect(opens).to.have.length(0, 'no reconnect');
    expect(player.held()).to.deep.include({ widgets: 1, sockets: 1 });
    // It still cues by time: a widget added after the move shows.
    player.addWidget({ id: 'late', type: 'room-probe', start: 0, end: 100 });
    await until(() => widgetIds(player).includes('late'));
    elsewhere.remove();
  });

  it('detached for longer, tears down; attached again, starts again; removed, tears everything down', async () => {
    const project = `reattach-${run}`;
    const watch = observer(project);
    observers.push(watch);
    const { player } = await mountPlayer(env, project, [{ id: 'p', type: 'room-probe', start: 0, end: 100 }]);
    await until(() => watch.activeConnections === 2, 'the probe in the room');
    const first = probes.at(-1)!.socket;

    player.remove();
    await afterTask();
    expect(player.playerApi).to.equal(undefined);
    expect(player.held()).to.deep.equal(nothingHeld);
    expect(first.state).to.equal('stopped', 'the widget socket closed with the player');
    await until(() => watch.activeConnections === 1, 'the probe to leave the room');

    document.body.append(player);
    await until(() => player.playerApi !== undefined && widgetIds(player).includes('p'), 'the player to start again');
    const second = probes.at(-1)!.socket;
    expect(second).to.not.equal(first);
    await until(() => watch.activeConnections === 2, 'the new probe in the room');

    // Moved, then removed for good: nothing left, the move did not leak a second copy.
    const box = document.createElement('div');
    document.body.append(box);
    box.append(player);
    await afterTask();
    expect(player.held()).to.deep.include({ widgets: 1, sockets: 1 });
    box.remove();
    await afterTask();
    expect(player.held()).to.deep.equal(nothingHeld);
    expect(second.state).to.equal('stopped');
    expect(player.renderRoot.querySelectorAll('.vidget-widget')).to.have.length(0);
    await until(() => watch.activeConnections === 1, 'the room to be left');
  });

  it('another project after the first render: its widgets reconnect in the new project', async () => {
    const [a, b] = [`proj-a-${run}`, `proj-b-${run}`];
    const [watchA, watchB] = [observer(a), observer(b)];
    observers.push(watchA, watchB);
    const { player } = await mountPlayer(env, a, [{ id: 'p', type: 'room-probe', start: 0, end: 100 }]);
    await until(() => watchA.activeConnections === 2 && watchB.state === 'running', 'the probe in project a');
    const before = player.playerApi;
    player.setAttribute('project', b);
    await until(() => watchB.activeConnections === 2, 'the probe in project b');
    await until(() => watchA.activeConnections === 1, 'the probe gone from project a');
    expect(player.playerApi).to.not.equal(before);
    expect(player.playerApi!.connection.project).to.equal(b);
    expect(player.held()).to.deep.include({ widgets: 1, sockets: 1 });
  });

  it('another server after the first render: its widgets connect there', async () => {
    const project = `server-${run}`;
    const watch = observer(project);
    observers.push(watch);
    // First a server nobody listens on (port 9 on loopback: refused at once).
    const { player } = await mountPlayer(env, project, [{ id: 'p', type: 'room-probe', start: 0, end: 100 }]);
    player.server = 'ws://127.0.0.1:9';
    await until(() => probes.at(-1)!.socket.state === 'reconnecting' || probes.at(-1)!.socket.state === 'starting');
    await until(() => watch.state === 'running' && watch.activeConnections === 1, 'only the observer in the room: the probe is elsewhere');
    player.server = `ws://${env.host}`;
    await until(() => watch.activeConnections === 2, 'the probe on the real server');
    expect(probes.at(-1)!.socket.state).to.equal('running');
  });

  it('another config after the first render: the new widget list replaces the old', async () => {
    const { player } = await mountPlayer(env, `config-${run}`, []);
    player.querySelector('script[type="application/json"]')!.remove();
    const list = (entries: unknown[]) => URL.createObjectURL(new Blob([JSON.stringify(entries)], { type: 'application/json' }));
    player.config = list([{ id: 'one', type: 'room-probe', start: 0, end: 100 }]);
    await until(() => widgetIds(player).join() === 'one', 'the first list');
    player.config = list([
      { id: 'two', type: 'room-probe', start: 0, end: 100 },
      { id: 'three', type: 'room-probe', start: 0, end: 100 },
    ]);
    await until(() => widgetIds(player).sort().join() === 'three,two', 'the second list');
    expect(player.held().sockets).to.equal(2, "the first list's socket was closed");
  });
});
