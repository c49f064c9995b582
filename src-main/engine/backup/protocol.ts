/** Messages between the backup coordinator (main thread) and the pipeline workers. */
import type { ChunkerParams } from '../chunker/fastcdc.ts';
import type { FinishedPack } from '../repo/pack.ts';
import type { NodeType } from '../repo/format.ts';

/** A reader's start: the keys and settings it stores content with. */
export interface ReaderInit {
  role: 'reader';
  encKey: Uint8Array;
  idKey: Uint8Array;
  chunkerSeed: Uint8Array;
  chunker: ChunkerParams;
  tmpDir: string;
  dedup: SharedArrayBuffer;
  /** a pack is closed once it reaches this many bytes */
  packTarget: number;
  /** compute each pack's MD5 while writing it (needed by S3 uploads, not by folder targets) */
  packMd5: boolean;
}

/**
 * The scanner's start: nothing. It only lists folders, so it needs no key, and it can walk while the
 * repository is still being unlocked (stages/scan-ahead.ts).
 */
export interface ScannerInit {
  role: 'scanner';
}

export type WorkerInit = ReaderInit | ScannerInit;

export interface FileJob {
  /** coordinator's handle for the file */
  seq: number;
  path: string;
  size: number;
  mtimeNs: string;
  /** what the scanner saw: the reader opens the path only if it is still this regular file */
  dev: string;
  inode: string;
  uid: number;
}

export type ToWorker =
  | { type: 'files'; jobs: FileJob[] }
  /** walk these folders depth-first; `flow` is shared backpressure (see scanner.ts) */
  | {
      type: 'scan';
      roots: { path: string; dirId: number }[];
      flow: SharedArrayBuffer;
      filter?: ScanFilter;
    }
  | { type: 'flush' }
  /** the dedup table grew: claim in this one from now on */
  | { type: 'dedup'; buffer: SharedArrayBuffer };

/** What the scanner leaves out (patterns relative to the backed-up paths, see filter.ts). */
export interface ScanFilter {
  roots: string[];
  include: string[];
  exclude: string[];
  /** absolute folders never entered (Bulwark's own data, a folder target inside the source) */
  skipPaths: string[];
}

export interface ScannedEntry {
  /** a Bulwark name (util/fs-names.ts): bytes that are not UTF-8 are escaped, fsPath gives them back */
  name: string;
  type: NodeType;
  mode: number;
  mtimeNs: string;
  ctimeNs: string;
  /** device and inode (decimal): the identity a reader checks before it reads a file */
  dev: string;
  inode: string;
  uid: number;
  gid: number;
  size: number;
  /** a file's number of names, recorded only when it has more than one (hard links) */
  nlink?: number;
  /** symlink target, a Bulwark name (util/fs-names.ts: bytes that are not UTF-8 are escaped) */
  target?: string;
}

export interface FileResult {
  seq: number;
  /** undefined when the file could not be read (then `error` says why) */
  content?: string[];
  bytesRead: number;
  /** size and mtime seen after reading (the file may have changed meanwhile) */
  size: number;
  mtimeNs: string;
  changedDuringRead: boolean;
  error?: string;
  /** bytes of new chunks (not stored before) before and after compression: the entropy check's input */
  freshRaw?: number;
  freshStored?: number;
}

export type FromWorker =
  | { type: 'files-done'; results: FileResult[] }
  | { type: 'pack'; pack: FinishedPack }
  | { type: 'flushed' }
  | {
      type: 'dir';
      dirId: number;
      parentId: number;
      name: string;
      path: string;
      entries: ScannedEntry[];
      /** the folder could not be listed */
      error?: string;
      /** entries listed but not recorded (vanished, lstat or readlink failed): the snapshot's errors */
      skipped?: { path: string; message: string }[];
    }
  | { type: 'scan-done' }
  | { type: 'fatal'; message: string; code?: string };
