import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import type { Catalog } from '../catalog/catalog.ts';
import { DEFAULT_CHUNKER, type ChunkerParams } from '../chunker/fastcdc.ts';
import { systemClock, type Clock } from '../clock.ts';
import { decompressBlob } from '../compress.ts';
import { blobId } from '../crypto/blob-id.ts';
import {
  newMasterKey,
  unwrapMasterKey,
  wrapMasterKey,
  DEFAULT_KDF,
  type KeyFile,
  type MasterKey,
} from '../crypto/keys.ts';
import { open, seal } from '../crypto/seal.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { gonePacks, syncPruneRecords } from '../retention/marks.ts';
import type { BlobStore } from '../storage/types.ts';
import {
  FORMAT_VERSION,
  lastSegment,
  objectNames,
  type IndexFile,
  type LockPolicy,
  type PackedBlob,
  type RepoConfig,
  type SnapshotManifest,
  type Tree,
} from './format.ts';

export const newObjectId = (): string => randomBytes(16).toString('hex');

const AAD = {
  index: Buffer.from('bulwark-index-v1'),
  snapshot: Buffer.from('bulwark-snapshot-v1'),
};

export interface InitOptions {
  clock?: Clock;
  chunker?: ChunkerParams;
  lock?: LockPolicy | null;
  /** scrypt cost; tests use a cheap one */
  kdf?: { N: number; r: number; p: number };
}

export async function readConfig(store: BlobStore): Promise<RepoConfig> {
  let raw: Buffer;
  try {
    raw = await store.get(objectNames.config);
  } catch (e) {
    if (isBulwarkError(e, 'NOT_FOUND')) {
      throw new BulwarkError('REPO_NOT_FOUND', `no Bulwark repository at ${store.location}`, {
        hint: 'Create one with `bulwark init --repo ...`, or check the path/bucket and prefix.',
      });
    }
    throw e;
  }
  let cfg: RepoConfig;
  try {
    cfg = JSON.parse(raw.toString('utf8')) as RepoConfig;
  } catch (e) {
    throw new BulwarkError('REPO_DAMAGED', `${store.location}: the repository config is not valid JSON`, {
      cause: e,
    });
  }
  if (cfg.format !== 'bulwark-repository') {
    throw new BulwarkError('REPO_NOT_FOUND', `${store.location} does not hold a Bulwark repository`);
  }
  if (cfg.version !== FORMAT_VERSION) {
    throw new BulwarkError('UNSUPPORTED', `repository format ${String(cfg.version)} needs a newer Bulwark`);
  }
  return cfg;
}

export async function initRepository(
  store: BlobStore,
  password: string,
  opts: InitOptions = {},
): Promise<RepoConfig> {
  const exists = await store.head(objectNames.config).then(
    () => true,
    (e: unknown) => {
      if (isBulwarkError(e, 'NOT_FOUND')) return false;
      throw e;
    },
  );
  if (exists) throw new BulwarkError('REPO_EXISTS', `a repository already exists at ${store.location}`);
  if (opts.lock) await assertLockable(store);
  const now = await store.serverTime();
  const master = newMasterKey();
  const keyFile = await wrapMasterKey(
    master,
    password,
    { created: now, host: hostname() },
    opts.kdf ?? DEFAULT_KDF,
  );
  const config: RepoConfig = {
    format: 'bulwark-repository',
    version: FORMAT_VERSION,
    id: newObjectId(),
    created: now.toISOString(),
    chunker: opts.chunker ?? DEFAULT_CHUNKER,
    compression: 'zstd',
    lock: opts.lock ?? null,
  };
  // Key first: a config without a key would be a repository nobody can open.
  // Config and keys are part of every snapshot's closure: locked from the start, extended with the rest.
  const lock = config.lock;
  const putOpts = lock
    ? {
        retainUntil: new Date(now.getTime() + (lock.days + lock.paddingDays) * 86_400_000),
        lockMode: lock.mode,
      }
    : {};
  await store.put(objectNames.key(newObjectId()), Buffer.from(JSON.stringify(keyFile, null, 2)), putOpts);
  await store.put(objectNames.config, Buffer.from(JSON.stringify(config, null, 2)), putOpts);
  return config;
}

/** Refuses a lock policy on a target that cannot keep locks, explaining how to get one that can. */
async function assertLockable(store: BlobStore): Promise<void> {
  if (!store.capabilities.enforcedLocks || !store.lockSupport) {
    throw new BulwarkError('UNSUPPORTED', `${store.location} cannot enforce object locks`, {
      hint: 'Folder targets are tamper-evident, not immutable. For immutability use an S3 bucket with Object Lock (your NAS may offer one).',
    });
  }
  const s = await store.lockSupport();
  if (s.versioning !== 'Enabled' || !s.objectLock) {
    throw new BulwarkError(
      'UNSUPPORTED',
      `bucket of ${store.location} has ${s.objectLock ? '' : 'no Object Lock'}${!s.objectLock && s.versioning !== 'Enabled' ? ' and ' : ''}${s.versioning !== 'Enabled' ? `versioning ${s.versioning}` : ''}: backups there could be deleted`,
      {
        hint:
          'Create a new bucket with Object Lock enabled (it also turns versioning on), e.g. ' +
          '`aws s3api create-bucket --bucket NAME --object-lock-enabled-for-bucket`, or tick "Object Lock" when creating it in ' +
          "your provider's console (Wasabi and most providers allow it only at creation). Bulwark never changes bucket settings itself.",
      },
    );
  }
}

