import { describe, expect, it } from 'vitest';
import { dockerPipeline, onlyImage, plan } from '../__fixtures__/pipeline.js';
import {
  envInstructions,
  quoteEnvValue,
  renderInstallerArgs,
  shellQuote,
  withInstallerCacheMounts,
} from './dockerfile.js';

const dockerfileOf = (docker: Record<string, unknown>) =>
  onlyImage(plan(dockerPipeline({ parent_image: 'python:3.11-slim', ...docker }))).dockerfile ?? '';

describe('ENV rendering', () => {
  it('quotes values, escaping backslash and double quote, and leaves $VAR for Docker to expand as ZenML does', () => {
    expect(quoteEnvValue('a b')).toBe('"a b"');
    // ZenML writes `ENV KEY=value` raw, so Docker expands $PATH (pipeline_docker_image_builder.py).
    expect(quoteEnvValue('/opt/venv/bin:$PATH')).toBe('"/opt/venv/bin:$PATH"');
    expect(quoteEnvValue('say "hi" to ${USER}\\n')).toBe('"say \\"hi\\" to ${USER}\\\\n"');
  });

  it('keeps \\$ as the escape for a literal $', () => {
    expect(quoteEnvValue('costs \\$5')).toBe('"costs \\$5"');
  });

  it('writes one ENV instruction per variable, as ZenML does, so a value can use the ones before it', () => {
    expect(envInstructions({ A: '1', B: '$A/two words' })).toEqual(['ENV A="1"', 'ENV B="$A/two words"']);
  });

  it('keeps key case as written', () => {
    expect(dockerfileOf({ environment: { lower_case: 'x' } })).toContain('ENV lower_case="x"');
  });
});

describe('installer arguments', () => {
  it('renders flags, values and drops false', () => {
    expect(
      renderInstallerArgs({
        'no-cache-dir': null,
        system: true,
        quiet: false,
        'index-url': 'https://x/simple',
      }),
    ).toBe('--no-cache-dir --system --index-url=https://x/simple');
  });
  it('shell-quotes values that need it', () => {
    expect(renderInstallerArgs({ 'extra-index-url': "a b'c" })).toBe(`--extra-index-url='a b'\\''c'`);
    expect(shellQuote('plain-word_1.0')).toBe('plain-word_1.0');
  });
});

