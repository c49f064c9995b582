/**
 * Runs only the tests that need a real S3 server (Ceph RGW), with one RGW for the whole run:
 *   npx vitest run -c test/harness/vitest.rgw.config.ts
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/engine/storage/s3.test.ts'],
    globalSetup: ['test/harness/rgw-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
