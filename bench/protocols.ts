// The four systems' clients, behind one small interface, so every workload drives each the same
// way: join a room, publish `{ i, t }`, hear every message of the room (the sender's own too).
import { io } from 'socket.io-client';
import WebSocket from 'ws';

/** The systems under test. */
export type Kind = 'vidget' | 'bare-ws' | 'socket.io' | 'faye' | 'vidget-bayeux';
export const KINDS: Kind[] = ['bare-ws', 'vidget', 'socket.io', 'faye'];

/** One connected client of any system. */
export interface BenchClient {
  publish(i: number, t: number, persist?: boolean): void;
  /** Called with each message of the room this client hears (its own included). */
  onMessage: (m: { i: number; t: number }) => void;
  close(): void;
}

// Vidget delivers `{ i, t }` in its record envelope; the others' messages are padded to the same
// size, so every system carries the same bytes per delivery.
const DELIVERED = `{"type":"msg","persisted":false,"record":{"id":1000,"client_id":"c100","created":1795455555555,"username":null,"data":{"i":1000,"t":${performance.now()}}}}`.length;
const padded = (i: number, t: number) => {
  const body = `{"i":${i},"t":${t},"pad":""}`;
  return `{"i":${i},"t":${t},"pad":"${'x'.repeat(Math.max(0, DELIVERED - body.length))}"}`;
};
const PAD = 'x'.repeat(Math.max(0, DELIVERED - 40));

const opened = (ws: WebSocket) =>
  new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

/** Connects client `n` of a run to `room` on a server of `kind` on `port`. */
export async function connect(kind: Kind, port: number, room: string, n: number): Promise<BenchClient> {
  const client: BenchClient = { publish: () => {}, onMessage: () => {}, close: () => {} };
  if (kind === 'vidget' || kind === 'bare-ws') {
    const url = kind === 'vidget' ? `ws://127.0.0.1:${port}/parties/bench/${room}?_pk=c${n}` : `ws://127.0.0.1:${port}/${room}`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let cid = 0;
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (kind === 'bare-ws') client.onMessage(f);
      else if (f.type === 'msg' || f.type === 'ack') client.onMessage(f.record.data);
    });
    client.publish = kind === 'vidget' ? (i, t, persist = false) => ws.send(`{"type":"pub","cid":"m${n}-${cid++}","data":{"i":${i},"t":${t}},"persist":${persist}}`) : (i, t) => ws.send(padded(i, t));
    client.close = () => ws.terminate();
    // Vidget: sending starts after `synced` (as WidgetSocket does). Listened for before `open`:
    // the first frames can arrive in the same packet as the upgrade response.
    const synced =
      kind === 'vidget'
        ? new Promise<void>((resolve) =>
            ws.on('message', function wait(d) {
              if (d.toString().includes('"synced"')) {
                ws.off('message', wait);
                resolve();
              }
            }),
          )
        : undefined;
    await opened(ws);
    await synced;
    return client;
  }
  if (kind === 'socket.io') {
    const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
    socket.on('msg', (m: { i: number; t: number }) => client.onMessage(m));
    client.publish = (i, t) => socket.emit('pub', room, { i, t, pad: PAD });
    client.close = () => socket.disconnect();
    await new Promise<void>((resolve, reject) => {
      socket.once('connect_error', reject);
      socket.emit('join', room, () => resolve());
    });
    return client;
  }
  // Faye (Bayeux): a channel per room; publish goes to every subscriber, the publisher too.
  // vidget-bayeux: the same faye client against Vidget's /bayeux, where a channel is a room and
  // `{ i, t }` arrives as a record's data (the record envelope makes up the padding).
  const { default: faye } = await import('faye');
  const fc = new faye.Client(`http://127.0.0.1:${port}/${kind === 'faye' ? 'faye' : 'bayeux'}`, { timeout: 60 });
  fc.disable('autodisconnect');
  const channel = kind === 'faye' ? `/${room}` : `/bench/${room}`;
  if (kind === 'faye') await fc.subscribe(channel, (m: { i: number; t: number }) => client.onMessage(m));
  else await fc.subscribe(channel, (r: { data: { i: number; t: number } }) => client.onMessage(r.data));
  client.publish = kind === 'faye' ? (i, t) => void fc.publish(channel, { i, t, pad: PAD }) : (i, t) => void fc.publish(channel, { i, t });
  client.close = () => fc.disconnect();
  return client;
}
