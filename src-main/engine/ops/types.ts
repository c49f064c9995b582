/** Result types of the read/restore/verify operations (engine API, serializable as JSON). */
import type { NodeType } from '../repo/format.ts';

export interface LsEntry {
  /** path inside the snapshot, '/'-separated, e.g. "corpus/office/a.txt" */
  path: string;
  type: NodeType;
  size: number;
  mode: number;
  mtime: string;
  target?: string;
}

export interface RestoreProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  currentPath?: string;
}

export interface RestoreOptions {
  /** snapshot id, unique prefix, or "latest" */
  snapshot: string;
  /** restore only this path inside the snapshot ('' or undefined: everything) */
  subPath?: string;
  /** folder to restore into (created if missing); nothing is ever written outside it */
  target: string;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** parallel file restores (default 4) */
  concurrency?: number;
  /** who restores, for the audit log ('cli', 'service', ...) */
  actor?: string;
}

export interface RestoreResult {
  snapshotId: string;
  files: number;
  dirs: number;
  bytes: number;
  /** entries skipped: unsafe names, special files that could not be created, write errors */
  errors: { path: string; message: string }[];
  /**
   * Entries restored, but not exactly as recorded (not errors: nothing was skipped): setuid/setgid bits
   * cleared, names changed because Windows cannot hold them.
   */
  warnings: { path: string; message: string }[];
}

export type VerifyProblemKind =
  | 'missing-object'
  | 'damaged-pack'
  | 'damaged-blob'
  | 'missing-blob'
  | 'damaged-snapshot'
  | 'damaged-index'
  | 'broken-chain';

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
}
