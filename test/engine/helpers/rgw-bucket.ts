import { afterAll, beforeAll, inject } from 'vitest';
import type { Repository } from '../../../src-main/engine/repo/repository.ts';
import { S3Store, type S3StoreOptions } from '../../../src-main/engine/storage/s3.ts';
import { acquireRgw, uniqueBucketName, type RgwHandle } from '../../harness/rgw.ts';

/**
 * Registers beforeAll/afterAll for a test file that works in one Object Lock bucket on the run's Ceph
 * RGW: creates the bucket, and closes every repository and store the file opened (via `track`).
 */
export function useLockBucket(tag: string): {
  rgw(): RgwHandle;
  bucket(): string;
  store(prefix: string, opts?: Partial<S3StoreOptions>): S3Store;
  track(opened: { store: S3Store; repo: Repository }): void;
} {
  let rgw: RgwHandle | undefined;
  let bucket = '';
  const opened: { store: S3Store; repo: Repository }[] = [];
  beforeAll(async () => {
    rgw = await acquireRgw(inject('rgw'));
    bucket = uniqueBucketName(tag);
    await rgw.createBucket(bucket, { objectLock: true });
  }, 180_000);
  afterAll(async () => {
    for (const o of opened) {
      o.repo.catalog.close();
      await o.store.close();
    }
    await rgw?.release();
  });
  const conn = (): RgwHandle => {
    if (!rgw) throw new Error('RGW not started');
    return rgw;
  };
  return {
    rgw: conn,
    bucket: () => bucket,
    store: (prefix, opts = {}) =>
      new S3Store({
        bucket,
        prefix,
        endpoint: conn().endpoint,
        region: conn().region,
        credentials: { accessKeyId: conn().accessKeyId, secretAccessKey: conn().secretAccessKey },
        ...opts,
      }),
    track: (o) => opened.push(o),
  };
}
