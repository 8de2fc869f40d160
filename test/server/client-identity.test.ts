// client_id spoofing: it was whatever `_pk` said and is in every broadcast record, so an
// anonymous client took a signed-in user's id and replaced their poll vote. Now the id is derived
// from a secret only the client's browser holds (and, when signed in, from the username).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientIdOf } from '../../src/server/client-identity.js';
import { startServer, TestClient, token as makeToken } from './helpers.js';

describe('client identity', () => {
  test("connecting with someone's public client id as _pk does not make you them: their latest vote stays theirs", async (t) => {
    const server = await startServer();
    t.after(() => server.close());
    const token = makeToken('p', 'ann');
    const ann = await TestClient.joined(server, 'p', 'poll', { token });
    await ann.publish({ option: 'a' });
    const annId = ann.clientId;
    // The attacker saw annId in a record and connects with it as its key, anonymously or not.
    const spoof = await TestClient.joined(server, 'p', 'poll', { _pk: annId });
    assert.notEqual(spoof.clientId, annId);
    await spoof.publish({ option: 'b' });
    const latest = await ann.search({ latestPerClient: true, filters: [{ field: 'client_id', operator: '=', value: annId }] });
    assert.deepEqual(latest.type === 'result' && latest.records.map((r) => r.data), [{ option: 'a' }]);
    await Promise.all([ann.close(), spoof.close()]);
  });

  test('the same browser secret is one client across reconnects; signed in it is another client than anonymous', async (t) => {
    const server = await startServer();
    t.after(() => server.close());
    const first = await TestClient.joined(server, 'p', 'id', { _pk: 'browser-secret' });
    const again = await TestClient.joined(server, 'p', 'id', { _pk: 'browser-secret' });
    assert.equal(first.clientId, again.clientId);
    assert.equal(first.clientId, clientIdOf('browser-secret', null));
    assert.doesNotMatch(first.clientId, /browser-secret/);
    const signedIn = await TestClient.joined(server, 'p', 'id', { _pk: 'browser-secret', token: makeToken('p', 'ann') });
    assert.notEqual(signedIn.clientId, first.clientId, "an anonymous connection never shares a signed-in user's id");
    const record = await first.publish({ x: 1 });
    assert.equal(record.record.client_id, first.clientId);
    await Promise.all([first.close(), again.close(), signedIn.close()]);
  });
});
