/**
 * The unattended backup service (engine side, no transport): what the HTTP/WebSocket service and the
 * Electron shell drive. Plain Node: never imports electron.
 */
export {
  BackupService,
  createBackupService,
  type AddTargetOptions,
  type BackupServiceOptions,
  type RpoState,
  type ServiceEvents,
  type SourceStatus,
} from './service.ts';
export {
  JOB_TRANSITIONS,
  JobManager,
  assertTransition,
  canTransition,
  isTerminal,
  type CancelReason,
  type JobError,
  type JobEvents,
  type ImmediateJobRequest,
  type JobInfo,
  type JobKind,
  type JobManagerOptions,
  type JobProgress,
  type JobReason,
  type JobRequest,
  type JobRunner,
  type JobState,
  type JobStateEvent,
  type RestoreJobSummary,
  type RestoreRunProgress,
  type RunHistoryEntry,
  type RunnerProgress,
} from './jobs.ts';
export {
  ALERT_FIX,
  ALERT_KINDS,
  AlertCenter,
  DEFAULT_ACTION,
  DEFAULT_SEVERITY,
  type Alert,
  type AlertEvents,
  type AlertKind,
  type AlertScope,
  type AlertSeverity,
  type RaiseInput,
} from './alerts.ts';
export {
  SOURCE_DEFAULTS,
  ServiceConfig,
  compileFilter,
  normalizeLocation,
  sourceInputSchema,
  sourceKey,
  sourceUpdateSchema,
  targetInputSchema,
  targetUpdateSchema,
  type Source,
  type SourceInput,
  type SourceUpdate,
  type Target,
  type TargetInput,
  type TargetKind,
  type TargetUpdate,
} from './sources.ts';
export {
  SourceWatcher,
  chokidarFactory,
  type ChangeBatch,
  type WatchFactory,
  type WatchMode,
  type WatchSpec,
  type WatchStatus,
  type WatcherHooks,
  type WatcherOptions,
} from './watcher.ts';
export {
  BLOCKING_TARGET_ALERTS,
  TARGET_ALERT_KINDS,
  evaluateProtection,
  humanDuration,
  overallProtection,
  type FixLink,
  type OverallProtection,
  type Page,
  type Protection,
  type ProtectionFacts,
  type ProtectionReason,
  type ProtectionReasonCode,
  type ProtectionState,
  type SourceProtection,
  type TargetAlertKind,
} from './protection.ts';
export {
  checkFolder,
  missingFolders,
  pathProblem,
  realDisk,
  sameDisk,
  type DiskEntry,
  type DiskProbe,
} from './folders.ts';
export { ThrottledStore, TokenBucket, type TokenBucketOptions } from './throttled-store.ts';
export {
  ServiceCopies,
  summarize as summarizeCopies,
  type CopyMedium,
  type CopyPlace,
  type ThreeTwoOne,
} from './copies.ts';
export { TypedEvents } from './events.ts';
export { realTimers, sleep, type Timers } from './timers.ts';
