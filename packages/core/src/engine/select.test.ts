import { describe, expect, it } from 'vitest';
import { asyncErrorOf } from '../__fixtures__/pipeline.js';
import type { Availability, ContainerEngine, ContainerEngineName } from '../contracts.js';
import { selectEngine } from './select.js';

/** Engine packages as the importer sees them: present with a given availability, or not installed. */
function importerFor(engines: Partial<Record<ContainerEngineName, Availability>>, loaded: string[] = []) {
  return async (specifier: string) => {
    loaded.push(specifier);
    const name = specifier.replace('@zenbuild/', '') as ContainerEngineName;
    const availability = engines[name];
    if (!availability)
      throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    return {
      engine: {
        name,
        create: () => ({ name, check: async () => availability }) as unknown as ContainerEngine,
      },
    };
  };
}
const up = (reason: string): Availability => ({ available: true, reason });
const down = (reason: string): Availability => ({ available: false, reason, hint: 'start it' });

describe('engine selection', () => {
  it('prefers docker, then podman', async () => {
    const both = await selectEngine({
      env: {},
      importer: importerFor({ docker: up('daemon answered'), podman: up('podman works') }),
    });
    expect(both.name).toBe('docker');
    const podmanOnly = await selectEngine({
      env: {},
      importer: importerFor({ docker: down('no daemon'), podman: up('podman works') }),
    });
    expect(podmanOnly).toMatchObject({
      name: 'podman',
      reason: 'docker is not available (no daemon); podman works',
    });
  });

  it('never loads the docker package when podman is pinned', async () => {
    const loaded: string[] = [];
    const selection = await selectEngine({
      env: { ZENML_CONTAINER_ENGINE: 'podman' },
      importer: importerFor({ docker: up('x'), podman: up('ok') }, loaded),
    });
    expect(selection.name).toBe('podman');
    expect(loaded).toEqual(['@zenbuild/podman']);
  });

  it('fails with exit 3 when the pinned engine is unavailable, saying why', async () => {
    const error = await asyncErrorOf(() =>
      selectEngine({
        env: { ZENML_CONTAINER_ENGINE: 'docker' },
        importer: importerFor({ docker: down('connect ENOENT /var/run/docker.sock'), podman: up('ok') }),
      }),
    );
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(
      'The requested container engine docker (ZENML_CONTAINER_ENGINE=docker) is not available: connect ENOENT',
    );
  });

  it('fails with exit 3 and what was tried when no engine works', async () => {
    const error = await asyncErrorOf(() =>
      selectEngine({ env: {}, importer: importerFor({ podman: down('podman info failed') }) }),
    );
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(
      'docker: package @zenbuild/docker is not installed; podman: podman info failed',
    );
  });

  it('hands each engine to onEngine before its availability check has answered', async () => {
    const events: string[] = [];
    let answer: (availability: Availability) => void = () => {};
    const importer = async (specifier: string) => {
      const name = specifier.replace('@zenbuild/', '') as ContainerEngineName;
      const check =
        name === 'docker'
          ? async () => down('no daemon')
          : () => new Promise<Availability>((resolve) => (answer = resolve));
      return { engine: { name, create: () => ({ name, check }) as unknown as ContainerEngine } };
    };
    const selection = selectEngine({
      env: {},
      importer,
      onEngine: (engine) => {
        events.push(`created ${engine.name}`);
        if (engine.name === 'podman') setImmediate(() => answer(up('podman works')));
      },
    });
    // docker is tried first and is down. podman's check answers only once onEngine has seen podman: were
    // onEngine called after the check, this would never settle.
    expect((await selection).name).toBe('podman');
    expect(events).toEqual(['created docker', 'created podman']);
  });

  it('rejects an unknown engine name with exit 2', async () => {
    const error = await asyncErrorOf(() =>
      selectEngine({ env: { ZENML_CONTAINER_ENGINE: 'nerdctl' }, importer: importerFor({}) }),
    );
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('ZENML_CONTAINER_ENGINE=nerdctl');
  });
});