describe("each setting's effect on the generated Dockerfile", () => {
  it('starts from the parent image in /app with the ZenML constants', () => {
    const text = dockerfileOf({ requirements: ['a'] });
    expect(text.split('\n').slice(0, 3)).toEqual([
      'FROM python:3.11-slim',
      'WORKDIR /app',
      'ENV ZENML_LOGGING_COLORS_DISABLED="False"',
    ]);
    expect(text).toContain('ZENML_CONFIG_PATH="/app/.zenconfig"');
  });

  it('environment: ENV before any install', () => {
    const text = dockerfileOf({
      environment: { PIP_INDEX_URL: 'http://idx' },
      apt_packages: ['git'],
      requirements: ['a'],
    });
    expect(text.indexOf('PIP_INDEX_URL')).toBeLessThan(text.indexOf('apt-get'));
    expect(text.indexOf('apt-get')).toBeLessThan(text.indexOf('pip install'));
  });

  it('runtime_environment: ENV after every install, the local project install included, last of all', () => {
    // ZenML documents runtime_environment as set right before the entrypoint, after all installs.
    const text = dockerfileOf({
      runtime_environment: { LOG: 'info', PIP_INDEX_URL: 'http://runtime-only' },
      requirements: ['a'],
      apt_packages: ['git'],
      local_project_install_command: 'pip install .',
      user: 'app',
      allow_download_from_artifact_store: false,
    });
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual(['ENV LOG="info"', 'ENV PIP_INDEX_URL="http://runtime-only"']);
    expect(text.indexOf('RUN pip install . && chown -R app /app')).toBeLessThan(text.indexOf('ENV LOG'));
    expect(text.indexOf('uv pip install')).toBeLessThan(text.indexOf('ENV LOG'));
  });

  it('apt_packages: one install that cleans the lists', () => {
    expect(dockerfileOf({ apt_packages: ['git', 'libgomp1'] })).toContain(
      'RUN apt-get update && apt-get install -y --no-install-recommends git libgomp1 && rm -rf /var/lib/apt/lists/*',
    );
  });

  it('python_package_installer uv: uv only installed when missing, then uv pip install', () => {
    const text = dockerfileOf({ requirements: ['a'] });
    expect(text).toContain('RUN command -v uv >/dev/null 2>&1 || pip install --no-cache-dir uv');
    expect(text).toContain('RUN uv pip install --no-cache-dir -r .zenml_user_requirements');
  });

  it('python_package_installer pip: ZenML default args', () => {
    const text = dockerfileOf({ requirements: ['a'], python_package_installer: 'pip' });
    expect(text).not.toContain('uv');
    expect(text).toContain('RUN pip install --no-cache-dir --default-timeout=60 -r .zenml_user_requirements');
  });

  it('python_package_installer_args: merged over the defaults, user values win', () => {
    const text = dockerfileOf({
      requirements: ['a'],
      python_package_installer: 'pip',
      python_package_installer_args: { 'default-timeout': 120, system: null },
    });
    expect(text).toContain('RUN pip install --no-cache-dir --default-timeout=120 --system -r');
  });

  it('requirements: each file copied right before its install', () => {
    const lines = dockerfileOf({ requirements: ['a'] }).split('\n');
    const copy = lines.indexOf('COPY .zenml_user_requirements .');
    expect(lines[copy + 1]).toMatch(/^RUN uv pip install .* -r \.zenml_user_requirements$/);
  });

  it('code is copied only when included, with --chown for a user', () => {
    expect(dockerfileOf({ requirements: ['a'] })).not.toContain('COPY . .');
    expect(dockerfileOf({ requirements: ['a'], allow_download_from_artifact_store: false })).toContain(
      'COPY . .',
    );
    const text = dockerfileOf({ user: 'app', allow_download_from_artifact_store: false });
    expect(text).toContain('COPY --chown=app . .');
    expect(text).not.toContain('chown -R');
    expect(text.trimEnd().split('\n').slice(-2)).toEqual(['RUN chown app /app', 'USER app']);
  });

  it('local_project_install_command: runs after the code is copied', () => {
    const text = dockerfileOf({ local_project_install_command: 'pip install . --no-deps' });
    expect(text.indexOf('COPY . .')).toBeLessThan(text.indexOf('RUN pip install . --no-deps'));
  });

  it('local_project_install_command with a user: what the install writes is handed over in the same layer', () => {
    const text = dockerfileOf({ local_project_install_command: 'pip install .', user: 'app' });
    expect(text.trimEnd().split('\n').slice(-2)).toEqual([
      'RUN pip install . && chown -R app /app',
      'USER app',
    ]);
  });

  it('code download: marks the image so ZenML fetches code at run time', () => {
    expect(dockerfileOf({ requirements: ['a'] })).toContain('ZENML_REQUIRES_CODE_DOWNLOAD="True"');
    expect(dockerfileOf({ requirements: ['a'], allow_download_from_artifact_store: false })).not.toContain(
      'ZENML_REQUIRES_CODE_DOWNLOAD',
    );
  });
});

describe('installer cache mounts', () => {
  it('mounts a cache under pip and apt, and keeps the rest of the file as it is', () => {
    const text = dockerfileOf({
      requirements: ['a'],
      apt_packages: ['git'],
      python_package_installer: 'pip',
      local_project_install_command: 'pip install -r requirements.txt .',
    });
    const mounted = withInstallerCacheMounts(text);
    const changed = mounted.split('\n').filter((line, i) => line !== text.split('\n')[i]);
    expect(changed).toEqual([
      'RUN --mount=type=cache,id=zenbuild-apt,target=/var/cache/apt/archives,sharing=locked apt-get update && apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true git && rm -rf /var/lib/apt/lists/*',
      // ZenML's --no-cache-dir goes: the cache is the point, and it is a mount, not a layer.
      'RUN --mount=type=cache,id=zenbuild-pip,target=/var/cache/zenbuild/pip pip install --cache-dir=/var/cache/zenbuild/pip --default-timeout=60 -r .zenml_user_requirements',
    ]);
    // The local project install is the user's command: untouched, though it runs pip.
    expect(mounted).toContain('RUN pip install -r requirements.txt .');
    expect(withInstallerCacheMounts(mounted)).toBe(mounted);
  });

  it('mounts uv’s cache and has it copy rather than link from another file system', () => {
    const mounted = withInstallerCacheMounts(
      dockerfileOf({
        requirements: ['a'],
        python_package_installer: 'uv',
        python_package_installer_args: { 'index-strategy': 'unsafe-best-match' },
      }),
    );
    expect(mounted).toContain(
      'RUN --mount=type=cache,id=zenbuild-uv,target=/var/cache/zenbuild/uv UV_LINK_MODE=copy uv pip install --cache-dir=/var/cache/zenbuild/uv --index-strategy=unsafe-best-match -r .zenml_user_requirements',
    );
  });
});
