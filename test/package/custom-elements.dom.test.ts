import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { VidgetPlayer } from '../../src/player/vidget-player.js';
import { tempDir } from '../server/helpers.js';

// custom-elements.json, generated from the sources as `npm run build` generates it, against the
// elements themselves: every element is listed under its tag, with every attribute it observes.

interface Declaration {
  name: string;
  tagName?: string;
  customElement?: boolean;
  attributes?: Array<{ name: string }>;
  events?: Array<{ name: string }>;
  slots?: Array<{ name: string }>;
}

function generate(): Declaration[] {
  const outdir = tempDir();
  const run = spawnSync(process.execPath, ['node_modules/@custom-elements-manifest/analyzer/cem.js', 'analyze'], {
    encoding: 'utf8',
    env: { ...process.env, VIDGET_MANIFEST_DIR: relative(process.cwd(), outdir) },
  });
  assert.equal(run.status, 0, run.stderr);
  const manifest = JSON.parse(readFileSync(join(outdir, 'custom-elements.json'), 'utf8')) as { modules: Array<{ declarations?: Declaration[] }> };
  return manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.customElement && d.tagName); // VidgetWidget, the base class, has no tag
}

/** The built-in widgets: one folder each under widgets/, its module named after it. */
const builtIns = readdirSync('widgets', { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'shared')
  .map((d) => d.name);

test('custom-elements.json lists <vidget-player> and every built-in widget with every attribute it observes', async () => {
  const elements = generate();
  const byTag = new Map(elements.map((d) => [d.tagName, d]));
  const classes: Array<[string, { observedAttributes: string[] }]> = [['vidget-player', VidgetPlayer]];
  for (const name of builtIns) {
    // Each module defines its element (through the widget registry) when loaded.
    await import(`../../widgets/${name}/${name}.js`);
    const element = customElements.get(`vidget-${name}`);
    assert.ok(element, `widgets/${name} defines <vidget-${name}>`);
    classes.push([`vidget-${name}`, element as unknown as { observedAttributes: string[] }]);
  }
  assert.deepEqual([...byTag.keys()].sort(), classes.map(([tag]) => tag).sort(), 'one entry per element');
  for (const [tag, element] of classes) {
    const listed = (byTag.get(tag)!.attributes ?? []).map((a) => a.name).sort();
    // Lit's observedAttributes: the reactive properties that have an attribute (not state, not attribute: false).
    assert.deepEqual(listed, [...element.observedAttributes].sort(), `attributes of <${tag}>`);
  }
  const player = byTag.get('vidget-player')!;
  assert.deepEqual(player.attributes!.map((a) => a.name).sort(), ['config', 'for', 'project', 'server', 'token', 'user']);
  assert.deepEqual(
    player.events!.map((e) => e.name),
    ['error'],
  );
  assert.ok(
    player.slots?.some((s) => s.name === ''),
    'the default slot (the <video>)',
  );
});
