import { describe, expect, it } from 'vitest';
import { imagesPulledBy } from './pulled-images.js';

describe('imagesPulledBy', () => {
  it('lists every FROM and COPY --from that names an image, not a stage or scratch', () => {
    const dockerfile = [
      '# syntax=docker/dockerfile:1',
      'FROM --platform=linux/amd64 \\',
      '  ghcr.io/org/builder:1 AS Build',
      'RUN make',
      'FROM scratch AS empty',
      'FROM build AS again',
      'FROM python:3.11-slim',
      'COPY --from=BUILD /out /app',
      'COPY --from=0 /out /app0',
      'COPY --from=quay.io/team/tools:2 /bin/tool /usr/bin/tool',
      'COPY --chown=1:1 app.py /app/',
    ].join('\n');
    expect(imagesPulledBy(dockerfile)).toEqual([
      'ghcr.io/org/builder:1',
      'python:3.11-slim',
      'quay.io/team/tools:2',
    ]);
  });

  it('expands the global ARGs, a build arg winning over the default, as the builder does', () => {
    const dockerfile = [
      'ARG REGISTRY=localhost:5000',
      'ARG BASE=${REGISTRY}/team/base:1',
      'ARG TOOLS',
      'FROM $BASE',
      'FROM ${TOOLS:-busybox}:1.36',
      'FROM ${REGISTRY}/${UNSET}',
      'FROM ${TOOLS:+extra}scratch',
    ].join('\n');
    expect(imagesPulledBy(dockerfile)).toEqual(['localhost:5000/team/base:1', 'busybox:1.36']);
    expect(imagesPulledBy(dockerfile, { BASE: 'mirror.example/base:2', TOOLS: 'alpine' })).toEqual([
      'mirror.example/base:2',
      'alpine:1.36',
      'extrascratch',
    ]);
  });

  it('ignores an ARG declared after the first FROM: FROM lines cannot see it', () => {
    expect(imagesPulledBy('FROM busybox\nARG LATER=x\nFROM ${LATER}/y\n')).toEqual(['busybox']);
  });

  it('lists the images a RUN --mount takes files from, but not a stage or a mount without from=', () => {
    const dockerfile = [
      'ARG TOOLS=ghcr.io/org/tools:3',
      'FROM busybox AS build',
      'FROM python:3.11-slim',
      'RUN --mount=type=bind,FROM=${TOOLS},target=/t --mount=type=cache,target=/root/.cache pip install x',
      'RUN --mount=from=build,target=/b --mount=type=cache,from=quay.io/team/cache:1,target=/c true',
      'RUN --network=none true',
    ].join('\n');
    expect(imagesPulledBy(dockerfile)).toEqual([
      'busybox',
      'python:3.11-slim',
      'ghcr.io/org/tools:3',
      'quay.io/team/cache:1',
    ]);
  });

  it('gives nothing for a Dockerfile with no FROM', () => {
    expect(imagesPulledBy('# empty\n')).toEqual([]);
  });
});
