// Checks what each published package ships, as a user's tools will see it: publint (package.json
// fields against the packed files) and arethetypeswrong (every export resolves to JavaScript and types
// under Node's ESM resolution and bundlers; ESM only, so CommonJS resolutions are ignored).
// Needs the packages built (`pnpm lint` builds first).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const packages = [...readdirSync(path.join(root, 'packages')).map((name) => `packages/${name}`), 'apps/cli'];

const checks = [
  ['publint', [bin('publint'), 'run', '--strict', '.']],
  ['attw', [bin('attw'), '--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped']],
];

let failed = 0;
for (const dir of packages) {
  for (const [name, [command, ...args]] of checks) {
    const result = spawnSync(command, args, { cwd: path.join(root, dir), encoding: 'utf8' });
    if (result.status === 0) {
      console.log(`${name} ${dir}: ok`);
      continue;
    }
    failed++;
    console.error(`${name} ${dir}: failed\n${result.stdout}${result.stderr}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
