import { BulwarkError } from '../errors.ts';

/**
 * BlobStore: where a repository's objects live (memory for tests, a local/NAS folder, an S3 bucket).
 *
 * Guarantees every adapter gives (checked by test/conformance/storage-suite.ts against each one):
 * - Write once: `put` of a name that already exists fails with BulwarkError code ALREADY_EXISTS and leaves
 *   the existing object intact. (On S3, repository names are random, so this holds by construction;
 *   `config` is checked with a HEAD first.)
 * - Atomic: a reader sees either no object or the whole object, never a partial one, even if the writer
 *   is killed mid-put.
 * - Durable on return: when `put` resolves, the object survives a crash of this process (fs: fsync file
 *   and directory).
 * - Read-after-write for get, head and list.
 * - `get` of a missing name fails with NOT_FOUND; a range past the end fails with INVALID_ARGUMENT.
 * - `list(prefix)` yields every object whose name starts with prefix, each exactly once, in no promised order.
 * - `delete` is idempotent (a missing name is not an error) and fails with LOCKED for an object whose
 *   retention has not expired (adapters that keep retention) — callers must never rely on that refusal.
 * Names are '/'-separated relative paths of [A-Za-z0-9._-] segments ("packs/ab/ab12...").
 */
export type LockMode = 'COMPLIANCE' | 'GOVERNANCE';

export interface ObjectInfo {
  name: string;
  size: number;
  /** when the server stored it (server clock), if the adapter knows */
  modified?: Date;
  /** retention the server reports (only from head / retention-aware adapters) */
  retainUntil?: Date;
  lockMode?: LockMode;
  legalHold?: boolean;
}

/** A body is either bytes in memory (small objects) or a local file (packs, streamed, never held whole). */
export type PutBody =
  | Uint8Array
  | {
      path: string;
      size: number;
      /** the caller hands the file over: a store on the same file system may fsync and link it into place */
      adopt?: boolean;
    };

export interface PutOptions {
  /** lock this object until this date (adapters without locks record it or ignore it; see capabilities) */
  retainUntil?: Date;
  lockMode?: LockMode;
  /** base64 MD5 of the body when the caller already computed it while writing the body */
  contentMd5?: string;
  signal?: AbortSignal;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface StoreCapabilities {
  /** the server enforces retention (S3 Object Lock); false: Bulwark records/honours it itself */
  enforcedLocks: boolean;
  /** can extend an existing object's retention */
  extendRetention: boolean;
  legalHold: boolean;
}

export interface BlobStore {
  /** human-readable location, e.g. "file:///mnt/nas/bulwark" or "s3://bucket/prefix" */
  readonly location: string;
  readonly capabilities: StoreCapabilities;
  put(name: string, body: PutBody, opts?: PutOptions): Promise<void>;
  get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer>;
  head(name: string): Promise<ObjectInfo>;
  list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo>;
  delete(name: string): Promise<void>;
  /** lengthen retention (never shortens); UNSUPPORTED where capabilities.extendRetention is false */
  extendRetention?(name: string, retainUntil: Date, mode: LockMode): Promise<void>;
  /** place or lift a legal hold (S3 Object Lock); absent where capabilities.legalHold is false */
  setLegalHold?(name: string, on: boolean): Promise<void>;
  /** S3: whether the bucket has versioning and Object Lock on (read only) */
  lockSupport?(): Promise<{ versioning: string; objectLock: boolean; defaultRetention?: string }>;
  /** local folder stores: a folder on the same file system, where files to adopt by `put` can be built */
  stagingDir?(): string;
  /** local folder stores: the file holding this object, for synchronous reads in worker threads */
  localPath?(name: string): string;
  /** the server's idea of "now" (S3: Date header); local adapters use the injected clock */
  serverTime(): Promise<Date>;
  close?(): Promise<void>;
}

const NAME_RE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Rejects names that could escape a folder or confuse a server ("..", absolute, empty segments). */
export function assertValidName(name: string): void {
  if (!NAME_RE.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    throw new BulwarkError('INVALID_ARGUMENT', `invalid object name: ${JSON.stringify(name)}`);
  }
}
