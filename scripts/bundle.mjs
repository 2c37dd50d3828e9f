// Bundles a package's compiled entry points (tsc's `dist/*.js`) into `dist/bundle/`, the files its
// package.json exports. Why: Node 20 loads ESM one file at a time, reading each with an async fs call,
// and zod alone is over a hundred files. One file per package cuts about 0.1 s from every CLI run.
//
//   node ../../scripts/bundle.mjs [ENTRY ...] [--external NAME ...]
//
// ENTRY is a file in dist/ (default: index.js). `@zenbuild/*` always stays external: every package must
// share the one core instance (its error classes, its engine registry). `--external` keeps a dependency
// out of the bundle: large SDKs, and modules with native add-ons. A dynamic `import()` of an inlined
// dependency becomes its own chunk, so lazy loading stays lazy.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'rolldown';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { external: { type: 'string', multiple: true, default: [] } },
});
const entries = positionals.length > 0 ? positionals : ['index.js'];
const external = ['@zenbuild', ...values.external];
const outDir = path.resolve('dist/bundle');

rmSync(outDir, { recursive: true, force: true });
await build({
  input: Object.fromEntries(entries.map((file) => [path.basename(file, '.js'), path.join('dist', file)])),
  platform: 'node',
  // `name` and `name/sub/path`, never a package whose name merely starts the same.
  external: (id) => external.some((name) => id === name || id.startsWith(`${name}/`)),
  logLevel: 'warn',
  output: {
    dir: outDir,
    format: 'esm',
    sourcemap: true,
    chunkFileNames: 'chunks/[name]-[hash].js',
  },
});
