import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code (fakes, in-memory SQLite), and
// integration tests that drive the real engine, registry, git server and browser.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'packages/*/src/**/*.int.test.ts',
            'apps/*/src/**/*.int.test.ts',
            'apps/*/e2e/**/*.int.test.ts',
          ],
          environment: 'node',
          globalSetup: ['packages/testing/src/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: files run one at a time so Docker timings stay sane.
          fileParallelism: false,
        },
      },
    ],
  },
});
