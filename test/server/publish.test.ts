import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VidgetServer } from '../../src/server/index.js';
import { TestClient, startServer, token as makeToken } from './helpers.js';

describe('publish', () => {
  let server: VidgetServer;
  before(async () => (server = await startServer()));
  after(() => server.close());

  test('broadcasts the record to every connection, acks the publisher with the same record', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => TestClient.joined(server, 'p1', 'w1')));
    const ack = await a!.publish({ msg: 'Hi', user: 'John' });
    assert.equal(ack.persisted, true);
    assert.equal(ack.duplicate, undefined);
    const { record } = ack;
    assert.equal(record.client_id, a!.clientId);
    assert.equal(record.username, null);
    assert.deepEqual(record.data, { msg: 'Hi', user: 'John' });
    assert.ok(Math.abs(record.created - Date.now()) < 5_000);
    for (const other of [b!, c!]) assert.deepEqual((await other.next('msg')).record, record);
    assert.equal(a!.frames.filter((f) => f.type === 'msg').length, 0, 'the publisher gets its ack, not a second copy');
    await Promise.all([a!, b!, c!].map((x) => x.close()));
  });

  test('ids sort in publish order within a room', async () => {
    const a = await TestClient.joined(server, 'p1', 'order');
    const b = await TestClient.joined(server, 'p1', 'order');
    const cids = Array.from({ length: 50 }, (_, i) => `o${i}`);
    cids.forEach((cid, i) => a.send({ type: 'pub', cid, data: i, persist: i % 2 === 0 }));
    const acks = await Promise.all(cids.map((cid) => a.next('ack', (f) => f.cid === cid)));
    const ids = acks.map((f) => f.record.id);
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
    );
    assert.equal(new Set(ids).size, 50);
    const received = [];
    for (let i = 0; i < 50; i++) received.push((await b.next('msg')).record.data);
    assert.deepEqual(
      received,
      cids.map((_, i) => i),
    );
    await a.close();
    await b.close();
  });

  test('a repeated cid is acked again with the first record, and not stored or broadcast twice', async () => {
    const a = await TestClient.joined(server, 'p1', 'dedupe', { _pk: 'same-client' });
    const b = await TestClient.joined(server, 'p1', 'dedupe');
    const first = await a.publish({ v: 1 }, true, 'cid-1');
    const again = await a.publish({ v: 'changed' }, true, 'cid-1');
    assert.equal(again.duplicate, true);
    assert.deepEqual(again.record, first.record);
    // Also after a reconnect, when the in-memory memo no longer helps: the store decides.
    await a.close();
    const a2 = await TestClient.joined(server, 'p1', 'dedupe', { _pk: 'same-client' });
    const third = await a2.publish({ v: 3 }, true, 'cid-1');
    assert.equal(third.duplicate, true);
    assert.equal(third.record.id, first.record.id);
    // A marker published afterwards proves b saw exactly one copy.
    await a2.publish('marker', true, 'cid-2');
    await b.next('msg', (f) => f.record.data === 'marker');
    assert.equal(b.frames.filter((f) => f.type === 'msg' && f.record.id === first.record.id).length, 1);
    const found = await b.search({ filters: [{ field: 'client_id', operator: '=', value: a2.clientId }] });
    assert.equal(found.type === 'result' && found.total, 2);
    await a2.close();
    await b.close();
  });

  test('the same cid from another client is a different message', async () => {
    const a = await TestClient.joined(server, 'p1', 'dedupe2');
    const b = await TestClient.joined(server, 'p1', 'dedupe2');
    const x = await a.publish(1, true, 'shared');
    const y = await b.publish(2, true, 'shared');
    assert.notEqual(x.record.id, y.record.id);
    assert.equal(y.duplicate, undefined);
    await a.close();
    await b.close();
  });

  test('repeated ephemeral cids are deduplicated too', async () => {
    const a = await TestClient.joined(server, 'p1', 'eph');
    const b = await TestClient.joined(server, 'p1', 'eph');
    a.send({ type: 'pub', cid: 'e1', data: 'x', persist: false });
    a.send({ type: 'pub', cid: 'e1', data: 'x', persist: false });
    a.send({ type: 'pub', cid: 'e2', data: 'end', persist: false });
    const acks = [await a.next('ack'), await a.next('ack'), await a.next('ack')];
    assert.deepEqual(
      acks.map((f) => [f.cid, f.duplicate ?? false]),
      [
        ['e1', false],
        ['e1', true],
        ['e2', false],
      ],
    );
    await b.next('msg', (f) => f.record.data === 'end');
    assert.equal(b.frames.filter((f) => f.type === 'msg').length, 2);
    await a.close();
    await b.close();
  });

  test('ephemeral publishes are relayed but never stored', async () => {
    const a = await TestClient.joined(server, 'p1', 'nostore');
    const ack = await a.publish({ reaction: '🎉' }, false);
    assert.equal(ack.persisted, false);
    const result = await a.search({});
    assert.equal(result.type === 'result' && result.total, 0);
    await a.close();
  });

  test('other connections of the same client_id see the record flagged as their own', async () => {
    const tab1 = await TestClient.joined(server, 'p1', 'tabs', { _pk: 'me' });
    const tab2 = await TestClient.joined(server, 'p1', 'tabs', { _pk: 'me' });
    const other = await TestClient.joined(server, 'p1', 'tabs');
    await tab1.publish('hello');
    assert.equal((await tab2.next('msg')).own, true);
    assert.equal((await other.next('msg')).own, undefined);
    await Promise.all([tab1.close(), tab2.close(), other.close()]);
  });

  test('username comes from the verified token only, never from the frame', async () => {
    const token = makeToken('p1', 'alice');
    const a = await TestClient.joined(server, 'p1', 'users', { token });
    const hello = a.frames.find((f) => f.type === 'hello');
    assert.equal(hello?.type === 'hello' && hello.username, 'alice');
    a.send({ type: 'pub', cid: 'u1', data: 'hi', persist: true, username: 'mallory' });
    const ack = await a.next('ack');
    assert.equal(ack.record.username, 'alice');
    const anon = await TestClient.joined(server, 'p1', 'users');
    anon.send({ type: 'pub', cid: 'u2', data: 'hi', username: 'mallory' });
    assert.equal((await anon.next('ack')).record.username, null);
    await a.close();
    await anon.close();
  });

  test('rooms are isolated: a publish in one room reaches no other room or project', async () => {
    const a = await TestClient.joined(server, 'p1', 'roomA');
    const b = await TestClient.joined(server, 'p1', 'roomB');
    const c = await TestClient.joined(server, 'p2', 'roomA');
    await a.publish('only A');
    const bAck = await b.publish('only B');
    const cAck = await c.publish('only p2');
    assert.equal(b.frames.filter((f) => f.type === 'msg').length, 0);
    assert.equal(c.frames.filter((f) => f.type === 'msg').length, 0);
    assert.equal(bAck.record.id, 1, 'each room numbers its own records');
    assert.equal(cAck.record.id, 1);
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});
