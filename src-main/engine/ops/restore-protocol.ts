/** Messages between restore (main thread) and its writer threads. */

/** System error codes that mean the disk (or the user's quota) is full: summed up in RestoreResult.noSpace. */
export const NO_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** What an entry that did not fit is reported with (one wording for files, folders and links). */
export const noSpaceMessage = (code: string): string =>
  `not restored: the disk is full (${code === 'EDQUOT' ? 'quota exceeded' : 'no space left'})`;
export interface RestoreWorkerInit {
  encKey: Uint8Array;
  idKey: Uint8Array;
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
}

export type ToRestoreWorker = { type: 'files'; files: FileTask[] };
export type FromRestoreWorker = { type: 'done'; results: FileOutcome[] };
