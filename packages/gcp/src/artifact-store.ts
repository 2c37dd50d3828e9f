import type { Storage } from '@google-cloud/storage';
import {
  type ArtifactStoreFlavor,
  namingArtifactStore,
  type ObjectStorage,
  type Stack,
} from '@zenbuild/core/backend';
import { gcpImageBuilderConfigSchema } from './config.js';
import { gcpError } from './errors.js';
import { gcsLocation, storageClient } from './upload.js';

/**
 * Objects under a GCS artifact store's `path`, for build records a team shares. A record is written with
 * `ifGenerationMatch=0`, so GCS refuses (412) rather than overwrite one; a non-resumable upload, so an
 * object exists whole or not at all. Lists page through `pageToken`s (the client's autoPaginate).
 */
export function gcsObjects(path: string, storage: Storage): ObjectStorage {
  const root = gcsLocation(path);
  const location = `gs://${root.bucket}${root.object ? `/${root.object}` : ''}`;
  const bucket = storage.bucket(root.bucket);
  const name = (key: string) => [root.object, key].filter(Boolean).join('/');
  const fail = (error: unknown, action: string, permission: string) => {
    const e = gcpError(error, {
      action,
      permission,
      role: 'roles/storage.objectAdmin',
      resource: `the artifact store ${location}`,
    });
    return namingArtifactStore(location, e, error);
  };
  const status = (error: unknown) => Number((error as { code?: unknown }).code);
  return {
    location,
    async read(key) {
      try {
        const [body] = await bucket.file(name(key)).download({ validation: false });
        return body;
      } catch (error) {
        if (status(error) === 404) return undefined;
        throw fail(error, 'read a build record', 'storage.objects.get');
      }
    },
    async create(key, body) {
      try {
        await bucket.file(name(key)).save(body, {
          resumable: false,
          validation: false,
          contentType: 'application/json',
          preconditionOpts: { ifGenerationMatch: 0 },
        });
        return true;
      } catch (error) {
        if (status(error) === 412) return false;
        throw fail(error, 'write a build record', 'storage.objects.create');
      }
    },
    async list(prefix) {
      const base = root.object ? `${root.object}/` : '';
      try {
        const [files] = await bucket.getFiles({ prefix: `${base}${prefix}`, autoPaginate: true });
        return files.map((file) => file.name.slice(base.length));
      } catch (error) {
        throw fail(error, 'list the build records', 'storage.objects.list');
      }
    },
    async remove(key) {
      try {
        await bucket.file(name(key)).delete({ ignoreNotFound: true });
      } catch (error) {
        throw fail(error, 'delete a build record', 'storage.objects.delete');
      }
    },
  };
}

/** The storage client for a stack's store: the gcp image builder's project, key file and endpoint. */
function storageFor(stack: Stack): Storage {
  const parsed =
    stack.imageBuilder.flavor === 'gcp'
      ? gcpImageBuilderConfigSchema.safeParse(stack.imageBuilder.config)
      : undefined;
  return storageClient(parsed?.success ? parsed.data : undefined);
}

/** What core loads to keep build records in a `gcs` artifact store. */
export const artifactStore: ArtifactStoreFlavor = {
  name: 'gcs',
  objects: (path, { stack }) => gcsObjects(path, storageFor(stack)),
};
