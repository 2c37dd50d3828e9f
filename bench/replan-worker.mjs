// One walk + hash of DIR with the digest cache in HOME (cold when HOME is empty), in its own process.
// node replan-worker.mjs DIR HOME
import { DigestCache, hashContext, walkContext } from '@zenbuild/core';

const [dir, home] = process.argv.slice(2);
const start = process.hrtime.bigint();
const cache = await DigestCache.open(home, dir);
const walked = await walkContext({ root: dir });
const { hash, stats } = await hashContext(walked.entries, { cache });
await cache.save();
console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - start) / 1e6, hash, ...stats }));
