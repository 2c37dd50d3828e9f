import { describe, expect, it } from 'vitest';
import { BuildkitProgress } from './buildkit-progress.js';

const at = (seconds: number) => ({ seconds, nanos: 0 });

function render() {
  const lines: string[] = [];
  const warnings: string[] = [];
  const progress = new BuildkitProgress(
    (line) => lines.push(line),
    (warning) => warnings.push(warning),
  );
  return { lines, warnings, progress };
}

describe('BuildkitProgress', () => {
  it('prints steps as `docker build --progress=plain` does: start, output, DONE, numbered by first sight', () => {
    const { lines, progress } = render();
    progress.add({ vertexes: [{ digest: 'sha256:a', name: '[1/2] FROM base', started: at(10) }] });
    progress.add({
      vertexes: [{ digest: 'sha256:a', name: '[1/2] FROM base', started: at(10), completed: at(10) }],
    });
    progress.add({ vertexes: [{ digest: 'sha256:b', name: '[2/2] RUN make', started: at(11) }] });
    // Output split anywhere across messages: a line is printed once it ends.
    progress.add({ logs: [{ vertex: 'sha256:b', msg: Buffer.from('compil') }] });
    progress.add({ logs: [{ vertex: 'sha256:b', msg: Buffer.from('ing\r\nlinking\nno newline') }] });
    progress.add({
      vertexes: [
        {
          digest: 'sha256:b',
          name: '[2/2] RUN make',
          started: at(11),
          completed: { seconds: 12, nanos: 5e8 },
        },
      ],
    });
    expect(lines).toEqual([
      '#1 [1/2] FROM base',
      '#1 DONE 0.0s',
      '#2 [2/2] RUN make',
      '#2 compiling',
      '#2 linking',
      '#2 no newline',
      '#2 DONE 1.5s',
    ]);
  });

  it('says CACHED for a cached step, ERROR with the reason for a failed one, and nothing twice', () => {
    const { lines, progress } = render();
    const cached = { digest: 'c', name: '[2/3] COPY . .', cached: true, started: at(1), completed: at(1) };
    progress.add({ vertexes: [cached] });
    progress.add({ vertexes: [cached] });
    progress.add({ vertexes: [{ digest: 'f', name: '[3/3] RUN exit 3', started: at(2) }] });
    progress.add({ logs: [{ vertex: 'f', msg: Buffer.from('about to fail') }] });
    progress.add({
      vertexes: [
        { digest: 'f', name: '[3/3] RUN exit 3', started: at(2), completed: at(3), error: 'exit code: 3' },
      ],
    });
    expect(lines).toEqual([
      '#1 [2/3] COPY . .',
      '#1 CACHED',
      '#2 [3/3] RUN exit 3',
      '#2 about to fail',
      '#2 ERROR: exit code: 3',
    ]);
  });

  it('prints a transfer once, when done, and hands warnings on', () => {
    const { lines, warnings, progress } = render();
    progress.add({ vertexes: [{ digest: 'x', name: '[internal] load build context', started: at(1) }] });
    progress.add({ statuses: [{ vertex: 'x', ID: 'transferring context', current: 100, total: 0 }] });
    const done = {
      vertex: 'x',
      ID: 'transferring context',
      name: 'transferring context',
      current: 2048,
      completed: at(2),
    };
    progress.add({ statuses: [done] });
    progress.add({ statuses: [done] });
    progress.add({ statuses: [{ vertex: 'x', ID: '', name: '', completed: at(2) }] });
    progress.add({ warnings: [{ vertex: 'x', short: Buffer.from('FromAsCasing: as and FROM differ\n') }] });
    expect(lines).toEqual(['#1 [internal] load build context', '#1 transferring context 2.0kB done']);
    expect(warnings).toEqual(['FromAsCasing: as and FROM differ']);
  });
});
