import { resolve } from 'node:path';

import type { ResponseOf } from '../../contract/ipc.ts';
import type { RepositoryInfo, SnapshotSummary } from '../../contract/model.ts';
import { ok } from '../../contract/result.ts';
import { BulwarkError, isBulwarkError } from '../../engine/errors.ts';
import type { SnapshotManifest } from '../../engine/repo/format.ts';
import { sourceIdOfKey } from '../../host/adapt.ts';
import type { Handlers } from '../../transport/dispatch.ts';
import { readPassword } from '../password.ts';
import {
  isS3,
  openRepository,
  resolveTarget,
  type CommandEnv,
  type OpenedRepository,
  type RepoOptions,
} from '../repo-open.ts';
import { bulwarkVersion } from '../version.ts';

/**
 * The repository handlers of `bulwark serve` (app.version, repo.info, snapshots.list), against the
 * repository the CLI would use: --repo, else BULWARK_REPOSITORY, else the embedded default one (where the
 * service's sources go unless another target is added). The service channels (sources, targets, jobs,
 * alerts) come from src-main/host and are merged next to these.
 *
 * The repository is opened (and unlocked: scrypt, slow on purpose) once, on the first call that needs it,
 * and kept open; each call re-reads the snapshot list from the repository, so backups made meanwhile by
 * other processes show up. A repository that does not exist yet is looked for again on the next call
 * (the first `bulwark backup` creates the default one while the service runs).
 */

export interface RepositoryHandlers {
  handlers: Pick<Handlers, 'bulwark:app.version' | 'bulwark:repo.info' | 'bulwark:snapshots.list'>;
  /** Opens the repository now; resolves to the error it failed with, if any (the caller decides). */
  probe(): Promise<unknown>;
  close(): Promise<void>;
}

export function appVersion(): ResponseOf<'bulwark:app.version'> {
  return {
    name: 'Bulwark',
    version: bulwarkVersion(),
    platform: process.platform,
    runtime: { node: process.versions.node },
  };
}

/** The name of a source of the backup service, by id (undefined: not one of its sources). */
export type SourceNames = (sourceId: string) => string | undefined;

export function snapshotSummary(
  m: SnapshotManifest,
  protectedUntil: number | null | undefined,
  sourceName: SourceNames = () => undefined,
): SnapshotSummary {
  const retainUntil =
    m.retainUntil ??
    (typeof protectedUntil === 'number' ? new Date(protectedUntil).toISOString() : undefined);
  // A snapshot the service made records its source's id (stable across renames): show the source's name.
  const sourceId = sourceIdOfKey(m.source);
  return {
    id: m.id,
    time: m.time,
    host: m.host,
    source: (sourceId !== undefined ? sourceName(sourceId) : undefined) ?? m.source,
    ...(sourceId !== undefined ? { sourceId } : {}),
    paths: [...m.paths],
    ...(m.parent !== undefined ? { parent: m.parent } : {}),
    stats: {
      files: m.stats.files,
      dirs: m.stats.dirs,
      bytes: m.stats.bytes,
      bytesAdded: m.stats.bytesAdded,
      errors: m.stats.errorCount,
    },
    ...(retainUntil !== undefined ? { retainUntil } : {}),
  };
}

export function repositoryInfo(opened: OpenedRepository): RepositoryInfo {
  const { config } = opened;
  const s3 = isS3(opened.target.location);
  return {
    id: config.id,
    target: {
      kind: s3 ? 's3' : 'fs',
      location: s3 ? opened.target.location : resolve(opened.target.location),
    },
    version: config.version,
    createdAt: config.created,
    encrypted: true,
    immutability: config.lock
      ? { mode: 'object-lock', defaultRetentionDays: config.lock.days }
      : // a folder target: write-once files (0444, hard links) plus the keyed snapshot chain make
        // tampering visible, but nothing stops a determined local administrator
        { mode: s3 ? 'none' : 'worm-folder' },
    snapshotCount: opened.repo.catalog.snapshots(opened.repo.rid).length,
  };
}

export async function createRepositoryHandlers(
  opts: RepoOptions,
  ctx: CommandEnv,
  sourceName: SourceNames = () => undefined,
): Promise<RepositoryHandlers> {
  let repoOpts = opts;
  let repoCtx = ctx;
  // A repository given by the user has a password: ask for it (or read it) once, now, not per request.
  if (!resolveTarget(opts, ctx.env).isDefault) {
    const password = await readPassword(opts, ctx.env);
    repoOpts = { ...opts, passwordFile: undefined };
    repoCtx = { ...ctx, env: { ...ctx.env, BULWARK_PASSWORD: password } };
  }

  let opened: OpenedRepository | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  /** Runs `fn` on the open, freshly synced repository; calls run one at a time (one catalog). */
  function withRepo<T>(fn: (r: OpenedRepository) => T): Promise<T> {
    const run = async (): Promise<T> => {
      if (closed) throw new BulwarkError('CANCELED', 'the Bulwark service is stopping');
      try {
        if (!opened) opened = await openRepository(repoOpts, repoCtx, { sync: true });
        else await opened.repo.syncSnapshots(ctx.signal);
        return fn(opened);
      } catch (e) {
        // Start from scratch next time (a repository deleted or replaced meanwhile, a network error).
        if (opened && !isBulwarkError(e, 'INVALID_ARGUMENT')) {
          const stale = opened;
          opened = undefined;
          await stale.close().catch(() => {});
        }
        throw e;
      }
    };
    const result = queue.then(run, run);
    queue = result.catch(() => {});
    return result;
  }

  return {
    handlers: {
      'bulwark:app.version': () => ok(appVersion()),
      'bulwark:repo.info': () => withRepo((r) => ok(repositoryInfo(r))),
      'bulwark:snapshots.list': (request) =>
        withRepo((r) => {
          const protection = r.repo.catalog.snapshotProtection(r.repo.rid);
          let snaps = r.repo.catalog.snapshots(r.repo.rid); // oldest first
          if (request.source !== undefined) snaps = snaps.filter((m) => m.source === request.source);
          if (request.sourceId !== undefined)
            snaps = snaps.filter((m) => sourceIdOfKey(m.source) === request.sourceId);
          const newest = [...snaps].reverse().slice(0, request.limit ?? snaps.length);
          return ok({
            snapshots: newest.map((m) =>
              snapshotSummary(m, protection.get(m.id)?.protectedUntil, sourceName),
            ),
          });
        }),
    },
    async probe() {
      try {
        await withRepo(() => undefined);
        return undefined;
      } catch (e) {
        return e;
      }
    },
    async close() {
      closed = true;
      await queue;
      const last = opened;
      opened = undefined;
      await last?.close();
    },
  };
}