async function unlock(store: BlobStore, password: string): Promise<MasterKey> {
  let lastError: unknown;
  let tried = 0;
  for await (const o of store.list('keys/')) {
    tried++;
    const file = JSON.parse((await store.get(o.name)).toString('utf8')) as KeyFile;
    try {
      return await unwrapMasterKey(file, password);
    } catch (e) {
      lastError = e;
      if (!isBulwarkError(e, 'WRONG_PASSWORD')) throw e;
    }
  }
  if (tried === 0)
    throw new BulwarkError('REPO_DAMAGED', `${store.location}: the repository has no key objects`);
  throw lastError;
}

/** An unlocked repository plus its catalog: reads and writes objects in the repository format. */
export class Repository {
  readonly store: BlobStore;
  readonly config: RepoConfig;
  readonly key: MasterKey;
  readonly catalog: Catalog;
  readonly rid: number;
  readonly clock: Clock;
  /** snapshot objects that failed to decrypt during the last sync (listed by `verify`) */
  readonly damagedSnapshots = new Set<string>();
  /** index objects that failed to decrypt during the last sync */
  readonly damagedIndexes = new Set<string>();

  private constructor(store: BlobStore, config: RepoConfig, key: MasterKey, catalog: Catalog, clock: Clock) {
    this.store = store;
    this.config = config;
    this.key = key;
    this.catalog = catalog;
    this.clock = clock;
    this.rid = catalog.repository(config, store.location);
  }

  static async open(
    store: BlobStore,
    password: string,
    catalog: Catalog,
    opts: { clock?: Clock } = {},
  ): Promise<Repository> {
    const config = await readConfig(store);
    const key = await unlock(store, password);
    return new Repository(store, config, key, catalog, opts.clock ?? systemClock);
  }

  blobId(data: Uint8Array): string {
    return blobId(this.key.idKey, data).toString('hex');
  }

  /** Keyed hash used for the snapshot chain. */
  chainHash(data: Uint8Array): string {
    return blobId(this.key.idKey, data).toString('hex');
  }

  // ---- index objects ---------------------------------------------------------------------------------

  encodeIndex(packs: { id: string; size: number; blobs: PackedBlob[] }[]): Buffer {
    const body: IndexFile = {
      version: 1,
      packs: packs.map((p) => ({
        id: p.id,
        size: p.size,
        blobs: p.blobs
          .map((b) => [b.id, b.kind === 'tree' ? 't' : 'd', b.offset, b.length, b.rawLength] as const)
          .map((x) => [...x]),
      })),
    };
    return seal(this.key.encKey, [zstdCompressSync(Buffer.from(JSON.stringify(body)))], AAD.index);
  }

  decodeIndex(sealed: Buffer, id: string): IndexFile {
    const plain = open(this.key.encKey, sealed, AAD.index, `index ${id}`);
    try {
      return JSON.parse(zstdDecompressSync(plain).toString('utf8')) as IndexFile;
    } catch (e) {
      throw new BulwarkError('CORRUPT', `index ${id}: undecodable contents`, { cause: e });
    }
  }

  /** Writes an index object listing these packs and records it in the catalog. */
  async writeIndex(
    packs: { id: string; size: number; blobs: PackedBlob[] }[],
    retainUntil: Date | undefined,
  ): Promise<string> {
    const id = newObjectId();
    await this.store.put(objectNames.index(id), this.encodeIndex(packs), this.lockOptions(retainUntil));
    if (retainUntil && this.config.lock)
      this.catalog.setRetention(this.rid, [[objectNames.index(id), retainUntil.getTime()]]);
    this.catalog.markIndexed(
      this.rid,
      packs.map((p) => p.id),
      id,
    );
    return id;
  }

  lockOptions(retainUntil: Date | undefined): { retainUntil?: Date; lockMode?: LockPolicy['mode'] } {
    return retainUntil && this.config.lock ? { retainUntil, lockMode: this.config.lock.mode } : {};
  }

