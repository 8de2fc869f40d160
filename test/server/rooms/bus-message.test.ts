import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeBusMessage, ownRecordPrefix, parseBusMessage, type BusMessage } from '../../../src/server/rooms/bus-message.js';

const record = (node: string): BusMessage => ({ kind: 'record', node, id: 7, prev: 6, persisted: true, clientId: 'c1', json: '{"id":7,"data":{"text":"a\\nb"}}' });

test('a record message round-trips, its JSON carried as it is (newlines in the record included)', () => {
  const message = record('node-a');
  assert.deepEqual(parseBusMessage(encodeBusMessage(message)), message);
  for (const other of [
    { kind: 'deleted', node: 'n', ids: [1, 2] },
    { kind: 'presence', node: 'n' },
  ] as BusMessage[])
    assert.deepEqual(parseBusMessage(encodeBusMessage(other)), other);
  assert.equal(parseBusMessage('not json'), undefined);
});

test("a node's own record messages start with its prefix, whatever order the fields were given in; another node's never do", () => {
  const own = ownRecordPrefix('n1');
  const reordered = { json: '{}', clientId: 'c', persisted: false, prev: 0, id: 1, node: 'n1', kind: 'record' } as BusMessage;
  assert.ok(encodeBusMessage(record('n1')).startsWith(own));
  assert.ok(encodeBusMessage(reordered).startsWith(own));
  // A node id that begins with another's is still another node.
  for (const node of ['n10', 'n', 'N1', 'n1"']) assert.ok(!encodeBusMessage(record(node)).startsWith(own), node);
  assert.ok(!encodeBusMessage({ kind: 'presence', node: 'n1' }).startsWith(own), 'only records are skipped by prefix (the others are parsed)');
});
