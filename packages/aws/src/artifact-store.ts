import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  type ArtifactStoreFlavor,
  namingArtifactStore,
  type ObjectStorage,
  type Stack,
} from '@zenbuild/core/backend';
import { awsClientSettings, s3Client } from './clients.js';
import { awsImageBuilderConfigSchema } from './config.js';
import { awsError } from './errors.js';
import { s3Location } from './upload.js';

/** S3 answers a conflicting conditional write with 409; the docs say to retry it. */
const CONFLICT_RETRIES = 3;

/**
 * Objects under an S3 artifact store's `path`, for build records a team shares. A record is created
 * with `If-None-Match: *`, so S3 refuses (412) rather than overwrite one; lists page through
 * ListObjectsV2's continuation tokens.
 */
export function s3Objects(path: string, s3: S3Client): ObjectStorage {
  const root = s3Location(path);
  const location = `s3://${root.bucket}${root.key ? `/${root.key}` : ''}`;
  const at = (key: string) => ({ Bucket: root.bucket, Key: [root.key, key].filter(Boolean).join('/') });
  const fail = (error: unknown, action: string, key = '') => {
    const resource = `the artifact store ${location}${key ? ` (${key})` : ''}`;
    const e = awsError(error, { action, resource });
    return namingArtifactStore(location, e, error);
  };
  return {
    location,
    async read(key) {
      try {
        const reply = await s3.send(new GetObjectCommand(at(key)));
        return Buffer.from((await reply.Body?.transformToByteArray()) ?? []);
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw fail(error, 's3:GetObject', key);
      }
    },
    async create(key, body) {
      for (let attempt = 0; ; attempt++) {
        try {
          await s3.send(
            new PutObjectCommand({
              ...at(key),
              Body: body,
              IfNoneMatch: '*',
              ContentType: 'application/json',
            }),
          );
          return true;
        } catch (error) {
          const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (status === 412) return false;
          if (status === 409 && attempt < CONFLICT_RETRIES) continue;
          throw fail(error, 's3:PutObject', key);
        }
      }
    },
    async list(prefix) {
      const keys: string[] = [];
      const base = root.key ? `${root.key}/` : '';
      let token: string | undefined;
      do {
        let reply: ListObjectsV2CommandOutput;
        try {
          reply = await s3.send(
            new ListObjectsV2Command({
              Bucket: root.bucket,
              Prefix: `${base}${prefix}`,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
        } catch (error) {
          throw fail(error, 's3:ListBucket');
        }
        for (const item of reply.Contents ?? []) if (item.Key) keys.push(item.Key.slice(base.length));
        token = reply.IsTruncated ? reply.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async remove(key) {
      try {
        await s3.send(new DeleteObjectCommand(at(key)));
      } catch (error) {
        throw fail(error, 's3:DeleteObject', key);
      }
    },
  };
}

/** The S3 client for a stack's store: the aws image builder's region and endpoint when it has one. */
function s3ClientFor(stack: Stack, env: NodeJS.ProcessEnv): S3Client {
  const parsed =
    stack.imageBuilder.flavor === 'aws'
      ? awsImageBuilderConfigSchema.safeParse(stack.imageBuilder.config)
      : undefined;
  return s3Client(awsClientSettings(parsed?.success ? parsed.data : undefined), env);
}

/** What core loads to keep build records in an `s3` artifact store. */
export const artifactStore: ArtifactStoreFlavor = {
  name: 's3',
  objects: (path, { stack, env }) => s3Objects(path, s3ClientFor(stack, env)),
};
