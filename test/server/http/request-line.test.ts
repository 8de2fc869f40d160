// Requests an attacker (or any page, through an <img> tag) can send: request lines that a URL
// parser throws on, upgrades that are reset mid-answer, malformed escapes and wrong methods. Each
// gets a clear HTTP answer and the process never exits. The server runs as a child process, so a
// crash is seen as a crash.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { spawnServer, type ServerProcess } from '../server-process.js';
import { tempDir } from '../helpers.js';

/** Sends raw bytes over TCP and resolves with everything the server answered before closing (or within `ms`). */
function raw(port: number, text: string, ms = 2_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (chunk) => {
      answer += chunk;
      if (/\r\n\r\n/.test(answer) && /connection: close|content-length: 0/i.test(answer)) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(text);
  });
}

const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
/** Request targets that `new URL(target, base)` throws on, or that are not origin-form. */
const BAD_TARGETS = ['//', '///', '//[', 'http://[::1', '//a:b@[', '*', 'x'];

describe('request lines that crashed the process', () => {
  let server: ServerProcess;
  before(async () => {
    server = await spawnServer({ DATA_DIR: tempDir(), STATIC_DIR: 'test/fixtures' });
  });
  after(() => server.stop());

  test('every bad request target answers 400, as a request and as an upgrade, and the process lives', async () => {
    for (const target of BAD_TARGETS) {
      const plain = await raw(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(plain, /^HTTP\/1\.1 400 /, `GET ${target}: ${plain.slice(0, 80)}`);
      const upgrade = await raw(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`);
      assert.match(upgrade, /^HTTP\/1\.1 400 /, `upgrade ${target}: ${upgrade.slice(0, 80)}`);
    }
    assert.match(await raw(server.port, 'GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 /, 'a malformed escape in a static path');
    // What a viewer's browser sends for <img src="http://HOST:PORT//">.
    assert.equal((await fetch(`${server.url}//`)).status, 400);
    assert.ok(server.alive(), server.output());
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
  });

  test('upgrades to a non-room path reset by the client right away: 200 of them, and the process lives', async () => {
    const resets = Array.from(
      { length: 200 },
      () =>
        new Promise<void>((resolve) => {
          const socket: Socket = connect(server.port, '127.0.0.1', () => {
            socket.write(`GET /nowhere HTTP/1.1\r\nHost: x\r\n${UPGRADE}\r\n`);
            // RST instead of FIN, while the server writes its 404.
            setImmediate(() => socket.resetAndDestroy());
          });
          socket.on('error', () => {});
          socket.on('close', () => resolve());
        }),
    );
    await Promise.all(resets);
    assert.ok(server.alive(), server.output());
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
  });

  test('a malformed percent-escape in a REST path is 400 bad_request, not 500', async () => {
    const res = await fetch(`${server.url}/api/projects/%E0%A4/widgets/w/records`);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'bad_request');
    assert.equal((await fetch(`${server.url}/api/projects/p/widgets/%zz/records`)).status, 400);
  });

  test('HEAD on the API answers like GET without a body; a wrong method is 405 with Allow', async () => {
    const head = await fetch(`${server.url}/api/health`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const wrong = await fetch(`${server.url}/api/health`, { method: 'POST' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
    const tokens = await fetch(`${server.url}/api/tokens`, { method: 'GET' });
    assert.equal(tokens.status, 405);
    assert.equal(tokens.headers.get('allow'), 'POST, OPTIONS');
    const staticPost = await fetch(`${server.url}/clip.webm`, { method: 'DELETE' });
    assert.equal(staticPost.status, 405);
    assert.equal(staticPost.headers.get('allow'), 'GET, HEAD');
  });
});
