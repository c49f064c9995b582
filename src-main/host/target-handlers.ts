import type { ParsedRequestOf } from '../contract/ipc.ts';
import type { Target as ContractTarget } from '../contract/model.ts';
import { ok } from '../contract/result.ts';
import { targetTestResultSchema, type TargetTestResult } from '../contract/target-test.ts';
import {
  BulwarkError,
  isBulwarkError,
  readConfig,
  rebuildCatalog,
  systemClock,
  type BlobStore,
  type Clock,
  type LockPolicy,
} from '../engine/index.ts';
import { normalizeLocation, type BackupService, type TargetInput } from '../engine/service/index.ts';
import { TargetTestRecords, type TargetTestRecord } from '../engine/service/target-tests.ts';
import type { Handlers } from '../transport/dispatch.ts';
import * as adapt from './adapt.ts';
import type { TargetSecret } from './secrets.ts';
import { openS3Location, s3LocationText, testFolder, testS3, type S3Location } from './target-test.ts';
import type { TargetAccess } from './targets.ts';

/**
 * The targets channels: list (each with its last self-test), add (create a new repository or connect to
 * an existing one, whose catalog is then rebuilt), remove, and test (the self-test, for a saved target or
 * for a location and keys typed in the wizard, which saves nothing). Secrets go in, never out: a result
 * names the location only.
 */

export const TARGET_CHANNELS = [
  'bulwark:targets.list',
  'bulwark:targets.add',
  'bulwark:targets.remove',
  'bulwark:targets.test',
] as const;
export type TargetHandlers = Pick<Handlers, (typeof TARGET_CHANNELS)[number]>;

/** Objects lock padding of a repository created from the UI (as `bulwark init --lock-days`). */
const LOCK_PADDING_DAYS = 10;
/** How long a wizard's test result waits for the same location to be saved (then kept as its lastTest). */
const PENDING_TEST_TTL_MS = 3600_000;

/** Drops the keys whose value is undefined (the engine's schemas are strict about unknown keys only). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const trimPrefix = (p: string | undefined): string => (p ?? '').replace(/^\/+|\/+$/g, '');

function targetInput(req: ParsedRequestOf<'bulwark:targets.add'>): {
  input: TargetInput;
  secret: TargetSecret;
} {
  if (req.kind === 'fs') {
    return {
      input: defined({ name: req.name, location: req.path, kind: 'fs', bytesPerSecond: req.bytesPerSecond }),
      secret: { password: req.password },
    };
  }
  return {
    input: defined({
      name: req.name,
      location: s3LocationText({ bucket: req.bucket, prefix: trimPrefix(req.prefix) }),
      kind: 's3',
      endpoint: req.endpoint,
      region: req.region,
      bytesPerSecond: req.bytesPerSecond,
    }),
    secret:
      req.accessKeyId !== undefined && req.secretAccessKey !== undefined
        ? { password: req.password, accessKeyId: req.accessKeyId, secretAccessKey: req.secretAccessKey }
        : { password: req.password },
  };
}

/** What identifies "the same place with the same keys" between a wizard's test and its save. */
function pendingKey(p: {
  location: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  accessKeyId?: string | undefined;
}): string {
  return JSON.stringify([
    normalizeLocation(p.location),
    p.endpoint ?? '',
    p.region ?? '',
    p.accessKeyId ?? '',
  ]);
}

function lastTestOf(rec: TargetTestRecord | undefined): ContractTarget['lastTest'] {
  if (!rec) return undefined;
  return {
    verdict: rec.verdict,
    headline: rec.headline,
    reason: rec.reason,
    testedAt: rec.testedAt.toISOString(),
    ...(rec.mode ? { mode: rec.mode } : {}),
  };
}

