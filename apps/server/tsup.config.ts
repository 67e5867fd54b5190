import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

const outDir = 'dist';

/** Every character outside ASCII as a \u escape (two for a code point past U+FFFF). */
const asciiOnly = (code: string) =>
  code.replace(/[\u0080-\u{10ffff}]/gu, (ch) =>
    Array.from(
      { length: ch.length },
      (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`,
    ).join(''),
  );

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
  outDir,
  clean: true,
  splitting: false,
  sourcemap: true,
  noExternal: [/^@simpledeploy\//],
  // Bundled CommonJS code may call require() for Node built-ins; ESM has none by default.
  // V8 keeps a script's source for the process's life: as one byte per character when all
  // of them fit, as UTF-16 otherwise. esbuild escapes what is outside ASCII in strings but
  // not in comments and regular expressions (a "…" in a comment, a U+FFFF in a regex of
  // isomorphic-git), which made the 2.6 MB bundle a 5.3 MB string: ~3 MiB of RSS (issue 14).
  async onSuccess() {
    for (const f of readdirSync(outDir).filter((n) => n.endsWith('.js'))) {
      const path = join(outDir, f);
      writeFileSync(path, asciiOnly(readFileSync(path, 'utf8')));
    }
  },
  banner: {
    js: "import { createRequire as __sdCreateRequire } from 'node:module'; const require = __sdCreateRequire(import.meta.url);",
  },
});
