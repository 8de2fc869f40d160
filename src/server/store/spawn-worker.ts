import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The first lines a worker runs: lower its own thread's priority, before it loads anything (under
 * tsx, loading is a few hundred ms of CPU that would otherwise compete with the event loop).
 * On Linux, setpriority() with a thread id applies to that thread only, and /proc/thread-self
 * names it; elsewhere the pid would renice the whole process, so nothing is done.
 */
const lowerPriority = (nice: number) => (nice > 0 ? `try { require('node:os').setPriority(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()), ${nice}); } catch {}` : '');

/**
 * Starts a worker thread on the module `name` next to the calling module (`from` is its
 * `import.meta.url`), at nice value `nice` (Linux), in the form the caller itself runs in.
 * Compiled JavaScript imports `name.js`. TypeScript run through tsx loads `name.ts` after
 * registering tsx's require hook in the new thread: Node 20 refuses a `.ts` worker entry even
 * with `--import tsx` in its execArgv (tsx issue #354), and tsx's ESM `register()` starts a loader
 * thread per worker (0.4-0.7 s each, measured), where the require hook costs about 5 ms.
 */
export function spawnWorker(from: string, name: string, nice: number, options: WorkerOptions = {}): Worker {
  const typescript = from.endsWith('.ts');
  const entry = new URL(`./${name}${typescript ? '.ts' : '.js'}`, from);
  const load = typescript
    ? `require(${JSON.stringify(createRequire(from).resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(fileURLToPath(entry))});`
    : `import(${JSON.stringify(entry.href)});`;
  // The worker needs none of the parent's node flags, and some would break it (`--input-type`,
  // tsx's own loader flags: the shim registers tsx once instead).
  return new Worker(`${lowerPriority(nice)} ${load}`, { eval: true, execArgv: [], ...options });
}
