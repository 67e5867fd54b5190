import { defineConfig } from 'tsup';

// One self-contained file with no runtime dependencies: easy to copy into a CI image.
export default defineConfig({
  entry: { main: 'src/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  clean: true,
  banner: { js: '#!/usr/bin/env node' },
});
