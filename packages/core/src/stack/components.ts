import { z } from 'zod';
import { laxBoolean } from '../config/lax-boolean.js';
import { REGISTRY_URI } from '../naming/reference.js';

/**
 * Container registry and artifact store flavors are plain data, so core owns their schemas. Image
 * builder flavors live in their backend packages (except `local`), which export their own schema.
 */

const registryCredentials = z.strictObject({
  username: z.string().min(1, 'must not be empty'),
  password: z.string().min(1, 'must not be empty'),
});

export const containerRegistryConfigSchema = z.strictObject({
  uri: z
    .string({ error: 'a container registry needs a `uri`, e.g. `127.0.0.1:5000` or `gcr.io/my-project`' })
    .transform((uri) => uri.replace(/\/+$/, ''))
    .pipe(
      z.string().check((ctx) => {
        if (REGISTRY_URI.test(ctx.value)) return;
        ctx.issues.push({ code: 'custom', input: ctx.value, message: registryUriProblem(ctx.value) });
      }),
    ),
  default_repository: z
    .string()
    .regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, {
      message: 'must be a lowercase repository path such as `zenml` or `team/images`',
    })
    .nullish(),
  credentials: registryCredentials.nullish(),
});

export type ContainerRegistryConfig = z.output<typeof containerRegistryConfigSchema>;

/** What is wrong with a registry URI, in the terms of the usual mistakes. */
function registryUriProblem(uri: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(uri)?.[0];
  if (scheme)
    return `must not start with a scheme: write \`${uri.slice(scheme.length)}\` (without \`${scheme}\`)`;
  const slash = uri.indexOf('/');
  if (slash >= 0 && /[A-Z]/.test(uri.slice(slash)))
    return `the repository path must be lowercase: write \`${uri.slice(0, slash)}${uri.slice(slash).toLowerCase()}\``;
  return 'must be a registry host with an optional path, e.g. `host:5000/team`';
}

/** Registry flavors ZenML ships, with the URI shape each expects (a mismatch is a warning, not an error). */
export const CONTAINER_REGISTRY_FLAVORS: Record<
  string,
  { uriPattern?: RegExp; uriExample?: string; integration?: string }
> = {
  default: {},
  aws: {
    uriPattern: /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?(\/|$)/,
    uriExample: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    integration: 'aws',
  },
  gcp: {
    uriPattern: /^((eu|us|asia)\.)?gcr\.io\/[^/]+|^[a-z0-9-]+-docker\.pkg\.dev\/[^/]+\/[^/]+/,
    uriExample: 'europe-west1-docker.pkg.dev/my-project/my-repo or gcr.io/my-project',
    integration: 'gcp',
  },
  azure: {
    uriPattern: /^[a-z0-9]+\.azurecr\.io(\/|$)/,
    uriExample: 'myregistry.azurecr.io',
    integration: 'azure',
  },
  dockerhub: { uriPattern: /^(docker\.io|index\.docker\.io)\//, uriExample: 'docker.io/my-user' },
  github: { uriPattern: /^ghcr\.io\//, uriExample: 'ghcr.io/my-org' },
};

const storePath = (scheme: string, example: string) =>
  z
    .string({ error: `needs a \`path\` such as \`${example}\`` })
    .regex(
      new RegExp(`^${scheme}://[^/\\s]+(/[^\\s]*)?$`),
      `must be a ${scheme}:// URL such as \`${example}\``,
    )
    .transform((p) => p.replace(/\/+$/, ''));

export const ARTIFACT_STORE_FLAVORS: Record<
  string,
  { schema: z.ZodType<{ path?: string }>; integration?: string }
> = {
  local: { schema: z.strictObject({ path: z.string().min(1).optional() }) },
  s3: { schema: z.strictObject({ path: storePath('s3', 's3://my-bucket/zenml') }), integration: 's3' },
  gcs: { schema: z.strictObject({ path: storePath('gs', 'gs://my-bucket/zenml') }), integration: 'gcp' },
  azure: {
    schema: z.strictObject({
      path: z
        .string({ error: 'needs a `path` such as `az://my-container/zenml`' })
        .regex(/^(az|abfs):\/\/[^/\s]+(\/\S*)?$/, 'must be an az:// or abfs:// URL'),
    }),
    integration: 'azure',
  },
};

/** The local image builder's own config (ZenML's LocalImageBuilderConfig). */
export const localImageBuilderConfigSchema = z.strictObject({
  use_subprocess_call: laxBoolean.default(false),
});

/**
 * The other stack components ZenML knows (`StackComponentType` in src/zenml/enums.py), each flavor with
 * the integration its requirements come from (the integration that ships the flavor), or none for
 * ZenML's own. ZenML adds every component's integration requirements to the image (`Stack.requirements`),
 * so a stack's orchestrator or experiment tracker changes what the image installs.
 */
export const OTHER_COMPONENT_FLAVORS: Readonly<Record<string, Readonly<Record<string, string | null>>>> = {
  orchestrator: {
    local: null,
    local_docker: null,
    kubernetes: 'kubernetes',
    kubeflow: 'kubeflow',
    airflow: 'airflow',
    sagemaker: 'aws',
    vertex: 'gcp',
    azureml: 'azure',
    databricks: 'databricks',
  },
  step_operator: { sagemaker: 'aws', vertex: 'gcp', azureml: 'azure', kubernetes: 'kubernetes' },
  experiment_tracker: { mlflow: 'mlflow', wandb: 'wandb', neptune: 'neptune', comet: 'comet' },
  model_deployer: {
    mlflow: 'mlflow',
    bentoml: 'bentoml',
    huggingface: 'huggingface',
    databricks: 'databricks',
  },
  model_registry: { mlflow: 'mlflow' },
  alerter: { slack: 'slack' },
  data_validator: {
    great_expectations: 'great_expectations',
    deepchecks: 'deepchecks',
    evidently: 'evidently',
  },
  feature_store: { feast: 'feast' },
  deployer: { local: null, docker: null },
};
