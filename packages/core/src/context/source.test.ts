import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from '../__fixtures__/pipeline.js';
import { hashContext } from './hash.js';
import { buildContextSource } from './source.js';
import { walkContext } from './walk.js';

describe('the context file by file (BuildKit FileSync)', () => {
  it('lists entries depth first with names in byte order, every directory before what it holds', async () => {
    // fsutil's validator refuses anything else: `a`, then `a/…`, then `a-b` ('/' sorts before '-').
    const root = project({ 'a/z.py': 'z', 'a-b.py': 'ab', 'B.py': 'B', 'a/b/c.py': 'c' });
    const walked = await walkContext({ root, files: [{ path: 'gen/Dockerfile', content: 'FROM x\n' }] });
    const { hash } = await hashContext(walked.entries);
    const files = buildContextSource(walked.entries, hash).files();
    expect(files.map((f) => `${f.type[0]} ${f.path}`)).toEqual([
      'f B.py',
      'd a',
      'd a/b',
      'f a/b/c.py',
      'f a/z.py',
      'f a-b.py',
      // The generated file's directory, which the source tree does not have, comes first.
      'd gen',
      'f gen/Dockerfile',
    ]);
  });

  it('gives each file its content digest and bytes, and refuses a file changed after planning', async () => {
    const root = project({ 'm.py': 'print(1)\n' });
    const walked = await walkContext({ root });
    const { hash } = await hashContext(walked.entries);
    const [file] = buildContextSource(walked.entries, hash).files();
    expect(file?.digest).toBe(createHash('sha256').update('print(1)\n').digest('hex'));
    const read = async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of file?.read() ?? []) chunks.push(chunk);
      return Buffer.concat(chunks).toString();
    };
    expect(await read()).toBe('print(1)\n');
    writeFileSync(path.join(root, 'm.py'), 'print(22)\n');
    await expect(read()).rejects.toThrow(/changed after the build context was planned/);
  });
});
