/**
 * The repository format (DESIGN §2). Every object is written once and never rewritten:
 *   config              plaintext JSON (RepoConfig)
 *   keys/<id>           KeyFile (crypto/keys.ts): master key wrapped by scrypt(password)
 *   packs/<2 hex>/<id>  sealed blobs back to back, then a sealed trailer, then the trailer length (u32 LE)
 *   index/<id>          sealed zstd JSON (IndexFile): blob id -> pack, offset, length
 *   snapshots/<id>      sealed JSON (SnapshotManifest)
 * Retention and audit records (sealed JSON, write once, repo/records.ts; the catalog only caches them):
 *   policies/<id>                 a source's retention policy as of one change (the newest per source wins)
 *   tiers/<snapshot>-<tier>-<t>   a snapshot promoted to a longer lock tier, protected until t
 *   forgotten/<id>                the chain hash of a snapshot `forget` removed (verify keeps the chain)
 *   prune/marks-<id>              what one prune marked, unmarked and deleted (other computers learn it)
 *   holds/<snapshot>-<on|off>-<t> a legal hold placed on or lifted from a snapshot at t (the latest per
 *                                 snapshot is in force; an object stays held while any held snapshot needs it)
 *   audit/<time>-<id>             one audit entry per operation (time, origin, action, subject, details)
 * A folder target also has `locks/<name>.lease` files (storage/fs.ts FolderLease; not objects, never listed):
 *   locks/commit.lease            held by a backup from its last prune check to its snapshot put, and by a
 *                                 prune from its last re-sync through its deletes (COMMIT_LEASE)
 * Object ids are 16 random bytes in hex; blob ids are keyed BLAKE3 of the plaintext (32 bytes, hex).
 */
import type { ChunkerParams } from '../chunker/fastcdc.ts';
import type { LockMode } from '../storage/types.ts';

export const FORMAT_VERSION = 1;

export interface LockPolicy {
  mode: LockMode;
  days: number;
  /** extra days on every new lock, so reused objects need an extension at most once per padding interval */
  paddingDays: number;
}

export interface RepoConfig {
  format: 'bulwark-repository';
  version: typeof FORMAT_VERSION;
  id: string;
  created: string;
  chunker: ChunkerParams;
  compression: 'zstd';
  /** null: no server-enforced lock (filesystem targets are tamper-evident, not immutable) */
  lock: LockPolicy | null;
}

export type BlobKind = 'data' | 'tree';

export interface PackedBlob {
  id: string;
  kind: BlobKind;
  offset: number;
  /** sealed length in the pack */
  length: number;
  /** plaintext length */
  rawLength: number;
}

export interface PackInfo {
  id: string;
  size: number;
  blobs: PackedBlob[];
}

export interface IndexFile {
  version: 1;
  packs: {
    id: string;
    size: number;
    /** the pack's version id on a versioned bucket (read back by it; absent elsewhere and in old indexes) */
    v?: string;
    blobs: [id: string, kind: 'd' | 't', offset: number, length: number, raw: number][];
  }[];
}

export type NodeType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chardev' | 'blockdev';

/** One entry of a directory. Key order is fixed so equal directories serialize to equal tree blobs. */
export interface TreeNode {
  /** one path segment; bytes that are not UTF-8 are escaped as U+DC80–U+DCFF (engine/util/fs-names.ts) */
  name: string;
  type: NodeType;
  mode: number;
  /** nanoseconds since the epoch, as a decimal string (beyond double precision) */
  mtimeNs: string;
  ctimeNs?: string;
  inode?: string;
  /** file with several names (hard links) only: its device, decimal (inode numbers are per device) */
  dev?: string;
  /** file with several names only: how many it had when backed up */
  nlink?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** file: the blob ids of its chunks in order */
  content?: string[];
  /** dir: the tree blob id */
  subtree?: string;
  /** symlink: where it points (never followed) */
  target?: string;
  /** file changed while it was being read; the stored content may mix old and new bytes */
  changedDuringRead?: boolean;
}

export interface Tree {
  nodes: TreeNode[];
}

export interface SnapshotStats {
  files: number;
  dirs: number;
  /** sum of the sizes of all files in the snapshot */
  bytes: number;
  /** bytes actually read from disk (changed or new files) */
  bytesRead: number;
  /** encrypted bytes of new blobs written to the repository by this run */
  bytesAdded: number;
  blobsAdded: number;
  filesNew: number;
  filesChanged: number;
  filesUnchanged: number;
  /** files or folders that could not be read: skipped, listed here */
  errorCount: number;
  errors: { path: string; message: string }[];
  durationMs: number;
  /** PutObjectRetention calls the lock-closure step made before commit */
  lockExtensions?: number;
  /** per file extension (lower case, '' for none): files, files read, their new content raw and compressed */
  extensions?: Record<string, ExtensionStats>;
}

/** One extension's figures in a snapshot's stats (backup/extension-figures.ts; engine/signals/entropy.ts). */
export interface ExtensionStats {
  files: number;
  read: number;
  freshRaw: number;
  freshStored: number;
}

export interface SnapshotManifest {
  version: 1;
  id: string;
  /** commit time from the server's clock (ISO) */
  time: string;
  host: string;
  user: string;
  /** the source this snapshot belongs to (its hash chain) */
  source: string;
  paths: string[];
  tree: string;
  parent?: string;
  /** keyed hash of the previous snapshot of this source: a removed or altered snapshot breaks the chain */
  prev?: { id: string; hash: string };
  stats: SnapshotStats;
  retainUntil?: string;
  tier?: string;
  tags?: string[];
  /** a copy made by `bulwark copy` (ops/copy.ts): the snapshot it was copied from */
  copiedFrom?: SnapshotCopySource;
}

/** Where a copied snapshot came from; `origin` when that snapshot was itself a copy (A → B → C). */
export interface SnapshotCopySource {
  /** the source repository's id (its config) */
  repository: string;
  /** the snapshot's id there */
  snapshot: string;
  origin?: { repository: string; snapshot: string };
}

export const objectNames = {
  config: 'config',
  key: (id: string): string => `keys/${id}`,
  pack: (id: string): string => `packs/${id.slice(0, 2)}/${id}`,
  index: (id: string): string => `index/${id}`,
  snapshot: (id: string): string => `snapshots/${id}`,
  policy: (id: string): string => `policies/${id}`,
  tier: (snapshot: string, tier: string, stamp: string): string => `tiers/${snapshot}-${tier}-${stamp}`,
  forgotten: (snapshot: string): string => `forgotten/${snapshot}`,
  pruneMarks: (id: string): string => `prune/marks-${id}`,
  hold: (snapshot: string, on: boolean, stamp: string): string =>
    `holds/${snapshot}-${on ? 'on' : 'off'}-${stamp}`,
  audit: (stamp: string, id: string): string => `audit/${stamp}-${id}`,
} as const;

/** The folder lease that a backup's commit and a prune's deletes take in turn (folder targets). */
export const COMMIT_LEASE = 'commit';

/** Parses "packs/ab/ab12..." back to the pack id; undefined for anything else. */
export function packIdFromName(name: string): string | undefined {
  const m = /^packs\/[0-9a-f]{2}\/([0-9a-f]{32})$/.exec(name);
  return m?.[1];
}

export function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
