/** Messages between restore (main thread) and its writer threads. */
import type { Placement } from './restore-place.ts';

/** System error codes that mean the disk (or the user's quota) is full: summed up in RestoreResult.noSpace. */
export { NO_SPACE_CODES } from '../errors.ts';

/** What an entry that did not fit is reported with (one wording for files, folders and links). */
export const noSpaceMessage = (code: string): string =>
  `not restored: the disk is full (${code === 'EDQUOT' ? 'quota exceeded' : 'no space left'})`;
export interface RestoreWorkerInit {
  encKey: Uint8Array;
  idKey: Uint8Array;
  /**
   * One Int32 the main thread sets to 1 to cancel: a writer looks at it before each file and each blob,
   * drops the temporary file it is writing and answers the rest of its batch as canceled.
   */
  cancel: SharedArrayBuffer;
  /** tests only: each writer thread fails its writes with ENOSPC once it has written this many bytes */
  testNoSpaceAfter?: number;
}

export interface BlobRef {
  id: string;
  /** local file holding the pack (the repository's own file, or a downloaded copy) */
  packPath: string;
  offset: number;
  length: number;
  rawLength: number;
}

/** Where one name of a file goes. Paths are Bulwark names (util/fs-names.ts: fsPath gives the bytes). */
export interface FileName {
  seq: number;
  path: string;
  /** the folder was created by this restore: nothing can be at this name yet */
  fresh?: boolean;
  /** how the name is taken (restore plans); absent: whatever is there is replaced */
  place?: Placement;
}

export interface FileTask extends FileName {
  mode: number;
  mtimeNs: string;
  size: number;
  blobs: BlobRef[];
  /**
   * More names of the same file (hard links in the snapshot): linked to the first name written. Should
   * that one fail for a reason that is not lack of space, the next name gets the content instead.
   */
  links?: FileName[];
}

export interface FileOutcome {
  seq: number;
  /** why this name was not restored */
  error?: string;
  /** the system error code of the failure (ENOSPC, EDQUOT: the restore sums up what did not fit) */
  code?: string;
  /** restored, but not exactly as recorded */
  warning?: string;
  /** keep-both: the file was written here, beside what is at its name */
  keptAt?: string;
  /** not written: the policy said so when the name turned out to have changed (skip, if-newer) */
  skipped?: boolean;
  /** the name had changed since the main thread looked at it (the policy decided) */
  changed?: boolean;
}

export type ToRestoreWorker = { type: 'files'; files: FileTask[] };
export type FromRestoreWorker =
  | { type: 'done'; results: FileOutcome[] }
  /** bytes of the file `seq` written so far (every few MiB of a large file: progress and its ETA) */
  | { type: 'progress'; seq: number; bytes: number };
