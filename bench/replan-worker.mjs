// One walk + hash of DIR with the digest cache in HOME (cold when HOME is empty), in its own process,
// on the threads hashContext chooses or on THREADS of them. node replan-worker.mjs DIR HOME [THREADS]
import { DigestCache, hashContext, walkContext } from '@zenbuild/core';

const [dir, home, threads] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const start = now();
const cache = await DigestCache.open(home, dir);
const opened = now();
const walked = await walkContext({ root: dir });
const walkedAt = now();
const { hash, stats } = await hashContext(walked.entries, {
  cache,
  ...(threads ? { threads: Number(threads) } : {}),
});
await cache.save();
const end = now();
// The phases: loading the cache, the walk (readdir + lstat of every file), and the hash with the
// cache's lookups (plus the save, which writes only when something new was hashed).
const phases = { open: opened - start, walk: walkedAt - opened, hash: end - walkedAt };
console.log(JSON.stringify({ ms: end - start, phases, hash, ...stats }));
