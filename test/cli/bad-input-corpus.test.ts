import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tempHome } from '../helpers/cli.js';
import { zenbuildInProcess } from '../helpers/in-process.js';

/**
 * The bad-input corpus, run through `zenbuild build --json` in this process: every case exits 2 with a
 * message that names the field or the file, prints one JSON error document, builds nothing (the engine
 * is pinned to a daemon that does not exist: a case that got that far would exit 3) and records nothing.
 */
interface Case {
  /** The pipeline document: YAML text, or data written as YAML. */
  pipeline: string | Record<string, unknown>;
  /** A stack document, when the case needs one. */
  stack?: string | Record<string, unknown>;
  /** Other files of the project (a Buffer for bytes that are not UTF-8, null for a directory). */
  files?: Record<string, string | Buffer | null>;
  env?: Record<string, string>;
  /** What stderr must say: the field path or the file, and what is wrong. */
  message: RegExp;
}

const parent = 'team/base:1';
/** A pipeline with these docker settings on top of a parent image. */
const docker = (settings: Record<string, unknown>) => ({
  name: 'corpus',
  settings: { docker: { parent_image: parent, ...settings } },
});
/** A pipeline whose step `trainer` has these docker settings. */
const step = (settings: unknown) => ({
  name: 'corpus',
  settings: { docker: { parent_image: parent } },
  steps: { trainer: { settings: { docker: settings } } },
});
const withStack = (components: Record<string, unknown>, name = 'bad') => ({
  pipeline: docker({ environment: { A: '1' } }),
  stack: { name, components },
});
// Nine aliases a level, nine levels deep: 81 aliases that stand for 9^9 (387 million) values.
const bomb = `${Array.from({ length: 9 }, (_, level) =>
  level === 0
    ? 'l0: &l0 [x, x, x, x, x, x, x, x, x]'
    : `l${level}: &l${level} [${Array(9)
        .fill(`*l${level - 1}`)
        .join(', ')}]`,
).join('\n')}\n`;

