import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { assertArtifactKey, sha256Hex, type ArtifactStore } from './store';

interface Meta {
  contentType: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * Artifacts as files: `<dir>/objects/<key>` holds the bytes, `<dir>/meta/<key>.json` the content
 * type and checksum. A put writes beside the target and renames, so a reader never sees half a file.
 */
export function createFsArtifactStore(dir: string): ArtifactStore {
  const root = resolve(dir);
  const objectPath = (key: string) => join(root, 'objects', key);
  const metaPath = (key: string) => join(root, 'meta', `${key}.json`);

  const writeAtomically = async (path: string, body: Buffer | string, again = true): Promise<void> => {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomUUID()}.tmp`;
    try {
      await writeFile(temp, body);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      // A delete of the folder's last other key may prune it between mkdir and write: once more.
      if (again && (error as NodeJS.ErrnoException).code === 'ENOENT') return writeAtomically(path, body, false);
      throw error;
    }
  };

  /** Removes the key's now-empty folders up to (not including) the base. */
  const pruneEmptyFolders = async (base: string, key: string) => {
    let folder = dirname(join(base, key));
    while (folder.startsWith(`${base}/`)) {
      try {
        await rmdir(folder);
      } catch {
        return; // not empty (or gone): stop
      }
      folder = dirname(folder);
    }
  };

  return {
    async put(key, body, contentType) {
      assertArtifactKey(key);
      const meta: Meta = { contentType, sizeBytes: body.length, sha256: sha256Hex(body) };
      await writeAtomically(objectPath(key), body);
      await writeAtomically(metaPath(key), JSON.stringify(meta));
      return { sizeBytes: meta.sizeBytes, sha256: meta.sha256 };
    },

    async get(key) {
      assertArtifactKey(key);
      let meta: Meta;
      try {
        meta = JSON.parse(await readFile(metaPath(key), 'utf8')) as Meta;
        const info = await stat(objectPath(key));
        meta.sizeBytes = info.size;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
      return { body: createReadStream(objectPath(key)), sizeBytes: meta.sizeBytes, contentType: meta.contentType };
    },

    async delete(keys) {
      for (const key of keys) assertArtifactKey(key);
      for (const key of keys) {
        await rm(objectPath(key), { force: true });
        await rm(metaPath(key), { force: true });
        await pruneEmptyFolders(join(root, 'objects'), key);
        await pruneEmptyFolders(join(root, 'meta'), `${key}.json`);
      }
    },
  };
}
