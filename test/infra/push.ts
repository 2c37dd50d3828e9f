import { createHash } from 'node:crypto';

export interface PushOptions {
  auth?: { username: string; password: string };
  /** Makes the image's content (and so its digest) unique. */
  content?: string;
}

const authHeaders = (options: PushOptions): Record<string, string> =>
  options.auth
    ? {
        authorization: `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`,
      }
    : {};

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/**
 * Pushes a small image straight through the registry API (blobs, then a schema-2 manifest), so registry
 * and reuse tests need no container engine. Returns the digest the registry reports.
 */
export async function pushImage(
  host: string,
  repository: string,
  tag: string,
  options: PushOptions = {},
): Promise<string> {
  const headers = authHeaders(options);
  const layer = Buffer.from(options.content ?? `${repository}:${tag}`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  for (const blob of [layer, config]) {
    const start = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
    const location = new URL(start.headers.get('location') ?? '', `http://${host}`);
    location.searchParams.set('digest', sha256(blob));
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: blob,
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status}`);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: config.length,
      digest: sha256(config),
    },
    layers: [
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: layer.length,
        digest: sha256(layer),
      },
    ],
  });
  const put = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' },
    body: manifest,
  });
  if (put.status !== 201) throw new Error(`manifest upload: ${put.status} ${await put.text()}`);
  return put.headers.get('docker-content-digest') ?? '';
}

/** Deletes a manifest by digest (the registry runs with deletes enabled). */
export async function deleteImage(
  host: string,
  repository: string,
  digest: string,
  options: PushOptions = {},
): Promise<void> {
  const headers = authHeaders(options);
  const response = await fetch(`http://${host}/v2/${repository}/manifests/${digest}`, {
    method: 'DELETE',
    headers,
  });
  if (response.status !== 202) throw new Error(`manifest delete: ${response.status}`);
}
