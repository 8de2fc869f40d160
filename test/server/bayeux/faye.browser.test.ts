import { expect } from '@esm-bundle/chai';
import { PartySocket } from 'partysocket';
import type { VidgetRecord } from '../../../src/protocol/index.js';
import { WidgetSocket, type CountEvent, type RecordEvent, type StateChangeEvent } from '../../../src/socket/index.js';
import { nextEvent, testEnv, type TestEnv } from '../../browser/test-env.js';
import { until } from '../../helpers/wait.js';
import { catchupSnippet, commentsSnippet } from './twentythree-snippets.js';

/** The parts of Faye's browser client this test uses (it defines `window.Faye`). */
interface FayeBrowserClient {
  subscribe(channel: string | string[], fn: (m: unknown) => void): PromiseLike<void> | Array<PromiseLike<void>>;
  publish(channel: string, data: unknown): PromiseLike<void>;
  disable(feature: string): void;
  disconnect(): void;
}
type Page = typeof globalThis & {
  Faye: { Client: new (url: string) => FayeBrowserClient };
  client?: FayeBrowserClient;
  doStuffWithComment?: (m: VidgetRecord) => void;
  doStuffWithAnalytics?: (m: VidgetRecord) => void;
};
const page = globalThis as Page;

/** Faye's browser build, from the faye npm package, as a site's page loads it. */
async function loadFaye(): Promise<void> {
  if (page.Faye) return;
  await new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/node_modules/faye/client/faye-browser-min.js';
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

/** Runs a classic script's text, as a page's inline <script> would. */
function runScript(text: string): void {
  const script = document.createElement('script');
  script.textContent = text;
  document.body.append(script);
  script.remove();
}

/** The site's signature of a room (signRoom on the server): base64url(HMAC-SHA256(secret, project/room)). */
async function signRoom(secret: string, project: string, room: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${project}/${room}`)));
  return `${room}~${btoa(String.fromCharCode(...mac))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')}`;
}

let env: TestEnv;
let n = 0;
const room = () => `bx${Date.now().toString(36)}${n++}`;
const sockets: WidgetSocket[] = [];
const widgetSocket = (widgetId: string, persistent = false) => {
  const s = new WidgetSocket({ host: env.host, project: 'browser', widgetId, persistent, reconnectDelayMs: 50 });
  sockets.push(s);
  return s;
};
const running = (s: WidgetSocket) => (s.state === 'running' ? Promise.resolve() : nextEvent<StateChangeEvent>(s, 'statechange', (e) => e.state === 'running').then(() => {}));
const count = (s: WidgetSocket, c: number) => nextEvent<CountEvent>(s, 'activeconnectionschange', (e) => e.data === c);

/** A raw socket of a (signed) room, publishing as a widget would. */
async function roomSocket(project: string, name: string): Promise<PartySocket> {
  const s = new PartySocket({ host: env.host, party: project, room: name, id: `tab${n++}` });
  await nextEvent<MessageEvent>(s, 'message', (e) => JSON.parse(e.data).type === 'synced');
  return s;
}
const publishRaw = async (s: PartySocket, data: unknown): Promise<VidgetRecord> => {
  const cid = `c${n++}`;
  const acked = nextEvent<MessageEvent>(s, 'message', (e) => JSON.parse(e.data).cid === cid);
  s.send(JSON.stringify({ type: 'pub', cid, data, persist: true }));
  return JSON.parse((await acked).data).record;
};

describe("Faye's browser client against Vidget's Bayeux endpoint (Chromium)", () => {
  before(async () => {
    env = await testEnv();
    await loadFaye();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
    page.client?.disconnect();
    page.client = undefined;
  });

  it("runs the seed's comments snippet unchanged but for the URL, on a signed root channel", async () => {
    const signed = await signRoom('wtr-secret-0123456789', 'signed23', room());
    const comments: VidgetRecord[] = [];
    page.doStuffWithComment = (c) => comments.push(c);
    const publisher = await roomSocket('signed23', signed);
    runScript(commentsSnippet(`//${env.host}/faye`, `/signed23/${signed}/all_json`));
    // Subscribed once the room counts the page (the snippet keeps no promise).
    await nextEvent<MessageEvent>(publisher, 'message', (e) => JSON.parse(e.data).type === 'presence' && JSON.parse(e.data).count === 2);
    const sent = [await publishRaw(publisher, { text: 'first' }), await publishRaw(publisher, { text: 'second' })];
    await until(() => comments.length === 2);
    expect(comments).to.deep.equal(sent);
    publisher.close();
  });

  it("runs the seed's catch-up snippet: the stored records of the interval, then live ones, each once", async () => {
    const widgetId = room();
    const ws = widgetSocket(widgetId, true);
    await running(ws);
    const stored = [await ws.publish({ n: 1 }), await ws.publish({ n: 2 })];
    const analytics: VidgetRecord[] = [];
    page.doStuffWithAnalytics = (a) => analytics.push(a);
    const joined = count(ws, 2);
    runScript(catchupSnippet(`//${env.host}/bayeux`, `/browser/${widgetId}`));
    await joined;
    await until(() => analytics.length === 2);
    const live = [await ws.publish({ n: 3 }), await ws.publish({ n: 4 })];
    await until(() => analytics.length === 4);
    expect(analytics).to.deep.equal([...stored, ...live]);
  });

  for (const transport of ['websocket', 'long-polling'] as const) {
    it(`both ways with a WidgetSocket in the same room, in order, once each; presence across both (${transport})`, async () => {
      const widgetId = room();
      const ws = widgetSocket(widgetId);
      await running(ws);
      const client = new page.Faye.Client(`${env.http}/bayeux`);
      page.client = client;
      // WebSockets blocked: Faye falls back to (cross-origin) long-polling.
      if (transport === 'long-polling') client.disable('websocket');
      const heard: VidgetRecord[] = [];
      const joined = count(ws, 2);
      await client.subscribe(`/browser/${widgetId}`, (r) => heard.push(r as VidgetRecord));
      await joined;
      const fromSocket = [];
      for (let i = 0; i < 5; i++) fromSocket.push(await ws.publish({ from: 'socket', i }));
      const got: VidgetRecord[] = [];
      ws.addEventListener('message', (e) => got.push((e as RecordEvent).data));
      for (let i = 0; i < 5; i++) await client.publish(`/browser/${widgetId}`, { from: 'faye', i });
      await until(() => heard.length === 10 && got.length === 5);
      expect(got.map((r) => r.data)).to.deep.equal([0, 1, 2, 3, 4].map((i) => ({ from: 'faye', i })));
      expect(heard.slice(0, 5)).to.deep.equal(fromSocket);
      expect(heard.slice(5)).to.deep.equal(got);
      const ids = heard.map((r) => r.id);
      expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
      const left = count(ws, 1);
      client.disconnect();
      page.client = undefined;
      await left;
    });
  }
});
