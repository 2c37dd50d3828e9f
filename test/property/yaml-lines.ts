import fc from 'fast-check';

/** Lines a pipeline config has, and the YAML syntax that trips parsers: markers, brackets, quotes. */
export const CONFIG_LINES = [
  'name: p',
  'settings:',
  '  docker:',
  '    parent_image: x/y:1',
  'steps:',
  '- a',
  ': :',
  '{',
  '[',
  '"',
  "'",
  '---',
  '...',
];

/** Text made of `lines` and short `noise` strings in any order: YAML more often than random text is. */
export function linesOf(
  lines: string[],
  noise: fc.Arbitrary<string>,
  maxLines: number,
): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof(fc.constantFrom(...lines), noise), { maxLength: maxLines })
    .map((picked) => picked.join('\n'));
}
