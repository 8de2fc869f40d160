import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { test } from 'node:test';

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
const imports = (file: string): string[] => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);

test('browser code never imports src/server or Node built-ins; src/protocol imports nothing outside itself', () => {
  const browserDirs = ['src/protocol', 'src/player', 'src/host', 'src/socket', 'src/watch', 'widgets'];
  const browserFiles = [...browserDirs.filter((d) => statSync(d, { throwIfNoEntry: false })).flatMap((d) => files(d)), 'src/index.ts', 'src/define.ts'];
  assert.ok(browserFiles.length > 0);
  for (const file of browserFiles) {
    for (const spec of imports(file)) {
      assert.ok(!spec.startsWith('node:'), `${file} imports ${spec}`);
      if (spec.startsWith('.')) {
        const target = relative('.', resolve(dirname(file), spec));
        assert.ok(!target.startsWith('src/server'), `${file} imports ${spec}`);
        if (file.startsWith('src/protocol')) assert.ok(target.startsWith('src/protocol'), `${file} imports ${spec}`);
      }
    }
  }
});
