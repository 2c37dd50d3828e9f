import { closest, distance } from 'fastest-levenshtein';

/**
 * The known name a misspelt one most likely meant (`parent_imag` → `parent_image`, `Build-Config` →
 * `build_config`, `nmae` → `name`), or undefined when none is close: at most a third of its letters
 * differ, or two (a swapped pair), after case and `-` versus `_`.
 */
export function nearestName(input: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const normalise = (name: string) => name.toLowerCase().replaceAll('-', '_');
  const wanted = normalise(input);
  const byNormalised = new Map(known.map((name) => [normalise(name), name]));
  const candidate = closest(wanted, [...byNormalised.keys()]);
  const allowed = Math.max(2, Math.floor(candidate.length / 3));
  return distance(wanted, candidate) <= allowed ? byNormalised.get(candidate) : undefined;
}