  /**
   * Learns packs written by other runs or other computers: reads every index object the catalog has not
   * seen. Returns how many were new.
   */
  async syncIndexes(signal?: AbortSignal): Promise<number> {
    // Packs pruned elsewhere first: they are dropped, and never learned again from an index listing them.
    await syncPruneRecords(this, signal);
    const gone = gonePacks(this);
    let fresh = 0;
    for await (const o of this.store.list('index/', signal)) {
      const id = lastSegment(o.name);
      if (this.catalog.hasIndex(this.rid, id)) continue;
      let idx: IndexFile;
      try {
        idx = this.decodeIndex(await this.store.get(o.name, undefined, signal), id);
      } catch (e) {
        // A damaged or foreign index must not stop the others from loading; `verify` lists it.
        if (!isBulwarkError(e, 'CORRUPT')) throw e;
        this.damagedIndexes.add(id);
        continue;
      }
      const live = idx.packs.filter((p) => !gone.has(p.id));
      for (const p of live) {
        this.catalog.addPack(
          this.rid,
          {
            id: p.id,
            size: p.size,
            blobs: p.blobs.map(([bid, k, offset, length, rawLength]) => ({
              id: bid,
              kind: k === 't' ? 'tree' : 'data',
              offset,
              length,
              rawLength,
            })),
          },
          null,
          id,
        );
      }
      this.catalog.markIndexed(
        this.rid,
        live.map((p) => p.id),
        id,
      );
      fresh++;
    }
    return fresh;
  }

  // ---- blobs and trees -------------------------------------------------------------------------------

  async readBlob(id: string, signal?: AbortSignal): Promise<Buffer> {
    const loc = this.catalog.lookupBlob(this.rid, id);
    if (!loc)
      throw new BulwarkError('REPO_DAMAGED', `blob ${id.slice(0, 12)} is not in any index`, {
        hint: 'Run `bulwark verify` and `bulwark repair --rebuild-catalog`.',
      });
    const sealed = await this.store.get(
      objectNames.pack(loc.pack),
      { offset: loc.offset, length: loc.length },
      signal,
    );
    return this.openBlob(id, sealed, loc.rawLength, loc.pack);
  }

  openBlob(id: string, sealed: Buffer, rawLength: number, pack: string): Buffer {
    const what = `blob ${id.slice(0, 12)} in pack ${pack}`;
    const plain = decompressBlob(
      open(this.key.encKey, sealed, Buffer.from(id, 'hex'), what),
      rawLength,
      what,
    );
    if (plain.length !== rawLength || this.blobId(plain) !== id) {
      throw new BulwarkError('CORRUPT', `${what}: content does not match its id`);
    }
    return plain;
  }

  async loadTree(id: string, signal?: AbortSignal): Promise<Tree> {
    let data = this.catalog.getTree(this.rid, id);
    if (!data) {
      data = await this.readBlob(id, signal);
      this.catalog.putTree(this.rid, id, data);
    }
    return JSON.parse(data.toString('utf8')) as Tree;
  }

  // ---- snapshots -------------------------------------------------------------------------------------

  encodeSnapshot(m: SnapshotManifest): { plain: Buffer; sealed: Buffer } {
    const plain = Buffer.from(JSON.stringify(m));
    return { plain, sealed: seal(this.key.encKey, [plain], AAD.snapshot) };
  }

  decodeSnapshot(sealed: Buffer, id: string): { manifest: SnapshotManifest; plain: Buffer } {
    const plain = open(this.key.encKey, sealed, AAD.snapshot, `snapshot ${id}`);
    const manifest = JSON.parse(plain.toString('utf8')) as SnapshotManifest;
    if (manifest.id !== id)
      throw new BulwarkError('CORRUPT', `snapshot ${id}: its manifest names another id (${manifest.id})`);
    return { manifest, plain };
  }

  /** Brings the catalog's snapshot list in line with the repository (other computers, deletions). */
  async syncSnapshots(signal?: AbortSignal): Promise<SnapshotManifest[]> {
    const present = new Set<string>();
    for await (const o of this.store.list('snapshots/', signal)) {
      const id = lastSegment(o.name);
      present.add(id);
      if (this.catalog.hasSnapshot(this.rid, id)) continue;
      try {
        const { manifest } = this.decodeSnapshot(await this.store.get(o.name, undefined, signal), id);
        this.catalog.putSnapshot(this.rid, manifest);
      } catch (e) {
        // One damaged snapshot must not hide the others; `verify` reports it by name.
        if (!isBulwarkError(e, 'CORRUPT')) throw e;
        this.damagedSnapshots.add(id);
      }
    }
    for (const s of this.catalog.snapshots(this.rid)) {
      if (!present.has(s.id))
        this.catalog.db.prepare('DELETE FROM snapshots WHERE rid = ? AND id = ?').run(this.rid, s.id);
    }
    return this.catalog.snapshots(this.rid);
  }

  /** Finds a snapshot by id or unique id prefix (as printed by `snapshots`), or "latest". */
  resolveSnapshot(ref: string): SnapshotManifest {
    const all = this.catalog.snapshots(this.rid);
    if (ref === 'latest') {
      const last = all.at(-1);
      if (!last) throw new BulwarkError('NOT_FOUND', 'the repository holds no snapshot yet');
      return last;
    }
    const hits = all.filter((s) => s.id.startsWith(ref));
    if (hits.length === 1 && hits[0]) return hits[0];
    if (hits.length === 0)
      throw new BulwarkError('NOT_FOUND', `no snapshot ${ref}`, {
        hint: 'List them with `bulwark snapshots`.',
      });
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `snapshot prefix ${ref} is ambiguous (${hits.length} match); give more characters`,
    );
  }
}
