import os from 'node:os';
import path from 'node:path';

/** `$ZENBUILD_HOME`, else `$XDG_DATA_HOME/zenbuild`, else `~/.local/share/zenbuild`. */
export function zenbuildHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ZENBUILD_HOME) return path.resolve(env.ZENBUILD_HOME);
  const dataHome = env.XDG_DATA_HOME
    ? path.resolve(env.XDG_DATA_HOME)
    : path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'zenbuild');
}
