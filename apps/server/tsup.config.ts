import { defineConfig } from 'tsup';

// One self-contained ESM file per entry: `node apps/server/dist/main.js` and the
// `rotate-key.js` command. Workspace packages (TypeScript
// source) are bundled; so is any third-party code they import that this package does
// not list. What this package lists in `dependencies` stays external and is loaded
// from node_modules: native addons such as better-sqlite3 must be listed here.
export default defineConfig({
  entry: { main: 'src/main.ts', 'rotate-key': 'src/rotate-key.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  clean: true,
  splitting: false,
  sourcemap: true,
  noExternal: [/^@simpledeploy\//],
  // Bundled CommonJS code may call require() for Node built-ins; ESM has none by default.
  banner: {
    js: "import { createRequire as __sdCreateRequire } from 'node:module'; const require = __sdCreateRequire(import.meta.url);",
  },
});
