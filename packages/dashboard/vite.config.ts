import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The built files are served by the Tasklane server (packages/server/src/http/routes/dashboard.ts)
// under a strict Content-Security-Policy: no inline script or style may be emitted.
export default defineConfig({
  plugins: [preact({ devToolsInProd: false, prerender: { enabled: false } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Emitted as files (never data: URIs in CSS or inline), hashed, cached for a year.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w packages/dashboard` against `npm start` on :8080.
    proxy: { '/v1': 'http://127.0.0.1:8080' },
  },
});
