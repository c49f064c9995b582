/** Which store a repository location names: a folder or an S3 bucket (the S3 module loads only then). */
import { resolve } from 'node:path';
import type { Clock } from '../clock.ts';
import { BulwarkError } from '../errors.ts';
import { checkEndpoint } from './endpoint.ts';
import { FsStore } from './fs.ts';
import type { BlobStore } from './types.ts';

export interface StoreOptions {
  clock?: Clock;
  /** S3: custom endpoint for self-hosted servers (MinIO, Ceph, a NAS) */
  endpoint?: string;
  region?: string;
}

/**
 * Opens the storage behind a repository location: a folder path (local disk or mounted NAS share) or
 * `s3://bucket/prefix`.
 */
export async function openStore(location: string, opts: StoreOptions = {}): Promise<BlobStore> {
  if (location.startsWith('s3://')) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
    if (!m?.[1])
      throw new BulwarkError('INVALID_ARGUMENT', `bad S3 location ${location}: use s3://bucket/prefix`);
    // before the S3 module is loaded: a usage error is said the same way in every build
    if (opts.endpoint) checkEndpoint(opts.endpoint);
    const { S3Store } = await import('./s3.ts');
    return new S3Store({
      bucket: m[1],
      prefix: m[2] ?? '',
      ...(opts.endpoint ? { endpoint: opts.endpoint, forcePathStyle: true } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) {
    throw new BulwarkError('UNSUPPORTED', `unsupported repository location ${location}`, {
      hint: 'Use a folder path or s3://bucket/prefix.',
    });
  }
  const root = resolve(location.startsWith('file://') ? new URL(location).pathname : location);
  return new FsStore({ root, ...(opts.clock ? { clock: opts.clock } : {}) });
}