const cases: Record<string, Case> = {
  // The document itself.
  'YAML syntax error': { pipeline: 'name: [unclosed\n', message: /pipeline\.yaml:\d+:\d+ is not valid YAML/ },
  'a tab indent': {
    pipeline: 'name: p\nsettings:\n\tdocker: {}\n',
    message: /pipeline\.yaml:\d+:\d+ is not valid YAML/,
  },
  'an empty file': { pipeline: '', message: /pipeline\.yaml is empty/ },
  'only comments': { pipeline: '# nothing\n', message: /pipeline\.yaml is empty/ },
  'a list at the top': { pipeline: '- a\n- b\n', message: /must be a YAML mapping at the top level/ },
  'a scalar at the top': { pipeline: 'just text\n', message: /must be a YAML mapping at the top level/ },
  'a number at the top': { pipeline: '42\n', message: /must be a YAML mapping at the top level/ },
  'an alias bomb': {
    pipeline: `name: p\nextra:\n  ${bomb.trimEnd().split('\n').join('\n  ')}\n`,
    message: /pipeline\.yaml is refused: its aliases/,
  },
  'an undefined alias': {
    pipeline: 'name: *nope\n',
    message: /pipeline\.yaml:1:\d+ is not valid YAML: unidentified alias "nope"/,
  },
  'a duplicate key': {
    pipeline: 'name: a\nname: b\n',
    message: /is not valid YAML: Map keys must be unique/,
  },
  'two documents': { pipeline: 'name: a\n---\nname: b\n', message: /pipeline\.yaml.*is not valid YAML/ },
  'invalid UTF-8': {
    pipeline: '',
    files: { 'pipeline.yaml': Buffer.from('name: caf\xe9\n', 'latin1') },
    message: /pipeline\.yaml:1 is not valid UTF-8 text/,
  },
  'a NUL in the name': { pipeline: 'name: "a\\0b"\n', message: /name: must not hold control characters/ },
  'a newline in the name': { pipeline: 'name: "a\\nb"\n', message: /name: must not hold control characters/ },
  'an escape in the name': {
    pipeline: 'name: "a\\e[31mb"\n',
    message: /name: must not hold control characters/,
  },
  'no name and no --name': {
    pipeline: { settings: {} },
    message: /has no `name`: a ZenML config takes the pipeline's name from code\. Pass it with `--name NAME`/,
  },
  'an empty name': { pipeline: { name: '' }, message: /name: must not be empty/ },
  'a list as the name': { pipeline: { name: ['a'] }, message: /name: the pipeline name must be text/ },
  'an unknown top key': {
    pipeline: { name: 'p', nmae: 'x' },
    message: /nmae: unknown key `nmae`; did you mean `name`\?/,
  },
  'settings as a list': { pipeline: { name: 'p', settings: [] }, message: /settings: expected a mapping/ },
  'docker settings as text': {
    pipeline: { name: 'p', settings: { docker: 'x' } },
    message: /settings\.docker: docker settings must be a mapping/,
  },
  'steps as a list': { pipeline: { name: 'p', steps: [] }, message: /steps: expected a mapping, got a list/ },
  'a step as text': { pipeline: { name: 'p', steps: { a: 'x' } }, message: /steps\.a: expected a mapping/ },
  'an unknown step key': {
    pipeline: { name: 'p', steps: { a: { setings: {} } } },
    message: /steps\.a\.setings: unknown key/,
  },
  'a control character in a step name': {
    pipeline: 'name: p\nsteps:\n  "a\\tb": {}\n',
    message: /steps.*step names must not hold control characters/,
  },
  'source_root that does not exist': {
    pipeline: { name: 'p', source_root: 'no/such/dir', settings: { docker: { parent_image: parent } } },
    message: /source_root.*no\/such\/dir/,
  },

  // Each settings field with a value of the wrong kind.
  'parent_image as a list': {
    pipeline: docker({ parent_image: ['x'] }),
    message: /settings\.docker\.parent_image: /,
  },
  'parent_image not an image': {
    pipeline: docker({ parent_image: 'Bad Image!' }),
    message: /settings\.docker\.parent_image: must be an image reference/,
  },
  'image_tag with a slash': {
    pipeline: docker({ image_tag: 'a/b', environment: { A: '1' } }),
    message: /settings\.docker\.image_tag: /,
  },
  'image_tag too long': {
    pipeline: docker({ image_tag: 'x'.repeat(200), environment: { A: '1' } }),
    message: /settings\.docker\.image_tag: /,
  },
  'dockerfile as a map': { pipeline: docker({ dockerfile: {} }), message: /settings\.docker\.dockerfile: / },
  'dockerfile missing': {
    pipeline: docker({ dockerfile: 'nope/Dockerfile' }),
    message: /settings\.docker\.dockerfile: the Dockerfile .*nope\/Dockerfile does not exist/,
  },
  'dockerfile is a directory': {
    pipeline: docker({ dockerfile: 'dir' }),
    files: { dir: null },
    message: /settings\.docker\.dockerfile: .*dir is a directory/,
  },
  'dockerfile with an overlong line': {
    pipeline: docker({ dockerfile: 'Dockerfile' }),
    files: { Dockerfile: `FROM x\nRUN echo ${'x'.repeat(70_000)}\n` },
    message: /Dockerfile:2: a Dockerfile line of 70,009 bytes, more than the 65,535/,
  },
  'build_context_root missing': {
    pipeline: docker({ dockerfile: 'Dockerfile', build_context_root: 'nope' }),
    files: { Dockerfile: 'FROM x\n' },
    message: /settings\.docker\.build_context_root: .*nope does not exist/,
  },
  'build_context_root is a file': {
    pipeline: docker({ dockerfile: 'Dockerfile', build_context_root: 'Dockerfile' }),
    files: { Dockerfile: 'FROM x\n' },
    message: /settings\.docker\.build_context_root: .*is a file, not a directory/,
  },
  'skip_build without a parent': {
    pipeline: { name: 'p', settings: { docker: { skip_build: true } } },
    message: /settings\.docker\.skip_build: settings that skip the build must contain a parent image/,
  },
  'skip_build as a list': { pipeline: docker({ skip_build: [] }), message: /settings\.docker\.skip_build: / },
  'skip_build as a word pydantic refuses': {
    pipeline: docker({ skip_build: 'sometimes' }),
    message: /settings\.docker\.skip_build: /,
  },
  'prevent_build_reuse as a map': {
    pipeline: docker({ prevent_build_reuse: {} }),
    message: /settings\.docker\.prevent_build_reuse: /,
  },
  'target_repository with a host': {
    pipeline: docker({ target_repository: 'ghcr.io:443/team', environment: { A: '1' } }),
    message: /settings\.docker\.target_repository: must be a repository path/,
  },
  'target_repository upper case': {
    pipeline: docker({ target_repository: 'Team', environment: { A: '1' } }),
    message: /settings\.docker\.target_repository: must be a repository path/,
  },
  'an unknown installer': {
    pipeline: docker({ python_package_installer: 'conda' }),
    message: /settings\.docker\.python_package_installer: /,
  },
  'installer args as a list': {
    pipeline: docker({ python_package_installer_args: ['x'] }),
    message: /settings\.docker\.python_package_installer_args: /,
  },
  'an installer flag with a space': {
    pipeline: docker({ python_package_installer_args: { 'a b': '1' } }),
    message: /settings\.docker\.python_package_installer_args.*installer flag names/,
  },
  'an installer arg over two lines': {
    pipeline: docker({ python_package_installer_args: { extra: 'a\nb' } }),
    message: /settings\.docker\.python_package_installer_args\.extra: must be one line/,
  },
  'an installer arg as a map': {
    pipeline: docker({ python_package_installer_args: { extra: {} } }),
    message: /settings\.docker\.python_package_installer_args\.extra/,
  },
  'replicate as a number': {
    pipeline: docker({ replicate_local_python_environment: 3 }),
    message: /settings\.docker\.replicate_local_python_environment: must be true\/false/,
  },
  'replicate as an unknown method': {
    pipeline: docker({ replicate_local_python_environment: 'conda_export' }),
    message: /settings\.docker\.replicate_local_python_environment: /,
  },
  'replicate as an empty command': {
    pipeline: docker({ replicate_local_python_environment: [] }),
    message: /settings\.docker\.replicate_local_python_environment: /,
  },
  'pyproject_path missing': {
    pipeline: docker({ pyproject_path: 'nope/pyproject.toml' }),
    message: /settings\.docker\.pyproject_path: .*nope\/pyproject\.toml does not exist/,
  },
  'pyproject_export_command empty': {
    pipeline: docker({ pyproject_export_command: [] }),
    message: /settings\.docker\.pyproject_export_command: must name a command/,
  },
  'requirements as a number': {
    pipeline: docker({ requirements: 5 }),
    message: /settings\.docker\.requirements: must be the path of a requirements file or a list/,
  },
  'requirements file missing': {
    pipeline: docker({ requirements: 'nope.txt' }),
    message: /settings\.docker\.requirements: requirements file .*nope\.txt does not exist/,
  },
  'requirements file is a directory': {
    pipeline: docker({ requirements: 'dir' }),
    files: { dir: null },
    message: /settings\.docker\.requirements: requirements file .*dir is a directory/,
  },
  'an --index-url requirement': {
    pipeline: docker({ requirements: ['--index-url http://evil.example/simple', 'requests'] }),
    message: /settings\.docker\.requirements\[0\]: is a pip option, not a requirement/,
  },
  'a -r requirement': {
    pipeline: docker({ requirements: ['-r /etc/shadow'] }),
    message: /settings\.docker\.requirements\[0\]: is a pip option/,
  },
  'a --extra-index-url requirement': {
    pipeline: docker({ requirements: ['numpy', '  --extra-index-url=http://e'] }),
    message: /settings\.docker\.requirements\[1\]: is a pip option/,
  },
  'an -e requirement': {
    pipeline: docker({ requirements: ['-e .'] }),
    message: /settings\.docker\.requirements\[0\]: is a pip option/,
  },
  'a requirement over two lines': {
    pipeline: docker({ requirements: ['a\nb'] }),
    message: /settings\.docker\.requirements\[0\]/,
  },
  'a requirement as a map': {
    pipeline: docker({ requirements: [{}] }),
    message: /settings\.docker\.requirements/,
  },
  'an unknown integration': {
    pipeline: docker({ required_integrations: ['tensorfloww'] }),
    message: /required_integrations\[0\]: unknown integration `tensorfloww`/,
  },
  'integrations as text': {
    pipeline: docker({ required_integrations: 'sklearn' }),
    message: /settings\.docker\.required_integrations: /,
  },
  'install_stack_requirements as a list': {
    pipeline: docker({ install_stack_requirements: [1] }),
    message: /settings\.docker\.install_stack_requirements: /,
  },
  'local install without files': {
    pipeline: docker({
      local_project_install_command: 'pip install .',
      allow_including_files_in_images: false,
    }),
    message: /settings\.docker\.local_project_install_command: files must be included/,
  },
  'local install over two lines': {
    pipeline: docker({ local_project_install_command: 'a\nb' }),
    message: /settings\.docker\.local_project_install_command: /,
  },
  'an apt package with a semicolon': {
    pipeline: docker({ apt_packages: ['git; rm -rf /'] }),
    message: /settings\.docker\.apt_packages\[0\]: must be a Debian package name/,
  },
  'an apt package that is an option': {
    pipeline: docker({ apt_packages: ['--allow-unauthenticated'] }),
    message: /settings\.docker\.apt_packages\[0\]: must be a Debian package name/,
  },
  'an apt package with a backtick': {
    pipeline: docker({ apt_packages: ['`id`'] }),
    message: /settings\.docker\.apt_packages\[0\]/,
  },
  'an apt package with a dollar': {
    pipeline: docker({ apt_packages: ['$(id)'] }),
    message: /settings\.docker\.apt_packages\[0\]/,
  },
  'apt packages as text': {
    pipeline: docker({ apt_packages: 'git' }),
    message: /settings\.docker\.apt_packages: expected a list, got text/,
  },
  'environment as a list': {
    pipeline: docker({ environment: ['A=1'] }),
    message: /settings\.docker\.environment: /,
  },
  'an environment name with a space': {
    pipeline: docker({ environment: { 'A B': '1' } }),
    message: /settings\.docker\.environment/,
  },
  'an environment name with a dash first': {
    pipeline: docker({ environment: { '-A': '1' } }),
    message: /settings\.docker\.environment/,
  },
  'an environment value as a map': {
    pipeline: docker({ environment: { A: { b: 1 } } }),
    message: /settings\.docker\.environment\.A/,
  },
  'an environment value over two lines': {
    pipeline: docker({ environment: { A: 'a\nb' } }),
    message: /settings\.docker\.environment\.A/,
  },
  'a 1 MiB environment value': {
    pipeline: docker({ environment: { BIG: 'x'.repeat(1024 * 1024) } }),
    message: /settings\.docker\.environment\.BIG: a Dockerfile line of [\d,]+ bytes, more than the 65,535/,
  },
  'a 70 KB runtime environment value': {
    pipeline: docker({ runtime_environment: { BIG: 'y'.repeat(70_000) } }),
    message: /settings\.docker\.runtime_environment\.BIG: a Dockerfile line/,
  },
  'a missing ${VAR}': {
    pipeline: docker({ environment: { TOKEN: '${ZENBUILD_CORPUS_UNSET}' } }),
    message: /`ZENBUILD_CORPUS_UNSET` is not set, but settings\.docker\.environment\.TOKEN/,
  },
  'a missing ${VAR} in a key': {
    pipeline: docker({ environment: { '${ZENBUILD_CORPUS_UNSET}': '1' } }),
    message: /`ZENBUILD_CORPUS_UNSET` is not set/,
  },
  'a missing ${VAR} in a requirement': {
    pipeline: docker({ requirements: ['pkg==${ZENBUILD_CORPUS_UNSET}'] }),
    message: /`ZENBUILD_CORPUS_UNSET` is not set, but settings\.docker\.requirements\[0\]/,
  },
  'runtime_environment as text': {
    pipeline: docker({ runtime_environment: 'A=1' }),
    message: /settings\.docker\.runtime_environment: /,
  },
  'a user with a space': {
    pipeline: docker({ user: 'a b', environment: { A: '1' } }),
    message: /settings\.docker\.user: must be a user name or uid/,
  },
  'a user with a shell command': {
    pipeline: docker({ user: 'app;id', environment: { A: '1' } }),
    message: /settings\.docker\.user: must be a user name/,
  },
  'build_config as a list': {
    pipeline: docker({ build_config: [] }),
    message: /settings\.docker\.build_config: /,
  },
  'an unknown build_config key': {
    pipeline: docker({ build_config: { options: {} } }),
    message: /settings\.docker\.build_config\.options: unknown key/,
  },
  'an unknown build option': {
    pipeline: docker({ environment: { A: '1' }, build_config: { build_options: { frobnicate: true } } }),
    message: /settings\.docker\.build_config\.build_options.*frobnicate/,
  },
  'a build option twice': {
    pipeline: docker({
      environment: { A: '1' },
      build_config: { build_options: { no_cache: true, nocache: true } },
    }),
    message: /build_options\.nocache: `nocache` and `no_cache` are the same option/,
  },
  'buildargs as a list': {
    pipeline: docker({ environment: { A: '1' }, build_config: { build_options: { buildargs: ['A=1'] } } }),
    message: /settings\.docker\.build_config\.build_options\.buildargs/,
  },
  'shm_size as a word': {
    pipeline: docker({ environment: { A: '1' }, build_config: { build_options: { shm_size: 'big' } } }),
    message: /settings\.docker\.build_config\.build_options\.shm_size/,
  },
  'a dockerignore that does not exist': {
    pipeline: docker({
      environment: { A: '1' },
      allow_download_from_artifact_store: false,
      build_config: { dockerignore: 'nope.ignore' },
    }),
    message: /settings\.docker\.build_config\.dockerignore: .*nope\.ignore does not exist/,
  },
  'allow_including_files_in_images as text': {
    pipeline: docker({ allow_including_files_in_images: 'sometimes' }),
    message: /settings\.docker\.allow_including_files_in_images: /,
  },
  'allow_download_from_code_repository as a list': {
    pipeline: docker({ allow_download_from_code_repository: [] }),
    message: /settings\.docker\.allow_download_from_code_repository: /,
  },
  'a bad source_files mode': {
    pipeline: docker({ source_files: 'sometimes' }),
    message: /settings\.docker\.source_files: Invalid source file mode `sometimes`/,
  },
  'an unknown settings key': {
    pipeline: docker({ parent_imag: 'x' }),
    message: /settings\.docker\.parent_imag: unknown key `parent_imag`; did you mean `parent_image`\?/,
  },
  'nothing to build or run': {
    pipeline: { name: 'p', settings: { docker: { install_stack_requirements: false } } },
    message: /settings\.docker: nothing to build or run/,
  },
  'two images under one tag': {
    pipeline: {
      ...docker({ image_tag: 'v1', environment: { A: '1' } }),
      steps: {
        t: { settings: { docker: { environment: { A: '2' } } } },
        u: { settings: { docker: { environment: { A: '3' } } } },
      },
    },
    message: /would both be built as zenml:v1/,
  },

  // The same at step level: the path names the step.
  'a step apt package that is an option': {
    pipeline: step({ apt_packages: ['-y'] }),
    message: /steps\.trainer\.settings\.docker\.apt_packages\[0\]: must be a Debian package name/,
  },
  'a step requirement that is an option': {
    pipeline: step({ requirements: ['--trusted-host x'] }),
    message: /steps\.trainer\.settings\.docker\.requirements\[0\]: is a pip option/,
  },
  'a step unknown key': {
    pipeline: step({ paren_image: 'x' }),
    message: /steps\.trainer\.settings\.docker\.paren_image: unknown key/,
  },
  'step settings as a list': {
    pipeline: step(['x']),
    message: /steps\.trainer\.settings\.docker: docker settings must be a mapping/,
  },
  'a step missing ${VAR}': {
    pipeline: step({ environment: { T: '${ZENBUILD_CORPUS_UNSET}' } }),
    message: /`ZENBUILD_CORPUS_UNSET` is not set, but steps\.trainer\.settings\.docker\.environment\.T/,
  },
  'a step skip_build without a parent': {
    pipeline: { name: 'p', steps: { t: { settings: { docker: { skip_build: true } } } } },
    message: /skip_build: settings that skip the build must contain a parent image/,
  },
  'a step 1 MiB environment value': {
    pipeline: step({ environment: { BIG: 'z'.repeat(1024 * 1024) } }),
    message: /steps\.trainer\.settings\.docker\.environment\.BIG: a Dockerfile line/,
  },

  // The build context.
  'a .dockerignore that is a directory': {
    pipeline: docker({ environment: { A: '1' }, allow_download_from_artifact_store: false }),
    files: { '.dockerignore': null },
    message: /The dockerignore file .*\.dockerignore is a directory, not a file/,
  },
  'a .dockerignore with an unclosed [': {
    pipeline: docker({ environment: { A: '1' }, allow_download_from_artifact_store: false }),
    files: { '.dockerignore': 'ok\n[\n' },
    message: /The dockerignore file .*\.dockerignore has a pattern Docker cannot match with: `\[`/,
  },
  'a .dockerignore with a bad range': {
    pipeline: docker({ environment: { A: '1' }, allow_download_from_artifact_store: false }),
    files: { '.dockerignore': '[z-a]\n' },
    message: /has a pattern Docker cannot match with: `\[z-a\]`/,
  },
  'a file name that is not UTF-8': {
    pipeline: docker({ environment: { A: '1' }, allow_download_from_artifact_store: false }),
    files: { 'latin1:caf\xe9.py': 'x' },
    message: /the file name is not valid UTF-8/,
  },
  'an explicit dockerignore with an unclosed [': {
    pipeline: docker({
      environment: { A: '1' },
      allow_download_from_artifact_store: false,
      build_config: { dockerignore: 'my.ignore' },
    }),
    files: { 'my.ignore': 'a[b\n' },
    message: /my\.ignore has a pattern Docker cannot match with: `a\[b`/,
  },

  // The stack.
  'a stack alias bomb': {
    ...withStack({}),
    // Inside a component's config, which the stack loader walks for ${VAR}s.
    stack: `name: s\ncomponents:\n  image_builder:\n    flavor: local\n    config:\n      ${bomb.trimEnd().split('\n').join('\n      ')}\n`,
    message: /stack\.yaml is refused: its aliases/,
  },
  'a stack that is not UTF-8': {
    ...withStack({}),
    stack: '',
    files: { 'stack.yaml': Buffer.from('name: caf\xe9\n', 'latin1') },
    message: /stack\.yaml:1 is not valid UTF-8 text/,
  },
  'a stack syntax error': {
    ...withStack({}),
    stack: 'name: [\n',
    message: /stack\.yaml:\d+:\d+ is not valid YAML/,
  },
  'an unknown image builder flavor': {
    ...withStack({ image_builder: { flavor: 'kaniko' } }),
    message: /components\.image_builder\.flavor: unknown image builder flavor `kaniko`/,
  },
  'an unknown stack component': {
    ...withStack({ orchestratr: { flavor: 'local' } }),
    message: /components\.orchestratr: unknown key/,
  },
  'a registry URI with a scheme': {
    ...withStack({ container_registry: { flavor: 'default', uri: 'https://x:5000' } }),
    message: /components\.container_registry\.config\.uri: must not start with a scheme/,
  },
  'a registry password from a missing ${VAR}': {
    ...withStack({
      container_registry: {
        flavor: 'default',
        uri: 'x:5000',
        credentials: { username: 'u', password: '${ZENBUILD_CORPUS_UNSET}' },
      },
    }),
    message: /`ZENBUILD_CORPUS_UNSET` is not set/,
  },
  'aws without a registry': {
    ...withStack({ image_builder: { flavor: 'aws' } }),
    message: /components\.container_registry: The aws image builder requires a container registry/,
  },
  'a stack component as a list': {
    ...withStack({ image_builder: [] }),
    message: /components\.image_builder/,
  },
  'a stack name as a map': {
    pipeline: docker({ environment: { A: '1' } }),
    stack: { name: {}, components: {} },
    message: /stack\.yaml.*name/,
  },
};

