import path from 'node:path';
import { z } from 'zod';
import { issuesToError, userInputParse } from '../config/issues.js';
import { readYamlFile } from '../config/yaml-file.js';
import { invalidInput } from '../errors.js';

/** What a ZenML integration adds to an image on Linux. */
export interface Integration {
  requirements: string[];
  aptPackages: string[];
}

export type IntegrationCatalog = Readonly<Record<string, Integration>>;

const i = (requirements: string[], aptPackages: string[] = []): Integration => ({
  requirements,
  aptPackages,
});

/**
 * The integrations people use most, with the Linux requirements ZenML's integration classes declare.
 * Versions move with ZenML releases: a user catalog file (see loadIntegrationCatalog) overrides or adds
 * entries without waiting for a zenbuild release.
 */
export const BUILTIN_INTEGRATIONS: IntegrationCatalog = {
  airflow: i([]),
  aws: i(['sagemaker>=2.237.3', 'kubernetes', 'aws-profile-manager']),
  azure: i([
    'adlfs>=2021.10.0',
    'azure-keyvault-keys',
    'azure-keyvault-secrets',
    'azure-identity',
    'azureml-core==1.56.0',
    'azure-mgmt-containerservice>=20.0.0',
    'azure-storage-blob==12.17.0',
    'azure-ai-ml==1.23.1',
    'kubernetes',
  ]),
  bentoml: i(['bentoml>=1.0.10']),
  comet: i(['comet-ml>=3.0.0']),
  databricks: i(['databricks-sdk==0.28.0']),
  deepchecks: i(
    ['deepchecks[vision]>=0.18.0', 'torchvision>=0.14.0', 'opencv-python==4.5.5.64'],
    ['ffmpeg', 'libsm6', 'libxext6'],
  ),
  evidently: i(['evidently>=0.4.16,<0.5.0']),
  facets: i(['facets-overview>=1.0.0', 'IPython']),
  feast: i(['feast>=0.12.0']),
  gcp: i([
    'kfp>=2.6.0',
    'gcsfs!=2025.5.0,!=2025.5.0.post1',
    'google-cloud-secret-manager',
    'google-cloud-container>=2.21.0',
    'google-cloud-artifact-registry>=1.11.3',
    'google-cloud-storage>=2.9.0',
    'google-cloud-aiplatform>=1.34.0',
    'google-cloud-build>=3.11.0',
    'kubernetes',
  ]),
  github: i(['pygithub']),
  gitlab: i(['python-gitlab']),
  great_expectations: i(['great-expectations>=0.17.15,<1.0']),
  huggingface: i([
    'datasets>=2.16.0',
    'huggingface_hub>0.19.0',
    'accelerate',
    'bitsandbytes>=0.41.3',
    'peft',
    'transformers',
  ]),
  kubeflow: i(['kfp>=2.6.0', 'kfp-kubernetes>=1.1.0']),
  kubernetes: i(['kubernetes>=21.7,<26']),
  langchain: i(['langchain>=0.0.325', 'langchain-community']),
  lightgbm: i(['lightgbm>=1.0.0'], ['libgomp1']),
  mlflow: i(['mlflow>=2.1.1,<3', 'python-rapidjson<1.15']),
  neptune: i(['neptune']),
  pandas: i(['pandas>=2.0.0']),
  pillow: i(['Pillow>=9.2.0']),
  polars: i(['polars>=0.19.5', 'pyarrow>=12.0.0']),
  pytorch: i(['torch']),
  pytorch_lightning: i(['lightning']),
  s3: i(['s3fs>2022.3.0', 'boto3']),
  sklearn: i(['scikit-learn']),
  slack: i(['slack-sdk>=3.16.1']),
  tensorboard: i(['tensorboard>=2.12,<2.15']),
  tensorflow: i(['tensorflow>=2.12,<2.15', 'tensorflow_io>=0.24.0']),
  wandb: i(['wandb>=0.12.12', 'Pillow>=9.1.0']),
  xgboost: i(['xgboost>=1.0.0']),
};

const userCatalogSchema = z.strictObject({
  integrations: z.record(
    z.string().regex(/^[a-z0-9_]+$/, 'integration names are lowercase letters, digits and `_`'),
    z.strictObject({
      requirements: z.array(z.string().min(1)).default([]),
      apt_packages: z
        .array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'must be a Debian package name'))
        .default([]),
    }),
  ),
});

/** The built-in catalog, extended (and overridden, entry by entry) by a user's YAML file. */
export async function loadIntegrationCatalog(file?: string): Promise<IntegrationCatalog> {
  if (!file) return BUILTIN_INTEGRATIONS;
  const absolute = path.resolve(file);
  const data = await readYamlFile(absolute, 'integrations catalog');
  const parsed = userCatalogSchema.safeParse(data, userInputParse);
  if (!parsed.success) throw issuesToError(parsed.error, { what: 'integrations catalog', file: absolute });
  const user = Object.fromEntries(
    Object.entries(parsed.data.integrations).map(([name, entry]) => [
      name,
      i(entry.requirements, entry.apt_packages),
    ]),
  );
  return { ...BUILTIN_INTEGRATIONS, ...user };
}

/** Looks an integration up, or fails with the list of names that do exist (ZenML raises a bare KeyError). */
export function getIntegration(catalog: IntegrationCatalog, name: string, where: string): Integration {
  const entry = catalog[name] ?? catalog[name.toLowerCase()];
  if (!entry) {
    throw invalidInput(
      `${where}: unknown integration \`${name}\`. Known integrations: ${Object.keys(catalog).sort().join(', ')}. Add your own with an integrations catalog file (--integrations FILE).`,
      { path: where },
    );
  }
  return entry;
}
