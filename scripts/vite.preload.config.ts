import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

// Preload build: `npx vite build --config scripts/vite.preload.config.ts` → dist/preload/preload.cjs.
// A sandboxed preload cannot load ES modules or relative files, so it is bundled (with the contract and
// zod) into one CommonJS file whose only require is 'electron'.
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('..'),
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: here('../dist/preload'),
    emptyOutDir: true,
    target: 'chrome140',
    minify: false,
    sourcemap: true,
    lib: {
      entry: here('../src-main/preload/preload.ts'),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rolldownOptions: { external: ['electron'] },
  },
});
