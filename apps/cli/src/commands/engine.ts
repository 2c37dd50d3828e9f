import { selectEngineOnce } from '@zenbuild/core';
import type { Io } from '../io.js';

/** `zenbuild engine`: which local container engine would be used, and why. */
export async function engineCommand(io: Io, options: { json?: boolean }): Promise<number> {
  const selection = await selectEngineOnce({ env: io.env });
  if (options.json) {
    io.json({ engine: selection.name, reason: selection.reason, attempts: selection.attempts });
  } else {
    io.out(`${selection.name}: ${selection.reason}`);
  }
  return 0;
}
