import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: { name: 'e2e', environment: 'node', testTimeout: 30_000, globalSetup: ['./infra/global-setup.ts'] },
});
