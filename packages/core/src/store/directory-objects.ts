import type { Dirent } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../contracts.js';
import { writeFileAtomic } from '../home/atomic-write.js';

/**
 * A directory as object storage: for a `local` artifact store whose path is a directory a team shares
 * (a network file system). An object is written to a temp file, flushed, then hard-linked to its name:
 * the link fails if the name exists, so nothing is overwritten and no reader sees half an object.
 */
export function directoryObjects(root: string): ObjectStorage {
  const file = (key: string) => path.join(root, ...key.split('/'));
  return {
    location: root,
    async read(key) {
      try {
        return await readFile(file(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    create: (key, body) => writeFileAtomic(file(key), body, { exclusive: true, mode: 0o644 }),
    async list(prefix) {
      // The folder the prefix names (or the one its last part starts a name in), walked by hand: other
      // writers' temp files come and go meanwhile, and one that vanished is simply not listed.
      const dir = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      const keys: string[] = [];
      const walk = async (relative: string): Promise<void> => {
        let entries: Dirent[];
        try {
          entries = await readdir(file(relative || '.'), { withFileTypes: true });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'ENOTDIR') return;
          throw error;
        }
        for (const entry of entries) {
          const key = `${relative}${entry.name}`;
          if (entry.isDirectory()) {
            if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(`${key}/`);
          } else if (key.startsWith(prefix) && !key.endsWith('.tmp')) keys.push(key);
        }
      };
      await walk(dir);
      return keys;
    },
    async remove(key) {
      await rm(file(key), { force: true });
    },
  };
}
