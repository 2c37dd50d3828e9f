import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot, tempHome, zenbuild } from '../helpers/cli.js';
import { runInImage } from '../infra/dockerd.js';
import { ensurePythonImage, TEST_WHEEL } from '../infra/python-image.js';

const { open } = inject('registries');
let pythonImage: string;

beforeAll(() => {
  pythonImage = ensurePythonImage();
}, 300_000);

describe('zenbuild build on a real Python parent image', () => {
  it('installs requirements with pip, apt packages from the mirror, and sets env, user and code', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-py-'));
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(path.join(dir, '.zen'), '');
    writeFileSync(path.join(dir, 'src/train.py'), 'import zbtest\nprint("training with", zbtest.VALUE)\n');
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'python',
        settings: {
          docker: {
            parent_image: pythonImage,
            python_package_installer: 'pip',
            // No PyPI here: the wheel comes from the parent image; Debian's python is externally managed.
            python_package_installer_args: {
              'no-index': null,
              'find-links': '/wheels',
              'break-system-packages': null,
            },
            requirements: [`${TEST_WHEEL.name}==${TEST_WHEEL.version}`],
            apt_packages: ['hello'],
            environment: { MODEL_DIR: '/models' },
            runtime_environment: { LOG_LEVEL: 'debug' },
            user: 'app',
            allow_download_from_artifact_store: false,
          },
        },
      }),
    );
    writeFileSync(
      path.join(dir, 'stack.yaml'),
      JSON.stringify({ name: 'py', components: { container_registry: { flavor: 'default', uri: open } } }),
    );
    const result = zenbuild(
      [
        'build',
        path.join(dir, 'pipeline.yaml'),
        '--stack',
        path.join(dir, 'stack.yaml'),
        '--json',
        '--progress',
        'plain',
      ],
      { ZENBUILD_HOME: tempHome() },
      path.join(repoRoot, 'test'),
      // pip, and apt-get from the Debian mirror: 3–19 s seen, once over the default 20 s.
      150_000,
    );
    expect(result.stderr).not.toMatch(/zenbuild:/);
    expect(result.code).toBe(0);
    const image = JSON.parse(result.stdout).images.orchestrator.image;
    const output = runInImage(image, [
      'sh',
      '-c',
      'id -un; hello; echo "$MODEL_DIR $LOG_LEVEL"; cd /app && python3 src/train.py; stat -c %U /app/src/train.py; test ! -e /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease && echo lists-cleaned',
    ]);
    expect(output).toBe(
      `app\nHello, world!\n/models debug\ntraining with ${TEST_WHEEL.value}\napp\nlists-cleaned\n`,
    );
  }, 300_000);
});
