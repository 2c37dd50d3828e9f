// One measured run of zenbuild's context pipeline, in its own process (for a clean peak RSS).
// node context-worker.mjs DIR tar|tar.gz|zip [sha]
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveContext, hashContext, walkContext } from '@zenbuild/core';

const [dir, format, sha] = process.argv.slice(2);
const start = process.hrtime.bigint();
const walked = await walkContext({ root: dir, files: [{ path: 'Dockerfile', content: 'FROM scratch\n' }] });
const { hash, stats } = await hashContext(walked.entries);
const afterHash = process.hrtime.bigint();
const archiveHash = createHash('sha256');
let archiveBytes = 0;
await pipeline(
  archiveContext(walked.entries, format),
  new Writable({
    write(chunk, _encoding, callback) {
      archiveBytes += chunk.length;
      if (sha) archiveHash.update(chunk);
      callback();
    },
  }),
);
const end = process.hrtime.bigint();
console.log(
  JSON.stringify({
    ms: Number(end - start) / 1e6,
    hashMs: Number(afterHash - start) / 1e6,
    archiveMs: Number(end - afterHash) / 1e6,
    hash,
    files: stats.files,
    bytes: stats.bytes,
    archiveBytes,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
