// The adapter kit's zod: the part of zod that zenbuild's schemas use, exported by core as `z`. A backend
// declares its `configSchema` with it, so one copy of zod is loaded (core's bundle carries it) and core
// reads the backend's validation issues.
//
// Why a list and not `export { z } from 'zod'`: re-exporting zod's whole namespace object keeps every
// module of zod in core's bundle, its error messages in some fifty languages included. That was 470 KB
// of core's 1044 KB, compiled on every run. A bundler drops what no one names here.

export type { core, infer, input, output } from 'zod';
export {
  array,
  boolean,
  enum,
  literal,
  looseObject,
  null,
  number,
  object,
  record,
  strictObject,
  string,
  union,
  unknown,
  url,
  ZodError,
  ZodOptional,
  ZodType,
} from 'zod';
