import type * as DockerfileAst from 'dockerfile-ast';

let parser: typeof DockerfileAst | undefined;
/**
 * dockerfile-ast (with the language-server types it builds on) takes about 20 ms to load: only plans
 * with a custom Dockerfile pay for it. Synchronous, so planning stays synchronous; kept out of core's
 * bundle for the same reason.
 */
function dockerfileAst(): typeof DockerfileAst {
  parser ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)(
    'dockerfile-ast',
  ) as typeof DockerfileAst;
  return parser;
}

/**
 * The images a Dockerfile may pull: every `FROM`, `COPY --from` and `RUN --mount=...,from=` that names
 * an image rather than a stage (or `scratch`), with the global `ARG`s expanded as the builder expands them (a build arg
 * overrides a declared default). An image whose name uses a variable with no value is left out: the
 * builder would refuse it anyway. Engines give these images' registries their credentials (the docker
 * CLI sends every credential it has instead) and, on a plain-http registry, the TLS exception.
 */
export function imagesPulledBy(dockerfile: string, buildArgs: Record<string, string> = {}): string[] {
  const { Copy, DockerfileParser, From, Run } = dockerfileAst();
  const parsed = DockerfileParser.parse(dockerfile);
  const globals = new Map<string, string | undefined>();
  for (const arg of parsed.getInitialARGs()) {
    const property = arg.getProperty();
    const name = property?.getName();
    if (!name) continue;
    // A default may use the ARGs declared before it; an unset one is empty there, as in the builder.
    const fallback = property?.getValue();
    globals.set(name, buildArgs[name] ?? (fallback == null ? undefined : expand(fallback, globals, '')));
  }
  const stages = new Set<string>();
  const images = new Set<string>();
  const consider = (raw: string | null | undefined) => {
    if (!raw) return;
    const image = expand(raw, globals);
    if (!image || image === 'scratch' || stages.has(image.toLowerCase()) || /^\d+$/.test(image)) return;
    images.add(image);
  };
  // In order: a stage can only be named before it is used.
  for (const instruction of parsed.getInstructions()) {
    if (instruction instanceof From) {
      consider(instruction.getImage());
      const stage = instruction.getBuildStage();
      if (stage) stages.add(stage.toLowerCase());
    } else if (instruction instanceof Copy) {
      consider(instruction.getFromFlag()?.getValue());
    } else if (instruction instanceof Run) {
      // `RUN --mount=type=bind,from=IMAGE` (and a cache seeded `from=` one) pulls IMAGE as well.
      for (const flag of instruction.getFlags()) {
        if (flag.getName().toLowerCase() !== 'mount') continue;
        for (const option of flag.getOptions())
          if (option.getName()?.toLowerCase() === 'from') consider(option.getValue());
      }
    }
  }
  return [...images];
}

/**
 * `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alternative}`: the substitutions the classic
 * builder and BuildKit both make. A variable with no value and no default gives `unset` (undefined:
 * the whole text is unresolved).
 */
function expand(text: string, values: Map<string, string | undefined>, unset?: string): string | undefined {
  let unresolved = false;
  const result = text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, braced: string | undefined, operator: string | undefined, word: string | undefined, bare) => {
      const value = values.get(braced ?? bare);
      const set = value !== undefined && value !== '';
      if (operator === '-') return set ? value : (word ?? '');
      if (operator === '+') return set ? (word ?? '') : '';
      if (value === undefined && unset === undefined) unresolved = true;
      return value ?? unset ?? '';
    },
  );
  return unresolved ? undefined : result;
}
