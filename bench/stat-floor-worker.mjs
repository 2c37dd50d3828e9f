// The floor of any walker on node's fs API: readdir + lstat of every entry below DIR and nothing else (no
// dockerignore, no entry objects, no cache), timed in its own process. node stat-floor-worker.mjs DIR
import { lstatSync, readdirSync } from 'node:fs';

const [root] = process.argv.slice(2);
const start = process.hrtime.bigint();
let files = 0;
const visit = (dir) => {
  for (const child of readdirSync(dir, { withFileTypes: true })) {
    const absolute = `${dir}/${child.name}`;
    if (child.isDirectory()) visit(absolute);
    else if (lstatSync(absolute).size >= 0) files++;
  }
};
visit(root);
console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - start) / 1e6, files }));
