/**
 * vitest globalSetup: starts ONE Ceph RGW (S3 with Object Lock) for the whole test run, hands its
 * connection to the tests (`inject('rgw')`, and the BULWARK_TEST_RGW env var for child processes),
 * and stops it at teardown. Test files get it with `acquireRgw(inject('rgw'))` from ./rgw.ts.
 * Fails the run with a clear message when the Ceph packages are missing.
 */
import type { TestProject } from 'vitest/node';
import { missingRgwPrograms, RGW_ENV, RGW_INSTALL_HINT, startRgw } from './rgw.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = missingRgwPrograms();
  if (missing.length > 0) {
    throw new Error(
      `The S3 tests need Ceph RGW, which is not installed (missing: ${missing.join(', ')}): ${RGW_INSTALL_HINT}`,
    );
  }
  const rgw = await startRgw();
  project.provide('rgw', rgw.connection);
  process.env[RGW_ENV] = JSON.stringify(rgw.connection);
  if (process.env.BULWARK_RGW_VERBOSE) {
    console.log(`[rgw] ${rgw.endpoint} ready in ${rgw.startupMs} ms (CEPH_CONF=${rgw.cephConf})`);
  }
  return async () => {
    delete process.env[RGW_ENV];
    await rgw.stop();
  };
}
