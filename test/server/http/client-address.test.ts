// Behind a proxy every client has the proxy's address, so per-address limits become global.
// Forwarding headers are read only from configured trusted proxies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IncomingMessage } from 'node:http';
import { CloseCode } from '../../../src/protocol/index.js';
import { ClientAddress, limitKey } from '../../../src/server/http/client-address.js';
import { startServer, TestClient } from '../helpers.js';

const req = (peer: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;

describe('client address', () => {
  test('forwarding headers count only from trusted proxies, read from the right', () => {
    const none = new ClientAddress();
    assert.equal(none.of(req('10.0.0.1', { 'x-forwarded-for': '1.2.3.4' })), '10.0.0.1');
    const trusted = new ClientAddress(['10.0.0.0/8', '::1']);
    assert.equal(trusted.of(req('10.0.0.1', { 'x-forwarded-for': '1.2.3.4' })), '1.2.3.4');
    // A client's own X-Forwarded-For entries are left of what the proxy appended: ignored.
    assert.equal(trusted.of(req('10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 1.2.3.4' })), '1.2.3.4');
    assert.equal(trusted.of(req('10.0.0.1', { 'x-forwarded-for': '1.2.3.4, 10.0.0.7' })), '1.2.3.4', 'two trusted hops');
    assert.equal(trusted.of(req('::ffff:10.0.0.1', { forwarded: 'for="[2001:db8::17]:4711";proto=https' })), '2001:db8::17');
    assert.equal(trusted.of(req('10.0.0.1', { 'x-forwarded-for': 'not-an-ip' })), '10.0.0.1', 'garbage: trust nothing');
    assert.equal(trusted.of(req('8.8.8.8', { 'x-forwarded-for': '1.2.3.4' })), '8.8.8.8', 'an untrusted peer');
    assert.throws(() => new ClientAddress(['nonsense']), /not an IP address/);
  });

  test('an IPv6 /64 is one address for limits', () => {
    assert.equal(limitKey('2001:db8:0:1::5'), limitKey('2001:db8:0:1:ffff:1:2:3'));
    assert.notEqual(limitKey('2001:db8:0:1::5'), limitKey('2001:db8:0:2::5'));
    assert.equal(limitKey('1.2.3.4'), '1.2.3.4');
  });

  test("behind a trusted proxy each client gets its own per-address cap; without trust they share the proxy's", async (t) => {
    const behind = await startServer({ maxConnectionsPerIp: 2, trustProxy: ['127.0.0.1'] });
    t.after(() => behind.close());
    const as = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const clients = await Promise.all(['1.1.1.1', '1.1.1.1', '2.2.2.2', '2.2.2.2'].map((ip) => TestClient.joined(behind, 'p', 'r', {}, as(ip))));
    const third = await TestClient.connect(behind, 'p', 'r', {}, as('1.1.1.1'));
    assert.equal((await third.closed).code, CloseCode.TooManyConnections);

    const direct = await startServer({ maxConnectionsPerIp: 2 });
    t.after(() => direct.close());
    const two = await Promise.all(['1.1.1.1', '2.2.2.2'].map((ip) => TestClient.joined(direct, 'p', 'r', {}, as(ip))));
    const spoofed = await TestClient.connect(direct, 'p', 'r', {}, as('3.3.3.3'));
    assert.equal((await spoofed.closed).code, CloseCode.TooManyConnections, 'X-Forwarded-For from an untrusted peer is ignored');
    await Promise.all([...clients, ...two].map((c) => c.close()));
  });
});
