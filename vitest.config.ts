import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules', 'dist', 'test/fixtures/**'],
    pool: 'forks',
    // One real Ceph RGW (S3 with Object Lock) for the whole run; tests get it with inject('rgw').
    globalSetup: ['test/harness/rgw-global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
