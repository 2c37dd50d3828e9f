import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerConfigCredentials, readDockerConfig } from './credentials.js';

const configDir = (content?: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
  if (content !== undefined) writeFileSync(path.join(dir, 'config.json'), content);
  return dir;
};

describe('readDockerConfig', () => {
  it('reads $DOCKER_CONFIG/config.json, and no file is an empty config', async () => {
    const dir = configDir('{"credsStore": "desktop"}');
    expect(await readDockerConfig({ DOCKER_CONFIG: dir })).toEqual({
      file: path.join(dir, 'config.json'),
      config: { credsStore: 'desktop' },
    });
    expect((await readDockerConfig({ DOCKER_CONFIG: configDir() })).config).toEqual({});
  });

  it.each(['null', '[]', '"text"', '{ not json'])('refuses %s, naming the file', async (content) => {
    const dir = configDir(content);
    await expect(readDockerConfig({ DOCKER_CONFIG: dir })).rejects.toThrow(
      `The docker config ${path.join(dir, 'config.json')} is not a JSON object; the docker CLI cannot read it either.`,
    );
    // The credential lookup says the same, instead of failing on a property of null.
    await expect(dockerConfigCredentials('registry.example', { DOCKER_CONFIG: dir })).rejects.toThrow(
      'is not a JSON object',
    );
  });
});