export function createTargetHandlers(
  service: BackupService,
  access: TargetAccess,
  opts: { clock?: Clock } = {},
): TargetHandlers {
  const clock = opts.clock ?? systemClock;
  const records = new TargetTestRecords(service.catalog, clock);
  const pendingTests = new Map<string, { result: TargetTestResult; at: number }>();

  const withLastTest = (t: ContractTarget, rec: TargetTestRecord | undefined): ContractTarget => {
    const lastTest = lastTestOf(rec);
    return lastTest ? { ...t, lastTest } : t;
  };

  const keep = (targetId: string, result: TargetTestResult): void => {
    records.record({
      targetId,
      verdict: result.verdict,
      headline: result.headline,
      reason: result.reason,
      mode: result.mode ?? null,
      testedAt: new Date(result.testedAt),
      report: JSON.stringify(result),
    });
  };

  const rememberPending = (key: string, result: TargetTestResult): void => {
    const now = clock.now().getTime();
    for (const [k, v] of pendingTests) if (now - v.at > PENDING_TEST_TTL_MS) pendingTests.delete(k);
    pendingTests.set(key, { result, at: now });
  };

  /** Does the location hold a Bulwark repository? (read without its password) */
  const holdsRepository = async (store: BlobStore): Promise<boolean> =>
    readConfig(store).then(
      () => true,
      (e: unknown) => {
        if (isBulwarkError(e, 'REPO_NOT_FOUND')) return false;
        throw e;
      },
    );

  const storeForInput = async (req: ParsedRequestOf<'bulwark:targets.add'>): Promise<BlobStore> => {
    if (req.kind === 'fs') {
      const { FsStore } = await import('../engine/storage/fs.ts');
      return new FsStore({ root: req.path, clock });
    }
    return openS3Location(
      {
        bucket: req.bucket,
        prefix: trimPrefix(req.prefix),
        endpoint: req.endpoint,
        region: req.region,
        accessKeyId: req.accessKeyId,
        secretAccessKey: req.secretAccessKey,
      },
      clock,
    );
  };

  return {
    'bulwark:targets.list': () => {
      const tests = records.all();
      return ok({
        targets: service.listTargets().map((t) => withLastTest(adapt.target(t), tests.get(t.id))),
      });
    },

    'bulwark:targets.add': async (req) => {
      const { input, secret } = targetInput(req);
      if (req.repository !== undefined) {
        const store = await storeForInput(req);
        try {
          const holds = await holdsRepository(store);
          if (req.repository === 'new' && holds) {
            throw new BulwarkError('REPO_EXISTS', 'There are Bulwark backups in this place already.', {
              hint: 'Choose “Connect to existing backups” and give their password, or choose another place.',
            });
          }
          if (req.repository === 'existing' && !holds) {
            throw new BulwarkError('REPO_NOT_FOUND', 'No Bulwark backups were found in this place.', {
              hint: 'Check the bucket, the folder in it (or the folder path), or choose “Create new backups”.',
            });
          }
        } finally {
          await store.close?.();
        }
      }
      const lock: LockPolicy | null =
        req.kind === 's3' && req.objectLock
          ? { mode: req.objectLock.mode, days: req.objectLock.days, paddingDays: LOCK_PADDING_DAYS }
          : null;
      const initialize = req.repository === 'existing' ? false : (req.initialize ?? true);
      // The target is opened (and its repository created if asked) with the secret given here; only once
      // that worked is the secret kept, under the new target's id.
      const t = await access.withPending(input.location, secret, async () => {
        const added = await service.addTarget(input, { initialize, lock });
        if (req.repository === 'existing') {
          // The repository was made elsewhere (another computer, or before a reinstall): this computer's
          // catalog learns its snapshots, indexes and retention state from it.
          try {
            await rebuildCatalog(await service.repositoryForTarget(added.id));
          } catch (e) {
            service.removeTarget(added.id);
            throw e;
          }
        }
        return added;
      });
      try {
        access.secrets.set(t.id, secret);
      } catch (e) {
        service.removeTarget(t.id);
        throw e;
      }
      // the wizard's test of this very place (same keys) becomes the target's last test
      const pending = pendingTests.get(
        pendingKey({
          location: t.location,
          endpoint: t.endpoint ?? undefined,
          region: t.region ?? undefined,
          accessKeyId: secret.accessKeyId,
        }),
      );
      if (pending) keep(t.id, pending.result);
      return ok({ target: withLastTest(adapt.target(t), records.get(t.id)) });
    },

    'bulwark:targets.remove': ({ targetId }) => {
      service.removeTarget(targetId);
      access.secrets.delete(targetId);
      records.delete(targetId);
      return ok({ targetId });
    },

    'bulwark:targets.test': async (req) => {
      let result: TargetTestResult;
      if ('targetId' in req) {
        const t = service.config.target(req.targetId);
        if (t.kind === 'fs') {
          result = await testFolder(t.location, clock);
        } else {
          const store = await access.storeFor(t);
          try {
            const { S3Store } = await import('../engine/storage/s3.ts');
            if (!(store instanceof S3Store))
              throw new BulwarkError('INTERNAL', `${t.location} did not open as an S3 target`);
            result = await testS3(store, {
              ...(req.mode ? { mode: req.mode } : t.lock ? { mode: t.lock.mode } : {}),
              endpoint: t.endpoint ?? undefined,
              clock,
            });
          } finally {
            await store.close?.();
          }
        }
        keep(t.id, result);
      } else if (req.kind === 'fs') {
        result = await testFolder(req.path, clock);
        rememberPending(pendingKey({ location: req.path }), result);
      } else {
        const loc: S3Location = {
          bucket: req.bucket,
          prefix: trimPrefix(req.prefix),
          endpoint: req.endpoint,
          region: req.region,
          accessKeyId: req.accessKeyId,
          secretAccessKey: req.secretAccessKey,
        };
        const store = await openS3Location(loc, clock);
        try {
          result = await testS3(store, {
            ...(req.mode ? { mode: req.mode } : {}),
            endpoint: req.endpoint,
            clock,
          });
        } finally {
          await store.close();
        }
        rememberPending(
          pendingKey({
            location: s3LocationText(loc),
            endpoint: loc.endpoint,
            region: loc.region,
            accessKeyId: loc.accessKeyId,
          }),
          result,
        );
      }
      // the answer crosses the boundary: check it has the contract's shape (and nothing more)
      return ok({ result: targetTestResultSchema.parse(result) });
    },
  };
}
