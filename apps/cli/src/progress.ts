import type { BuildEvent } from '@zenbuild/core';
import type { Io } from './io.js';

export type ProgressMode = 'auto' | 'plain' | 'json' | 'quiet';
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'plain', 'json', 'quiet'];

export interface ProgressRenderer {
  emit(event: BuildEvent): void;
  done(): void;
}

/**
 * Renders build events on stderr: a live view of every build on a terminal, plain prefixed lines
 * otherwise (or with `plain`), one JSON object a line with `json`, nothing but warnings with `quiet`.
 * `labels` maps image names to the build ids users know them by.
 */
export async function createProgress(
  io: Io,
  mode: ProgressMode,
  labels: Map<string, string>,
  stderr = process.stderr,
): Promise<ProgressRenderer> {
  const label = (image: string | undefined) => (image ? (labels.get(image) ?? image) : '');
  // One JSON object a line, with the time it happened, so runs can be timed phase by phase.
  if (mode === 'json')
    return { emit: (event) => io.err(JSON.stringify({ ...event, ts: Date.now() })), done: () => {} };
  if (mode === 'quiet') {
    return {
      emit: (event) => (event.type === 'warning' ? io.err(`warning: ${event.message}`) : undefined),
      done: () => {},
    };
  }
  const plain: ProgressRenderer = {
    emit(event) {
      if (event.type === 'log') io.err(`[${label(event.image)}] ${event.line}`);
      else if (event.type === 'phase')
        io.err(`[${label(event.image)}] ${event.phase}${event.detail ? `: ${event.detail}` : ''}`);
      else if (event.type === 'warning')
        io.err(`warning: ${event.image ? `[${label(event.image)}] ` : ''}${event.message}`);
    },
    done: () => {},
  };
  if (mode === 'plain' || !(stderr as NodeJS.WriteStream).isTTY) return plain;

  // A live view: one line per build with its state and its latest output line.
  const state = new Map<string, { phase: string; line: string }>();
  // Loaded only for a terminal: it and its dependencies cost 60 ms of start-up.
  const { createLogUpdate } = await import('log-update');
  const update = createLogUpdate(stderr);
  const render = () =>
    update(
      [...state.entries()]
        .map(
          ([name, s]) =>
            `${s.phase === 'done' ? '✔' : '…'} ${name.padEnd(24)} ${s.phase.padEnd(6)} ${io.secrets.redact(s.line).slice(0, 100)}`,
        )
        .join('\n'),
    );
  return {
    emit(event) {
      if (event.type === 'warning') {
        update.clear();
        io.err(`warning: ${event.message}`);
        render();
        return;
      }
      const name = label(event.image);
      const current = state.get(name) ?? { phase: 'queued', line: '' };
      if (event.type === 'phase') current.phase = event.phase;
      if (event.type === 'log') current.line = event.line;
      state.set(name, current);
      render();
    },
    done: () => update.done(),
  };
}
