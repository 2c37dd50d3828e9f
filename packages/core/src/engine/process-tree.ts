import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/**
 * Stops an engine CLI and everything it started. Killing `podman build` alone leaves its `RUN` step
 * running (the container's process is no child of podman's process group) and its working container in
 * storage. Killing the step's processes first instead makes the step fail, and podman then removes its
 * own working container as for any failed step. The CLI gets SIGTERM after `graceMs` if it is still there,
 * and SIGKILL a second later.
 *
 * Self-contained on purpose (node's own modules through `process`, nothing from outside the function):
 * the watchdog below runs its source in a separate process.
 */
export function stopProcessTree(pid: number, graceMs: number): Promise<void> {
  const fs = process.getBuiltinModule('node:fs');
  const alive = (p: number) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  };
  const descendants = (root: number): number[] => {
    const children = new Map<number, number[]>();
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last `)`.
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
      } catch {
        // The process ended while we looked.
      }
    }
    const found: number[] = [];
    const queue = [root];
    while (queue.length > 0) {
      for (const child of children.get(queue.shift() as number) ?? []) {
        found.push(child);
        queue.push(child);
      }
    }
    return found;
  };
  const signal = (p: number, name: NodeJS.Signals) => {
    try {
      process.kill(p, name);
    } catch {
      // Already gone.
    }
  };
  // Everything below the CLI: the build step's container and the runtime that watches it. Again on
  // every poll, since a step may start after the first look.
  const killBelow = () => {
    for (const p of descendants(pid).reverse()) signal(p, 'SIGKILL');
  };
  killBelow();
  return new Promise((resolve) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const waited = Date.now() - started;
      if (!alive(pid)) {
        clearInterval(poll);
        resolve();
        return;
      }
      killBelow();
      if (waited > graceMs + 1_000) {
        signal(pid, 'SIGKILL');
      } else if (waited > graceMs) {
        signal(pid, 'SIGTERM');
      }
    }, 50);
  });
}

/**
 * The watchdog: a small detached process that outlives zenbuild. zenbuild tells it, on a pipe, which
 * engine CLIs it runs; when the pipe closes while one is still listed (zenbuild was killed outright,
 * `kill -9` included), it stops each of them as `stopProcessTree` does.
 */
function watchdogMain(stop: typeof stopProcessTree): void {
  const pids = new Set<number>();
  let rest = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const [op, pid] = line.split(' ');
      if (op === 'add') pids.add(Number(pid));
      else pids.delete(Number(pid));
    }
  });
  process.stdin.on('end', () => {
    void Promise.all([...pids].map((pid) => stop(pid, 3_000))).then(() => process.exit(0));
  });
}

let watchdog: Writable | undefined;

/**
 * Makes an engine CLI die with zenbuild, however zenbuild ends. The CLI should be started in its own
 * process group (`detached`), so that a terminal's Ctrl-C reaches zenbuild alone, which then stops the
 * CLI in order (`stopProcessTree`) instead of the CLI dropping its build step where it stands.
 */
export function dieWithZenbuild(child: {
  pid?: number | undefined;
  once(event: 'exit', listener: () => void): unknown;
}): void {
  const { pid } = child;
  if (pid === undefined || process.platform !== 'linux') return;
  if (!watchdog) {
    const source = `const stopProcessTree = ${stopProcessTree.toString()};\n(${watchdogMain.toString()})(stopProcessTree);`;
    const process_ = spawn(process.execPath, ['-e', source], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    process_.unref();
    const stdin = process_.stdin;
    // The pipe must not keep zenbuild running, and a watchdog that died must not crash it.
    (stdin as unknown as { unref?: () => void }).unref?.();
    stdin.on('error', () => {});
    watchdog = stdin;
  }
  const pipe = watchdog;
  pipe.write(`add ${pid}\n`);
  child.once('exit', () => pipe.write(`del ${pid}\n`));
}

/**
 * Ties an engine CLI to the run that started it: stopped in order (`stopProcessTree`) when the run's
 * signal aborts, and by the watchdog when zenbuild dies first. Start the CLI with `detached: true`.
 */
export function superviseEngineProcess(
  child: { pid?: number | undefined; once(event: 'exit', listener: () => void): unknown },
  signal: AbortSignal,
  graceMs = 5_000,
): void {
  dieWithZenbuild(child);
  const { pid } = child;
  if (pid === undefined) return;
  const stop = () => void stopProcessTree(pid, graceMs);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  child.once('exit', () => signal.removeEventListener('abort', stop));
}
