import { defineConfig } from 'vite';

// `npm run build` builds the demo page into dist/, which `npm start` serves beside the socket
// server. `npm run dev` serves it with hot reload and proxies sockets and the API to a server
// started separately with `npm run serve`.
const target = `http://127.0.0.1:${process.env.PORT ?? 8787}`;

export default defineConfig({
  build: { outDir: 'dist', target: 'es2022', emptyOutDir: true },
  server: {
    proxy: {
      '/api': target,
      '/parties': { target, ws: true },
    },
  },
});
