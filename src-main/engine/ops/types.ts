/** Result types of the read/restore/verify operations (engine API, serializable as JSON). */
import type { Clock } from '../clock.ts';
import type { NodeType } from '../repo/format.ts';
import type { ConflictPolicy } from './restore-place.ts';

export interface LsEntry {
  /** path inside the snapshot, '/'-separated, e.g. "corpus/office/a.txt" */
  path: string;
  type: NodeType;
  size: number;
  mode: number;
  mtime: string;
  target?: string;
  /** a folder whose listing is damaged in the repository: why; its contents are not listed */
  damaged?: string;
}

/** What a restore has done; files and bytes count what it writes (identical and skipped files are not). */
export interface RestoreProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  currentPath?: string;
  /** bytes written per second, recently (ops/restore-eta.ts) */
  rate?: number;
  /** seconds left; absent while the first seconds are measured ("estimating") */
  etaSeconds?: number;
}

/** How a restore plan is carried out (ops/restore.ts runRestorePlan). */
export interface RestoreRunOptions {
  /**
   * What to do with a file that exists at its destination with other content. Absent: a plan with
   * conflicts is refused before anything is written (ALREADY_EXISTS), and a file that appears or changes
   * at a destination during the run is left as it is and reported.
   */
  onConflict?: ConflictPolicy;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** parallel file restores (default 4) */
  concurrency?: number;
  /** who restores, for the audit log ('cli', 'service', ...) */
  actor?: string;
  /** tests only: each writer thread fails with ENOSPC once it has written this many bytes (a full disk) */
  testNoSpaceAfter?: number;
  /** the time, for progress, its ETA and the names of kept-both copies (default: the system clock) */
  clock?: Clock;
}

export interface RestoreOptions extends RestoreRunOptions {
  /** snapshot id, unique prefix, or "latest" */
  snapshot: string;
  /** restore only this path inside the snapshot ('' or undefined: everything) */
  subPath?: string;
  /** folder to restore into (created if missing); nothing is ever written outside it */
  target: string;
}

export interface RestoreResult {
  snapshotId: string;
  /** files written (kept-both copies included) */
  files: number;
  dirs: number;
  bytes: number;
  /** symlinks created (kept-both ones included) */
  links: number;
  /** files and symlinks left alone because the same content was already there */
  identical: number;
  /** conflicts the policy left alone (skip; if-newer when what is there is as new or newer) */
  skipped: number;
  /** files written beside an existing one under a new name (keep-both; also counted in `files`) */
  keptBoth: number;
  /** where the files went, for people (the folder, or the original locations) */
  destination: string;
  /** entries not restored: unsafe names, special files that could not be created, write errors */
  errors: { path: string; message: string }[];
  /**
   * Entries restored, but not exactly as recorded (not errors: nothing was skipped): setuid/setgid bits
   * cleared, names changed because Windows cannot hold them.
   */
  warnings: { path: string; message: string }[];
  /**
   * Set when the disk (or a quota) was full: how many files were not restored and their size (each is in
   * `errors` too), and the words to show ("the disk is full: 12 files (3.4 GB) were not restored; free at
   * least 3.4 GB on the disk holding /srv/restore and restore again"). Nothing half-written is left under
   * a file's name.
   */
  noSpace?: { files: number; bytes: number; message: string };
}

export type VerifyProblemKind =
  | 'missing-object'
  | 'damaged-pack'
  | 'damaged-blob'
  | 'missing-blob'
  | 'damaged-snapshot'
  | 'damaged-index'
  | 'broken-chain'
  /** a policies/, tiers/, holds/, prune/, forgotten/ or audit/ object that does not decrypt */
  | 'damaged-record'
  | 'damaged-key'
  | 'damaged-config'
  /** audit entries missing from, or altered in, the hash-chained audit log */
  | 'audit-gap';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** repository object concerned, e.g. "packs/ab/ab12..." */
  object: string;
  message: string;
  /** snapshot files that cannot be restored intact because of it ("snapshotId:path") */
  affected?: string[];
}

export interface VerifyReport {
  ok: boolean;
  snapshots: number;
  trees: number;
  packs: number;
  blobsChecked: number;
  bytesChecked: number;
  problems: VerifyProblem[];
  /** what a person should know that is not a problem (damage superseded by an intact copy, old audit entries) */
  notes?: string[];
}

export interface VerifyProgress {
  phase: 'structure' | 'data';
  done: number;
  total: number;
}

export type DiffChange = 'added' | 'removed' | 'modified' | 'type-changed' | 'metadata';

export interface DiffEntry {
  path: string;
  change: DiffChange;
}

export interface RebuildResult {
  snapshots: number;
  indexes: number;
  packs: number;
  /** packs not listed by any index, learned from their own trailer */
  adoptedPacks: number;
  /** what could not be read (the rest was rebuilt): objects, and folders of the latest snapshots by path */
  damaged: { object: string; message: string; snapshot?: string; path?: string }[];
}
