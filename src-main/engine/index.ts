/**
 * The engine's public API: the CLI, the headless service and the Electron shell call only this.
 * Plain Node: never imports electron.
 */
import { resolve } from 'node:path';
import type { Clock } from './clock.ts';
import { BulwarkError } from './errors.ts';
import { checkEndpoint } from './storage/endpoint.ts';
import { FsStore } from './storage/fs.ts';
import type { BlobStore } from './storage/types.ts';

export { BulwarkError, isBulwarkError, fromSystemError, type ErrorCode } from './errors.ts';
export { DEFAULT_KDF } from './crypto/keys.ts';
export { systemClock, FakeClock, type Clock } from './clock.ts';
export { Catalog, isCatalogDamaged } from './catalog/catalog.ts';
export {
  initRepository,
  readConfig,
  readConfigVersions,
  Repository,
  type ConfigVersion,
  type InitOptions,
} from './repo/repository.ts';
export type {
  SnapshotManifest,
  SnapshotStats,
  RepoConfig,
  LockPolicy,
  TreeNode,
  Tree,
} from './repo/format.ts';
export { backup, defaultSource, type BackupOptions, type BackupProgress } from './backup/backup.ts';
export { ScanAhead } from './backup/stages/scan-ahead.ts';
export { restoreSnapshot, runRestorePlan } from './ops/restore.ts';
export {
  planRestore,
  planItems,
  entryDestination,
  type PlanAction,
  type PlanEntry,
  type PlanItem,
  type RestoreDestination,
  type RestorePlan,
  type RestorePlanOptions,
} from './ops/restore-plan.ts';
export type { ConflictPolicy } from './ops/restore-place.ts';
export {
  findSnapshotEntry,
  readFileContent,
  readFileStart,
  listFolderFiles,
  type FolderFile,
} from './ops/restore-read.ts';
export {
  listSnapshot,
  browseFolder,
  type BrowseOptions,
  type FolderEntry,
  type FolderListing,
  type FolderPage,
  type ListingCache,
} from './ops/ls.ts';
export {
  findFiles,
  fileVersions,
  type FileVersionInfo,
  type FindOptions,
  type FoundFile,
  type HistoryQueryOptions,
} from './history/query.ts';
export {
  syncHistory,
  historyBuilt,
  rebuildHistory,
  type HistorySyncOptions,
  type HistorySyncResult,
} from './history/sync.ts';
export { diffSnapshots } from './ops/diff.ts';
export { verifyRepository } from './ops/verify.ts';
export {
  copySnapshots,
  type CopyOptions,
  type CopyProgress,
  type CopyResult,
  type CopiedSnapshot,
  type SkippedSnapshot,
} from './ops/copy.ts';
export { rebuildCatalog } from './ops/rebuild.ts';
export * from './drill/index.ts';
export {
  verifyLocks,
  holdSnapshot,
  acknowledgeTampering,
  type TamperEntry,
  type LockReport,
  type LockViolation,
  type SnapshotLockStatus,
} from './locks/verify-locks.ts';
export { snapshotClosure, extendLocks, MissingObjectsError } from './locks/closure.ts';
export { recordAudit, readAuditLog, type AuditEntry, type AuditInput, type AuditLog } from './audit/audit.ts';
export {
  applyPolicy,
  bucketKeys,
  lockDaysFor,
  validatePolicy,
  type RetentionPolicy,
  type LockTier,
  type Tier,
} from './retention/policy.ts';
export {
  retentionTemplates,
  retentionTemplate,
  describePolicy,
  formatDays,
  type RetentionTemplate,
  type RetentionTemplateId,
} from './retention/templates.ts';
export {
  setRetentionPolicy,
  getRetentionPolicy,
  listRetentionPolicies,
  type PolicyRecord,
} from './retention/policies.ts';
export { forget, type ForgetOptions, type ForgetResult } from './retention/forget.ts';
export { prune, type PruneLocked, type PruneOptions, type PruneResult } from './retention/prune.ts';
export { setPrunePaused, prunePausedReason } from './retention/marks.ts';
export type * from './ops/types.ts';
export {
  localPaths,
  catalogPathFor,
  defaultRepositoryDir,
  defaultKeyFile,
  type LocalPaths,
} from './paths.ts';
export type { BlobStore } from './storage/types.ts';
export {
  readDefaultKey,
  createDefaultKey,
  initDefaultRepository,
  ensureDefaultRepository,
  type DefaultRepository,
} from './default-repo.ts';

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
    const { S3Store } = await import('./storage/s3.ts');
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
