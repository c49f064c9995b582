/** Messages between restore (main thread) and its writer threads. */
export interface RestoreWorkerInit {
  encKey: Uint8Array;
  idKey: Uint8Array;
}

export interface BlobRef {
  id: string;
  /** local file holding the pack (the repository's own file, or a downloaded copy) */
  packPath: string;
  offset: number;
  length: number;
  rawLength: number;
}

export interface FileTask {
  seq: number;
  path: string;
  mode: number;
  mtimeNs: string;
  size: number;
  blobs: BlobRef[];
  /** the folder was created by this restore: nothing can be at this name yet */
  fresh?: boolean;
}

export type ToRestoreWorker = { type: 'files'; files: FileTask[] };
export type FromRestoreWorker = { type: 'done'; results: { seq: number; error?: string }[] };
