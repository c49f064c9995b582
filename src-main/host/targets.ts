import { BulwarkError, openStore, type BlobStore, type Clock } from '../engine/index.ts';
import { normalizeLocation, type Target } from '../engine/service/index.ts';
import type { TargetSecret, TargetSecretStore } from './secrets.ts';

/**
 * How the hosted service reaches a target: its password and, for S3 with keys given in the UI, a store
 * opened with those keys. While `targets.add` opens a new target (before it has an id to file its secrets
 * under) the secrets given are looked up by location in `pending`.
 */
export interface TargetAccess {
  readonly secrets: TargetSecretStore;
  /** the password of a target (the engine asks only for non-default targets) */
  passwordFor(t: Target): string;
  /** opens the storage of a target with its access keys, if any */
  storeFor(t: Target): Promise<BlobStore>;
  /** runs `fn` while `secret` is known for `location` (a target being added) */
  withPending<T>(location: string, secret: TargetSecret, fn: () => Promise<T>): Promise<T>;
}

export function createTargetAccess(secrets: TargetSecretStore, clock?: Clock): TargetAccess {
  const pending = new Map<string, TargetSecret>();
  const secretOf = (t: Target): TargetSecret | undefined => pending.get(t.location) ?? secrets.get(t.id);

  return {
    secrets,
    passwordFor(t) {
      const secret = secretOf(t);
      if (!secret) {
        throw new BulwarkError('NOT_FOUND', `no password is kept for the target ${t.name}`, {
          hint: 'Remove the target and add it again with its repository password.',
        });
      }
      return secret.password;
    },
    async storeFor(t) {
      const secret = secretOf(t);
      const common = {
        ...(t.endpoint ? { endpoint: t.endpoint } : {}),
        ...(t.region ? { region: t.region } : {}),
        ...(clock ? { clock } : {}),
      };
      if (t.kind === 's3' && secret?.accessKeyId && secret.secretAccessKey) {
        const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(t.location);
        if (!m?.[1]) throw new BulwarkError('INVALID_ARGUMENT', `bad S3 location ${t.location}`);
        const { S3Store } = await import('../engine/storage/s3.ts');
        return new S3Store({
          bucket: m[1],
          prefix: m[2] ?? '',
          credentials: { accessKeyId: secret.accessKeyId, secretAccessKey: secret.secretAccessKey },
          ...common,
        });
      }
      return openStore(t.location, common);
    },
    async withPending(location, secret, fn) {
      const key = normalizeLocation(location);
      if (pending.has(key))
        throw new BulwarkError('ALREADY_EXISTS', `the target ${key} is being added already`);
      pending.set(key, secret);
      try {
        return await fn();
      } finally {
        pending.delete(key);
      }
    },
  };
}
