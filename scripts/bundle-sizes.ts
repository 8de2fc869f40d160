// What a page downloads: the script-tag bundle built exactly as `npm run build` builds it
// (vite.config.ts, mode lib), sized from the bundler's own chunk graph, gzipped by gzip-size
// (level 9). Used by the size budget in `npm test` (test/package/bundle-size.test.ts) and the bench.
import { gzipSizeSync } from 'gzip-size';
import { build } from 'vite';

/** One file of the bundle. */
export interface ChunkSize {
  /** File name in the output folder, e.g. `poll-Bpx_dGgz.js`. */
  name: string;
  bytes: number;
  gzip: number;
  /** The source modules in it, relative to the repo (`widgets/poll/poll.ts`, `node_modules/partysocket/…`). */
  modules: string[];
}

/** The bundle in two parts: what a page loads at once, and what loads on demand. */
export interface BundleSizes {
  /** dist/vidget.js and every chunk it imports statically (transitively): what a page pays up front. */
  core: { files: string[]; bytes: number; gzip: number; modules: string[] };
  /** Every other chunk: widgets, the sandbox bridge, the socket transport, partysocket, shared parts. */
  lazy: ChunkSize[];
}

interface OutputChunk {
  type: 'chunk' | 'asset';
  fileName: string;
  isEntry?: boolean;
  code?: string;
  imports?: string[];
  moduleIds?: string[];
}

/** Builds the script-tag bundle into `outDir` (emptied first) and sizes it. */
export async function measureBundle(outDir: string): Promise<BundleSizes> {
  const result = await build({ logLevel: 'silent', mode: 'lib', build: { outDir, emptyOutDir: true } });
  const outputs = (Array.isArray(result) ? result : [result]) as Array<{ output: OutputChunk[] }>;
  const chunks = new Map(
    outputs
      .flatMap((o) => o.output)
      .filter((c) => c.type === 'chunk')
      .map((c) => [c.fileName, c]),
  );
  const root = `${process.cwd()}/`;
  const size = (chunk: OutputChunk): ChunkSize => ({
    name: chunk.fileName,
    bytes: Buffer.byteLength(chunk.code!),
    gzip: gzipSizeSync(chunk.code!),
    modules: (chunk.moduleIds ?? []).map((id) => id.replace(root, '')),
  });
  const core = new Set([...chunks.values()].filter((c) => c.isEntry).map((c) => c.fileName));
  // Static imports only (`imports`, not `dynamicImports`): a Set iterates what is added meanwhile.
  for (const file of core) for (const dep of chunks.get(file)!.imports ?? []) core.add(dep);
  const coreSizes = [...core].map((file) => size(chunks.get(file)!));
  return {
    core: { files: [...core], bytes: coreSizes.reduce((n, c) => n + c.bytes, 0), gzip: coreSizes.reduce((n, c) => n + c.gzip, 0), modules: coreSizes.flatMap((c) => c.modules) },
    lazy: [...chunks.values()].filter((c) => !core.has(c.fileName)).map(size),
  };
}
