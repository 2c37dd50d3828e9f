import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeArchiveFiles, makeCodeArchive } from './archive.js';

function sourceTree(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-code-'));
  for (const [file, content] of Object.entries({
    'train.py': 'print(1)\n',
    'lib/util.py': 'x = 1\n',
    '.zen/config.yaml': 'active: true\n',
    'home/cache/digests.json': '{}\n',
    'store/code_uploads/old.tar.gz': 'old\n',
  })) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
  return root;
}

describe('code archives outside git', () => {
  it('hold every file but .zen and the folders zenbuild itself writes into', async () => {
    const root = sourceTree();
    const env = { PATH: process.env.PATH, GIT_CEILING_DIRECTORIES: path.dirname(root) };
    expect(await codeArchiveFiles(root, env, [path.join(root, 'home'), path.join(root, 'store')])).toEqual([
      'lib/util.py',
      'train.py',
    ]);
  });

  it('are the same bytes, so the same name, for the same code', async () => {
    const env = { PATH: process.env.PATH };
    const a = await makeCodeArchive(sourceTree(), env);
    const b = await makeCodeArchive(sourceTree(), env);
    expect(a.name).toMatch(/^[0-9a-f]{40}\.tar\.gz$/);
    expect(b.name).toBe(a.name);
    expect(a.files).toBe(4);
  });
});
