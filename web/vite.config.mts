import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development (`npm run dev -w @orchestra/web`) the app runs on Vite and /graphql (HTTP and WebSocket)
// is proxied to a gateway (ORCHESTRA_GATEWAY, default the `npm start` one). In production the gateway
// serves web/dist itself, so the app always talks to its own origin.
const gateway = process.env['ORCHESTRA_GATEWAY'] ?? 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    proxy: {
      '/graphql': { target: gateway, ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Maps are written for whoever debugs a build, but the bundles do not point at them and the gateway
    // never serves them (gateway/src/web-app.ts): the public gets the minified app, not its sources.
    sourcemap: 'hidden',
    rolldownOptions: {
      output: {
        // Libraries change less often than the app: a separate chunk stays cached across releases.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler|use-sync-external-store)[\\/]/, priority: 20 },
            // The chart library and its d3/redux parts load only with the pages that draw charts (components/charts).
            { name: 'charts', test: /node_modules[\\/](recharts|d3-[a-z-]+|internmap|victory-vendor|@reduxjs|redux|redux-thunk|react-redux|reselect|immer|es-toolkit|decimal\.js-light)[\\/]/, priority: 15 },
            { name: 'vendor', test: /node_modules/, priority: 10 },
          ],
        },
      },
    },
  },
});
