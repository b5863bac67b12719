/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import pkg from './package.json' with { type: 'json' };

// The UI is loaded by the Tauri webview from `ui/dist` (relative paths, no server), under a
// strict CSP (`default-src 'self'`): no inline scripts or styles, nothing remote.
export default defineConfig({
  base: './',
  define: { __UI_VERSION__: JSON.stringify(pkg.version) },
  // The Fluent files live in ../locales (shared with the engine); Vite may read them.
  server: { fs: { allow: ['..'] } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2021',
    // No inline data: URLs for assets (CSP), no module-preload polyfill (an inline script).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.{ts,tsx}'],
  },
});
