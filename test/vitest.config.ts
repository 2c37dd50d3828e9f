import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: {
    name: 'e2e',
    environment: 'node',
    testTimeout: 30_000,
    // Setup hooks start registries, push images and build on two cores while other files build too.
    hookTimeout: 60_000,
    globalSetup: ['./infra/global-setup.ts'],
  },
});
