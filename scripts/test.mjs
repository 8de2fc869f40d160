// `npm test`: typecheck, lint (ESLint, Prettier), then the three suites (node, happy-dom,
// Chromium) in turn. Prints each suite's output as it runs and ends with one line
// "tests: N passed, N failed, N skipped"; exits non-zero if anything failed.
// `npm test -- node dom` runs only the named suites.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const find = (dir, test) =>
  readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? find(path, test) : test(name) ? [path] : [];
    })
    .sort();

const nodeFiles = find('test', (n) => n.endsWith('.test.ts') && !n.endsWith('.dom.test.ts') && !n.endsWith('.browser.test.ts'));
const domFiles = find('test', (n) => n.endsWith('.dom.test.ts'));
const nodeTest = ['--test', '--test-reporter=spec'];

const suites = {
  // TypeScript 7 (`typescript7`); the `typescript` package is 6, for the tools that need its API.
  types: { cmd: process.execPath, args: ['node_modules/typescript7/bin/tsc', '--noEmit', '-p', 'tsconfig.json'] },
  lint: { cmd: 'npm', args: ['run', '--silent', 'lint'] },
  node: { cmd: process.execPath, args: ['--import', 'tsx', ...nodeTest, ...nodeFiles], files: nodeFiles },
  dom: { cmd: process.execPath, args: ['--import', 'tsx', '--import', './test/setup/happy-dom.ts', ...nodeTest, ...domFiles], files: domFiles },
  browser: { cmd: 'npx', args: ['wtr'], env: { NODE_OPTIONS: '--import tsx' } },
};

function run(name, { cmd, args, env }) {
  console.log(`\n── ${name} ──`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code) => resolve({ code, out }));
  });
}

const counts = { passed: 0, failed: 0, skipped: 0 };
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(suites);
let ok = true;
for (const name of chosen) {
  const suite = suites[name];
  if (!suite) throw new Error(`unknown suite ${name}; one of ${Object.keys(suites).join(', ')}`);
  if (suite.files && suite.files.length === 0) {
    console.log(`\n── ${name} ── no test files`);
    continue;
  }
  const { code, out } = await run(name, suite);
  // eslint-disable-next-line no-control-regex -- the terminal colour codes to strip
  const plain = out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  if (name === 'node' || name === 'dom') {
    const n = (label) => Number(plain.match(new RegExp(`^ℹ ${label} (\\d+)$`, 'm'))?.[1] ?? 0);
    counts.passed += n('pass');
    counts.failed += n('fail') + n('cancelled');
    counts.skipped += n('skipped') + n('todo');
  } else if (name === 'browser') {
    const all = [...plain.matchAll(/(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/g)].at(-1);
    if (all) {
      counts.passed += Number(all[1]);
      counts.failed += Number(all[2]);
      counts.skipped += Number(all[3] ?? 0);
    }
  }
  if (code !== 0) {
    ok = false;
    console.log(`\n${name}: exited with ${code}`);
    if (counts.failed === 0) counts.failed += 1;
  }
}
console.log(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(ok ? 0 : 1);
