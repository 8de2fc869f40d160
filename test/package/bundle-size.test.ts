import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { measureBundle } from '../../scripts/bundle-sizes.js';
import { tempDir } from '../server/helpers.js';

// The size budget, in bytes gzipped (KB = 1,000 bytes): a widget or dependency change that goes
// over fails here instead of slipping into pages unnoticed.
const CORE = 20_000; // dist/vidget.js and what it imports statically: player, host, socket, Lit
const PARTYSOCKET = 5_000; // the socket's transport library, loaded with the first socket
const LAZY = 4_000; // every other chunk loaded on demand: each built-in widget, shared parts, the sandbox bridge

test('bundle size budget: core ≤ 20 KB, partysocket ≤ 5 KB, each lazy chunk (every built-in widget) ≤ 4 KB gzipped', async (t) => {
  const { core, lazy } = await measureBundle(tempDir());
  const kb = (n: number) => `${(n / 1000).toFixed(2)} KB`;
  t.diagnostic(`core ${kb(core.gzip)} (${core.files.join(', ')})`);
  for (const chunk of lazy) t.diagnostic(`${chunk.name} ${kb(chunk.gzip)}`);
  assert.ok(core.gzip <= CORE, `the core is ${kb(core.gzip)} gzipped, over its ${kb(CORE)} budget`);
  // Each built-in widget has a chunk of its own, so a page pays only for the widgets it shows.
  const widgetChunks = lazy.filter((c) => c.modules.some((m) => /^widgets\/(?!shared\/)[^/]+\//.test(m)));
  assert.deepEqual(
    widgetChunks.map((c) => c.modules.find((m) => /^widgets\/(?!shared\/)/.test(m))!.split('/')[1]).sort(),
    ['chapters', 'chat', 'feed', 'hotspot', 'poll', 'quiz', 'reactions', 'viewers', 'watch-together'],
    'one lazy chunk per built-in widget, none in the core',
  );
  const partysocket = lazy.filter((c) => c.modules.some((m) => m.includes('node_modules/partysocket/')));
  assert.equal(partysocket.length, 1, 'partysocket in one lazy chunk');
  assert.ok(partysocket[0]!.gzip <= PARTYSOCKET, `partysocket's chunk is ${kb(partysocket[0]!.gzip)} gzipped, over ${kb(PARTYSOCKET)}`);
  for (const chunk of lazy.filter((c) => c !== partysocket[0])) assert.ok(chunk.gzip <= LAZY, `${chunk.name} is ${kb(chunk.gzip)} gzipped, over ${kb(LAZY)}`);
});

test('nothing of the widgets is left out of the bundle (a module run only for its side effects is dropped under package.json sideEffects)', async () => {
  const { core, lazy } = await measureBundle(tempDir());
  const bundled = new Set([...core.modules, ...lazy.flatMap((c) => c.modules)]);
  const sources = (readdirSync('widgets', { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => `widgets/${f}`);
  assert.deepEqual(
    sources.filter((f) => !bundled.has(f)),
    [],
  );
});
