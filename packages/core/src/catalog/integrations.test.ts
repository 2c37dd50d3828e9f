import { describe, expect, it } from 'vitest';
import { asyncErrorOf, errorOf, project } from '../__fixtures__/pipeline.js';
import { BUILTIN_INTEGRATIONS, getIntegration, loadIntegrationCatalog } from './integrations.js';

describe('the integrations catalog', () => {
  it('knows the integrations people use most', () => {
    for (const name of [
      'sklearn',
      'pytorch',
      'tensorflow',
      'huggingface',
      'mlflow',
      'aws',
      's3',
      'gcp',
      'azure',
      'kubernetes',
    ]) {
      expect(BUILTIN_INTEGRATIONS[name]?.requirements.length, name).toBeGreaterThan(0);
    }
    expect(BUILTIN_INTEGRATIONS.lightgbm?.aptPackages).toEqual(['libgomp1']);
  });

  it('is extended and overridden entry by entry by a user file', async () => {
    const dir = project({
      'catalog.yaml':
        'integrations:\n  mine: {requirements: [my-sdk==2], apt_packages: [libpq5]}\n  sklearn: {requirements: [scikit-learn==1.5.1]}\n',
    });
    const catalog = await loadIntegrationCatalog(`${dir}/catalog.yaml`);
    expect(catalog.mine).toEqual({ requirements: ['my-sdk==2'], aptPackages: ['libpq5'] });
    expect(catalog.sklearn).toEqual({ requirements: ['scikit-learn==1.5.1'], aptPackages: [] });
    expect(catalog.pytorch).toEqual(BUILTIN_INTEGRATIONS.pytorch);
  });

  it('rejects a malformed user file with the path of the problem', async () => {
    const dir = project({ 'catalog.yaml': 'integrations:\n  Bad-Name: {requirements: []}\n' });
    const error = await asyncErrorOf(() => loadIntegrationCatalog(`${dir}/catalog.yaml`));
    expect(error.message).toContain('integrations.Bad-Name');
  });

  it('an unknown name lists the known ones', () => {
    expect(errorOf(() => getIntegration(BUILTIN_INTEGRATIONS, 'torch', 'x')).message).toMatch(
      /unknown integration `torch`.*pytorch/,
    );
  });
});
