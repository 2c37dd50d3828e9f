import { defineProject } from 'vitest/config';

export default defineProject({
  // Tests run against the TypeScript sources of workspace packages, not their build.
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'] } },
  test: { name: 'core', environment: 'node' },
});
