import { defineConfig } from 'vite';

// `vite build` builds the demo page into dist/; `vite build --mode lib` adds dist/vidget.js, the
// script-tag / npm bundle (lazy chunks beside it). `npm run build` runs both. `npm run dev`
// serves the page with hot reload and proxies sockets and the API to `npm run serve` on PORT.
const target = `http://127.0.0.1:${process.env.PORT ?? 8787}`;

export default defineConfig(({ mode }) =>
  mode === 'lib'
    ? {
        build: {
          outDir: 'dist',
          emptyOutDir: false,
          target: 'es2022',
          lib: { entry: 'src/define.ts', formats: ['es'], fileName: () => 'vidget.js' },
          // Everything the core needs in one chunk: left alone, the bundler splits the modules the
          // core shares with the lazy widgets (Lit, the host) into chunks of their own, and three
          // separately compressed files cost about 1 KB more. Widgets and the sandbox bridge stay
          // lazy, and so does what a socket loads when it starts (src/socket/transport.ts), with
          // partysocket in a chunk of its own (the size budget holds each lazy chunk: see
          // test/package/bundle-size.test.ts).
          rollupOptions: {
            // Whitespace too: Vite leaves it (and keeps /* @__PURE__ */ marks) in an ES library for
            // the bundlers that consume it, but this bundle goes to browsers as it is (a script tag);
            // npm users import lib/ (npm run build:lib) and bundle it themselves.
            output: {
              minify: true,
              comments: { annotation: false },
              manualChunks: (id: string) =>
                /\/partysocket\//.test(id)
                  ? 'partysocket'
                  : /\/widgets\/|\/watch\/|\/sandbox-|\/src\/platform\/|\/protocol\/platform\.|\/socket\/(transport|offline-queue|client-id)\.|\/protocol\/query\./.test(id)
                    ? undefined
                    : 'vidget-core',
            },
          },
        },
      }
    : {
        // Two pages: the player demo and the analytics dashboard.
        build: { outDir: 'dist', target: 'es2022', emptyOutDir: true, rollupOptions: { input: { main: 'index.html', analytics: 'analytics.html' } } },
        server: { proxy: { '/api': target, '/parties': { target, ws: true }, '/watch': { target, ws: true } } },
      },
);
