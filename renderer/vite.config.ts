// Builds the renderer into renderer/dist for browser mode (`npm run serve`) and,
// later, Electron. The server's CSP allows only same-origin scripts and styles, so
// the build must not inline any: Vite emits one module script with a src and a
// stylesheet link, and assets are never inlined as data: URLs into scripts.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  // Relative, so the same build works from the server's / and from a file:// URL in Electron.
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
});
