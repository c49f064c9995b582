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
 *
 * Versions (S3 with versioning, the in-memory Object Lock model): a PutObject to an existing key makes a new
 * *current* version and a DeleteObject without a version id places a delete marker; neither touches a
 * locked version. Whoever holds the backup keys can do both. So the plain name-based calls above (which see
 * the current version) are not what a repository reads: it goes through `versions` by the version id each
 * put returned (repo/pinned-store.ts), and treats every other version as foreign.
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
  /** the version these facts are about (versioned stores) */
  versionId?: string;
}

/** What a put created: on a versioned store the id of the new version (read it back by that id). */
export interface PutResult {
  versionId?: string;
}

/** One version or delete marker of an object (ListObjectVersions). */
export interface ObjectVersion {
  name: string;
  versionId: string;
  /** a delete marker: hides older versions from plain reads, holds no data */
  deleteMarker: boolean;
  /** the current version of its name (what a read without a version id gets) */
  isLatest: boolean;
  size: number;
  modified?: Date;
}

/**
 * Reads and lock operations on one version of an object. Present on stores that keep versions; on an
 * unversioned bucket each name has one version (id "null").
 */
export interface VersionedAccess {
  /** every version and delete marker whose name starts with prefix, grouped by name, newest first per name */
  listVersions(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectVersion>;
  /** NOT_FOUND when that version is gone (or is a delete marker) */
  getVersion(name: string, versionId: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer>;
  headVersion(name: string, versionId: string): Promise<ObjectInfo>;
  /** removes that version for good (a delete marker too); LOCKED while retention or a legal hold keeps it */
  deleteVersion(name: string, versionId: string): Promise<void>;
  /** lengthens that version's retention; never shortens it */
  extendRetentionVersion?(name: string, versionId: string, retainUntil: Date, mode: LockMode): Promise<void>;
  setLegalHoldVersion?(name: string, versionId: string, on: boolean): Promise<void>;
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
  /**
   * Where the caller wants the bytes as they arrive, instead of in one buffer (a restore writes them
   * straight into its copy of the pack, so no buffer of the range's size is held). A store that reads
   * from the network hands every byte to it in order (`at`: the chunk's place in the range; the chunk is
   * the store's until the call returns) and returns an empty buffer; after an attempt that broke off, the
   * range may come again from its start. It must not throw: a store would take its error for the
   * network's. Other stores ignore it and return the bytes.
   */
  sink?: (chunk: Uint8Array, at: number) => void;
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
  put(name: string, body: PutBody, opts?: PutOptions): Promise<PutResult>;
  get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer>;
  head(name: string): Promise<ObjectInfo>;
  list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo>;
  delete(name: string): Promise<void>;
  /** lengthen retention (never shortens); UNSUPPORTED where capabilities.extendRetention is false */
  extendRetention?(name: string, retainUntil: Date, mode: LockMode): Promise<void>;
  /** place or lift a legal hold (S3 Object Lock); absent where capabilities.legalHold is false */
  setLegalHold?(name: string, on: boolean): Promise<void>;
  /** version-level access where the store keeps versions (S3, the in-memory model); absent for folders */
  readonly versions?: VersionedAccess;
  /** S3: whether the bucket has versioning and Object Lock on (read only) */
  lockSupport?(): Promise<{ versioning: string; objectLock: boolean; defaultRetention?: string }>;
  /** local folder stores: a folder on the same file system, where files to adopt by `put` can be built */
  stagingDir?(): string;
  /** local folder stores: the file holding this object, for synchronous reads in worker threads */
  localPath?(name: string): string;
  /** the server's idea of "now" (S3: Date header); local adapters use the injected clock */
  serverTime(): Promise<Date>;
  /**
   * S3: starts these listings now, for a caller about to be busy elsewhere (deriving the key); the next
   * listing of each prefix takes the answer, once, while it is fresh. Folder stores list locally: absent.
   */
  prefetchListings?(prefixes: readonly string[]): void;
  close?(): Promise<void>;
}

const NAME_RE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Rejects names that could escape a folder or confuse a server ("..", absolute, empty segments). */
export function assertValidName(name: string): void {
  if (!NAME_RE.test(name) || name.split('/').some((s) => s === '.' || s === '..')) {
    throw new BulwarkError('INVALID_ARGUMENT', `invalid object name: ${JSON.stringify(name)}`);
  }
}

/** A range's offset and length are whole numbers, not negative (`sink` is not part of the message). */
export function assertValidRange(name: string, range: ByteRange): void {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `invalid range ${JSON.stringify({ offset, length })} for ${name}`,
    );
}