describe('the bad-input corpus: exit 2, the field or file named, nothing built, nothing recorded', () => {
  it('has at least 100 cases', () => {
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(100);
  });

  it.each(Object.entries(cases))('%s', async (_name, c) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-corpus-'));
    writeFileSync(path.join(dir, '.zen'), '');
    const write = (name: string, content: string | Record<string, unknown>) =>
      writeFileSync(path.join(dir, name), typeof content === 'string' ? content : stringify(content));
    write('pipeline.yaml', c.pipeline);
    if (c.stack !== undefined) write('stack.yaml', c.stack);
    for (const [name, content] of Object.entries(c.files ?? {})) {
      if (content === null) mkdirSync(path.join(dir, name));
      else if (name.startsWith('latin1:'))
        writeFileSync(Buffer.from(path.join(dir, name.slice('latin1:'.length)), 'latin1'), content);
      else writeFileSync(path.join(dir, name), content);
    }
    const home = tempHome();
    const result = await zenbuildInProcess(
      [
        'build',
        path.join(dir, 'pipeline.yaml'),
        ...(c.stack !== undefined ? ['--stack', path.join(dir, 'stack.yaml')] : []),
        '--json',
      ],
      {
        PATH: process.env.PATH,
        ZENBUILD_HOME: home,
        ZENML_CONTAINER_ENGINE: 'docker',
        DOCKER_HOST: 'unix:///nonexistent/zenbuild-corpus.sock',
        ...c.env,
      },
    );
    expect(result.stderr).toMatch(c.message);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('INVALID_INPUT');
    const builds = path.join(home, 'builds');
    expect(existsSync(builds) ? readdirSync(builds) : []).toEqual([]);
  });
});

describe('usage errors with --json print one JSON error document', () => {
  it.each([
    [['build', 'p.yaml', '--concurrency', '0', '--json']],
    [['build', 'p.yaml', '--progress', 'bogus', '--json']],
    [['plan', '--json']],
    [['builds', 'show', '--json']],
  ])('zenbuild %j', async (args) => {
    const result = await zenbuildInProcess(args, { ZENBUILD_HOME: tempHome() });
    expect(result.code).toBe(2);
    const document = JSON.parse(result.stdout);
    expect(document.error.code).toBe('INVALID_INPUT');
    expect(document.error.message).toBe(
      result.stderr
        .trim()
        .split('\n')[0]
        ?.replace(/^error: /, ''),
    );
  });
});
