/**
 * The engine's public API, for the Electron shell and the service's host. Plain Node: never imports
 * electron. The CLI imports the engine module by module instead, so that a command loads only the parts
 * it uses (cli/program.ts).
 */
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

export { openStore, type StoreOptions } from './storage/open.ts';
