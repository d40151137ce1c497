// Builds the renderer into renderer/dist for browser mode (`npm run serve`) and,
// later, Electron. The server's CSP allows only same-origin scripts and styles, so
// the build must not inline any: Vite emits one module script with a src and a
// stylesheet link, and assets are never inlined as data: URLs into scripts.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `vite` dev server: proxy the API to a running `npm run serve` (GLIMPSE_SERVER=http://127.0.0.1:PORT).
    proxy: process.env.GLIMPSE_SERVER
      ? { '/api': process.env.GLIMPSE_SERVER, '/files': process.env.GLIMPSE_SERVER, '/ws': { target: process.env.GLIMPSE_SERVER.replace('http', 'ws'), ws: true } }
      : {},
  },
});
