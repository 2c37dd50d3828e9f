import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { asyncErrorOf, errorOf, project } from '../__fixtures__/pipeline.js';
import type { ImageBuilderFlavor } from '../contracts.js';
import { defaultStack, describeStack, loadStack, stackFromData } from './stack.js';
import { validateImageBuilderFlavor } from './validate.js';

const aws = {
  image_builder: { flavor: 'aws', config: { code_build_project: 'builds' } },
  container_registry: { flavor: 'aws', uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
  artifact_store: { flavor: 's3', path: 's3://bucket/zenml' },
};
const gcp = {
  image_builder: { flavor: 'gcp', config: {} },
  container_registry: { flavor: 'gcp', uri: 'europe-west1-docker.pkg.dev/proj/repo' },
  artifact_store: { flavor: 'gcs', path: 'gs://bucket/zenml' },
};
const load = (components: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  stackFromData({ name: 's', components }, { env });

describe('the default stack', () => {
  it('is the local builder, no registry, a local artifact store', async () => {
    const { stack } = await loadStack(undefined);
    expect(describeStack(stack)).toEqual({
      name: 'default',
      image_builder: { flavor: 'local', name: 'default', config: { use_subprocess_call: false } },
      container_registry: null,
      artifact_store: { flavor: 'local', name: 'default' },
    });
  });
});

describe('loading a stack', () => {
  it('reads components, config shorthand and defaults', () => {
    const { stack } = load({
      image_builder: { flavor: 'local', config: { use_subprocess_call: true } },
      container_registry: { flavor: 'default', uri: '127.0.0.1:5000/', default_repository: 'team' },
    });
    expect(stack.imageBuilder.config).toEqual({ use_subprocess_call: true });
    expect(stack.containerRegistry).toEqual({
      flavor: 'default',
      name: 'default',
      uri: '127.0.0.1:5000',
      defaultRepository: 'team',
    });
    expect(stack.artifactStore.flavor).toBe('local');
  });

  it('substitutes ${VAR} and masks credentials everywhere they are shown', () => {
    const { stack } = load(
      {
        container_registry: {
          flavor: 'default',
          uri: '${REG}',
          credentials: { username: 'ci', password: '${REG_PASSWORD}' },
        },
      },
      { REG: '127.0.0.1:5001', REG_PASSWORD: 's3cr3t-pass' },
    );
    expect(stack.containerRegistry?.uri).toBe('127.0.0.1:5001');
    expect(JSON.stringify(describeStack(stack))).not.toContain('s3cr3t-pass');
    expect(stack.secrets.redact('login s3cr3t-pass')).toBe('login ***');
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'an unknown image builder flavor',
      { image_builder: { flavor: 'kaniko' } },
      /components\.image_builder\.flavor: unknown image builder flavor `kaniko`. Known flavors: local, aws, gcp/,
    ],
    [
      'an unknown registry flavor',
      { container_registry: { flavor: 'quay', uri: 'quay.io/x' } },
      /components\.container_registry\.flavor: unknown container registry flavor/,
    ],
    [
      'a registry without uri',
      { container_registry: { flavor: 'default' } },
      /components\.container_registry\.config\.uri: a container registry needs a `uri`/,
    ],
    [
      'a registry uri with a scheme',
      { container_registry: { flavor: 'default', uri: 'https://reg' } },
      /config\.uri: must not start with a scheme: write `reg` \(without `https:\/\/`\)/,
    ],
    [
      'a registry uri with capitals in its path',
      { container_registry: { flavor: 'default', uri: '127.0.0.1:5000/Team' } },
      /config\.uri: the repository path must be lowercase: write `127\.0\.0\.1:5000\/team`/,
    ],
    [
      'a registry uri that is no host',
      { container_registry: { flavor: 'default', uri: 'bad host:1' } },
      /config\.uri: must be a registry host with an optional path, e\.g\. `host:5000\/team`/,
    ],
    [
      'an s3 store without s3://',
      { artifact_store: { flavor: 's3', path: '/tmp/x' } },
      /components\.artifact_store\.config\.path: must be a s3:\/\/ URL/,
    ],
    [
      'a local builder with an unknown option',
      { image_builder: { flavor: 'local', config: { use_buildx: true } } },
      /components\.image_builder\.config\.use_buildx: unknown key/,
    ],
    [
      'a key given twice',
      { container_registry: { flavor: 'default', uri: 'a', config: { uri: 'b' } } },
      /given both next to `flavor` and under `config`/,
    ],
    [
      'aws without a registry',
      { ...aws, container_registry: undefined },
      /aws image builder requires a container registry/,
    ],
    [
      'aws without an s3 store',
      { ...aws, artifact_store: { flavor: 'local' } },
      /aws image builder requires an S3 artifact store/,
    ],
    [
      'gcp with an aws registry',
      { ...gcp, container_registry: aws.container_registry },
      /container registry of flavor `gcp` \(found `aws`\)/,
    ],
    [
      'gcp without a gcs store',
      { ...gcp, artifact_store: aws.artifact_store },
      /requires a GCS artifact store/,
    ],
  ];
  it.each(bad)('rejects %s', (_name, components, message) => {
    const error = errorOf(() => load(components));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(message);
  });

  it('reports every rule a stack breaks at once', () => {
    const error = errorOf(() => load({ image_builder: { flavor: 'gcp' } }));
    expect(error.details.problems).toHaveLength(2);
  });

  it('warns when a registry URI does not look like its flavor', () => {
    const { warnings } = load({ ...aws, container_registry: { flavor: 'aws', uri: '127.0.0.1:5000' } });
    expect(warnings[0]?.message).toMatch(/does not look like a aws registry/);
  });

  it('accepts the aws and gcp stacks that follow the rules', () => {
    expect(load(aws).stack.imageBuilder.flavor).toBe('aws');
    expect(load(gcp).stack.imageBuilder.flavor).toBe('gcp');
  });

  it('reports missing and broken files as input errors', async () => {
    expect((await asyncErrorOf(() => loadStack('/nonexistent/stack.yaml'))).message).toMatch(
      /does not exist/,
    );
    const dir = project({ 'broken.yaml': 'name: [unclosed\n', 'list.yaml': '- a\n' });
    expect((await asyncErrorOf(() => loadStack(`${dir}/broken.yaml`))).message).toMatch(
      /broken\.yaml:\d+:\d+ is not valid YAML/,
    );
    expect((await asyncErrorOf(() => loadStack(`${dir}/list.yaml`))).message).toMatch(
      /mapping at the top level/,
    );
  });
});

describe("the image builder flavor's own validation", () => {
  const fakeAws: ImageBuilderFlavor<{ code_build_project: string }> = {
    name: 'aws',
    isBuildingLocally: false,
    configSchema: z.strictObject({ code_build_project: z.string() }),
    validateStack: () => [
      { path: 'components.image_builder', message: 'region guessed', severity: 'warning' },
    ],
    create: () => {
      throw new Error('not used');
    },
  };
  const importer = async (specifier: string) => {
    if (specifier === '@zenbuild/aws') return { flavor: fakeAws };
    throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
  };

  it("validates the config with the schema the flavor's package exports", async () => {
    const { stack } = load({ ...aws, image_builder: { flavor: 'aws', config: { code_build_projct: 'x' } } });
    const error = await asyncErrorOf(() => validateImageBuilderFlavor(stack, importer));
    expect(error.message).toContain('components.image_builder.config.code_build_projct');
  });

  it("returns the flavor's warnings", async () => {
    const { stack } = load(aws);
    expect(await validateImageBuilderFlavor(stack, importer)).toEqual([
      { path: 'components.image_builder', message: 'region guessed', severity: 'warning' },
    ]);
  });

  it('names the package to install when it is missing (exit 3)', async () => {
    const { stack } = load(gcp);
    const error = await asyncErrorOf(() => validateImageBuilderFlavor(stack, importer));
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('pnpm add @zenbuild/gcp');
  });

  it('needs no package for the local builder', async () => {
    expect(await validateImageBuilderFlavor(defaultStack(), importer)).toEqual([]);
  });
});
