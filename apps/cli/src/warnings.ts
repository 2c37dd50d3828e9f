import type { StackProblem, Warning } from '@zenbuild/core';
import type { Io } from './io.js';

export function printWarnings(io: Io, warnings: Array<Warning | StackProblem>): void {
  for (const w of warnings) io.err(`warning: ${w.path ? `${w.path}: ` : ''}${w.message}`);
}
