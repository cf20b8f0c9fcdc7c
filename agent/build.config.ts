/**
 * Builds the agent into one JavaScript file (`npm run build:agent` → dist/keyward-agent.mjs)
 * for devices that have Node but not this repository: its dependencies are bundled in, Node's
 * own modules are not.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  logLevel: 'error',
  publicDir: false,
  build: {
    ssr: 'agent/cli.ts',
    outDir: 'dist',
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    rollupOptions: { output: { entryFileNames: 'keyward-agent.mjs', inlineDynamicImports: true } },
  },
  ssr: { noExternal: true, target: 'node' },
});
