// Build and development configuration of the console.
//
// `npm run build -- --outDir DIR --emptyOutDir` writes the static files `yagura serve` serves.
// The development server proxies the API to a running `yagura serve` (YAGURA_API, default
// http://127.0.0.1:8080). `vite preview` sends the same Content-Security-Policy as the
// service, so a page that would break under it breaks here first.
import { defineConfig } from 'vitest/config';

const api = process.env.YAGURA_API ?? 'http://127.0.0.1:8080';
const proxy = {
  '/api': { target: api, changeOrigin: false },
  '/taxii2': { target: api, changeOrigin: false },
  '/healthz': { target: api, changeOrigin: false },
};

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
  "form-action 'self'; frame-ancestors 'none'";

export default defineConfig({
  base: '/',
  build: {
    target: 'es2022',
    // Inlined assets would become data: URLs; keep every asset a hashed file under /assets/.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy },
  preview: {
    proxy,
    headers: {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
