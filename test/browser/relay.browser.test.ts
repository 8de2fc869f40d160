import { expect } from '@esm-bundle/chai';
import { PartySocket } from 'partysocket';
import type { ServerFrame, VidgetRecord } from '../../src/protocol/index.js';
import { nextEvent, testEnv } from './test-env.js';

/** Waits for the next server frame on a socket that matches. */
async function frame(socket: PartySocket, match: (f: ServerFrame) => boolean): Promise<ServerFrame> {
  const event = await nextEvent<MessageEvent>(socket, 'message', (e) => match(JSON.parse(e.data)));
  return JSON.parse(event.data);
}

describe('the relay from a real browser', () => {
  it("two browser sockets see each other's publishes, presence and search (native WebSocket + partysocket)", async () => {
    const { host, http } = await testEnv();
    const room = `r${Date.now()}`;
    const a = new PartySocket({ host, party: 'browser', room, id: 'tab-a' });
    const aHello = frame(a, (f) => f.type === 'hello') as Promise<Extract<ServerFrame, { type: 'hello' }>>;
    const aSynced = frame(a, (f) => f.type === 'synced');
    await aSynced;
    const b = new PartySocket({ host, party: 'browser', room, id: 'tab-b' });
    const both = frame(a, (f) => f.type === 'presence' && f.count === 2);
    await frame(b, (f) => f.type === 'synced');
    await both;

    const got = frame(b, (f) => f.type === 'msg');
    const acked = frame(a, (f) => f.type === 'ack');
    a.send(JSON.stringify({ type: 'pub', cid: 'x1', data: { msg: 'Hi', user: 'John' }, persist: true }));
    const ack = (await acked) as Extract<ServerFrame, { type: 'ack' }>;
    const msg = (await got) as Extract<ServerFrame, { type: 'msg' }>;
    expect(msg.record).to.deep.equal(ack.record);
    // partysocket's id is a's secret: records carry the public id the server derived from it.
    const helloA = await aHello;
    expect(msg.record.client_id).to.equal(helloA.client_id).and.not.equal('tab-a');

    // The REST search, cross-origin from this page, sees the stored record.
    const query = encodeURIComponent(JSON.stringify({ filters: [{ field: 'data.user', operator: '=', value: 'John' }] }));
    const res = await fetch(`${http}/api/projects/browser/widgets/${room}/records?query=${query}`);
    const body = (await res.json()) as { records: VidgetRecord[]; total: number };
    expect(body.total).to.equal(1);
    expect(body.records[0]!.id).to.equal(ack.record.id);

    const left = frame(a, (f) => f.type === 'presence' && f.count === 1);
    b.close();
    await left;
    a.close();
  });

  it('a token from the dev token endpoint sets the username the server stamps on records', async () => {
    const { host, http } = await testEnv();
    const res = await fetch(`${http}/api/tokens`, { method: 'POST', body: JSON.stringify({ project: 'browser', sub: 'ann' }) });
    const { token } = (await res.json()) as { token: string };
    const s = new PartySocket({ host, party: 'browser', room: 'named', id: 'ann-tab', query: { token } });
    const hello = (await frame(s, (f) => f.type === 'hello')) as Extract<ServerFrame, { type: 'hello' }>;
    expect(hello.username).to.equal('ann');
    const acked = frame(s, (f) => f.type === 'ack');
    s.send(JSON.stringify({ type: 'pub', cid: 'n1', data: 'hello' }));
    expect(((await acked) as Extract<ServerFrame, { type: 'ack' }>).record.username).to.equal('ann');
    s.close();
  });
});
