import { z } from 'zod';

const PYDANTIC_TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const PYDANTIC_FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/**
 * A boolean as pydantic's lax mode reads one: true/false, the numbers 1/0, and text that is, in any
 * case, one of 1/0, on/off, t/f, true/false, y/n, yes/no (docs.pydantic.dev, standard library types:
 * booleans). ZenML's settings are pydantic models, so `skip_build: "true"` is valid there.
 */
export const laxBoolean = z.preprocess(
  (value) => {
    if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : value;
    if (typeof value !== 'string') return value;
    const lower = value.toLowerCase();
    return PYDANTIC_TRUE.has(lower) ? true : PYDANTIC_FALSE.has(lower) ? false : value;
  },
  z.boolean({ error: 'must be a boolean (true/false, yes/no, on/off, 1/0, t/f or y/n)' }),
);
