import type { BuildEvent } from '@zenbuild/core';
import { formatSize } from './format.js';
import type { Io } from './io.js';

/** Plain output prints an image's progress at most this often, and always its last step. */
const PLAIN_PROGRESS_EVERY_MS = 2000;

type ProgressEvent = Extract<BuildEvent, { type: 'progress' }>;

/** The event that says a step is complete: its count has reached the total. */
const isDone = (event: ProgressEvent) => event.current === event.total;

/** `context: 48.0 MiB of 96.0 MiB written`; `, done` once it is all; other units as counts. */
export function describeProgress(event: ProgressEvent): string {
  const done = isDone(event);
  if (event.unit === 'bytes') {
    const of = event.total !== undefined && !done ? ` of ${formatSize(event.total)}` : '';
    return `context: ${formatSize(event.current)}${of} ${event.verb ?? 'sent'}${done ? ', done' : ''}`;
  }
  return `${event.current}${event.total !== undefined ? `/${event.total}` : ''}${event.unit ? ` ${event.unit}` : ''}`;
}

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
  const progressPrintedAt = new Map<string, number>();
  const plain: ProgressRenderer = {
    emit(event) {
      if (event.type === 'progress') {
        // A line every couple of seconds is enough for a log, counted from the first event (a short
        // upload prints only its end); the last one says it ended.
        const now = performance.now();
        const since = progressPrintedAt.get(event.image);
        if (since === undefined) progressPrintedAt.set(event.image, now);
        if (!isDone(event) && (since === undefined || now - since < PLAIN_PROGRESS_EVERY_MS)) return;
        progressPrintedAt.set(event.image, now);
        io.err(`[${label(event.image)}] ${describeProgress(event)}`);
      } else if (event.type === 'log') io.err(`[${label(event.image)}] ${event.line}`);
      else if (event.type === 'phase')
        io.err(`[${label(event.image)}] ${event.phase}${event.detail ? `: ${event.detail}` : ''}`);
      else if (event.type === 'warning')
        io.err(`warning: ${event.image ? `[${label(event.image)}] ` : ''}${event.message}`);
    },
    done: () => {},
  };
  // A terminal that reports no width (some CI pseudo-terminals, `script` without one) would show the
  // live view as nothing at all: log-update wraps every line to zero columns.
  const terminal = stderr as NodeJS.WriteStream;
  if (mode === 'plain' || !terminal.isTTY || !(terminal.columns > 0)) return plain;

  // A live view: one line per build with its state and its latest output line.
  const state = new Map<string, { phase: string; line: string }>();
  // Loaded only for a terminal: it and its dependencies cost 60 ms of start-up.
  const { createLogUpdate } = await import('log-update');
  const update = createLogUpdate(stderr);
  const render = () =>
    update(
      [...state.entries()]
        // The width is read each time: it follows a resize.
        .map(([name, s]) => liveRow(name, s.phase, io.secrets.redact(s.line), terminal.columns))
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
      if (event.type === 'progress') current.line = describeProgress(event);
      state.set(name, current);
      render();
    },
    done: () => update.done(),
  };
}

/**
 * A build's row in the live view, cut to fit a terminal `columns` wide (its end replaced by `…`): a row
 * that wrapped would make the view jump and push the other builds' rows around.
 */
export function liveRow(name: string, phase: string, line: string, columns: number): string {
  const row = `${phase === 'done' ? '✔' : '…'} ${name.padEnd(24)} ${phase.padEnd(6)} ${line}`;
  const chars = Array.from(row);
  const width = columns - 1; // the last column would wrap on some terminals
  return chars.length <= width ? row : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}
