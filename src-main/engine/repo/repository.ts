import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import type { Catalog } from '../catalog/catalog.ts';
import { DEFAULT_CHUNKER, type ChunkerParams } from '../chunker/fastcdc.ts';
import { systemClock, type Clock } from '../clock.ts';
import { decompressBlob } from '../compress.ts';
import { blobId } from '../crypto/blob-id.ts';
import {
  keyFileDamage,
  newMasterKey,
  parseKeyFile,
  unwrapMasterKey,
  wrapMasterKey,
  DEFAULT_KDF,
  type KeyFile,
  type MasterKey,
} from '../crypto/keys.ts';
import { open, seal } from '../crypto/seal.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { gonePacks, syncPruneRecords } from '../retention/marks.ts';
import type { BlobStore, ByteRange, ObjectVersion } from '../storage/types.ts';
import { parseTrailerFrom, readPackTrailer } from './pack.ts';
import { isVersioned, PinnedStore, type TamperFinding } from './pinned-store.ts';
import { openRecord, type RecordKind } from './records.ts';
import {
  FORMAT_VERSION,
  lastSegment,
  objectNames,
  packIdFromName,
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
  /** told the key object once it is stored (the CLI keeps a copy: cli/unlock-ahead.ts) */
  keyStored?: (key: KeyFile) => void;
}

/** One version of the `config` object (a folder has exactly one, without an id). */
export interface ConfigVersion {
  versionId?: string;
  /** undefined: a delete marker */
  bytes?: Buffer;
  modified?: Date;
}

/**
 * Every version of `config`, newest first. On a versioned bucket the oldest one is what `init` wrote:
 * whoever holds the keys can only add newer versions (or delete markers) over it. `known`: a version whose
 * bytes were read and authenticated already; a version never changes, so it is not read again.
 */
async function configVersions(
  store: BlobStore,
  known?: { versionId: string; bytes: Buffer },
): Promise<ConfigVersion[]> {
  if (!isVersioned(store)) {
    try {
      return [{ bytes: await store.get(objectNames.config) }];
    } catch (e) {
      if (isBulwarkError(e, 'NOT_FOUND')) return [];
      throw e;
    }
  }
  const listed: ObjectVersion[] = [];
  for await (const v of store.versions.listVersions(objectNames.config)) {
    if (v.name === objectNames.config) listed.push(v);
  }
  const out: ConfigVersion[] = [];
  for (const v of listed) {
    const base = { versionId: v.versionId, ...(v.modified ? { modified: v.modified } : {}) };
    if (v.deleteMarker) {
      out.push(base);
      continue;
    }
    // An unversioned bucket lists its one object as version "null": read it plainly.
    const bytes =
      v.versionId === 'null'
        ? await store.get(objectNames.config)
        : v.versionId === known?.versionId
          ? known.bytes
          : await store.versions.getVersion(objectNames.config, v.versionId);
    out.push({ ...base, bytes });
  }
  return out;
}

function notFound(store: BlobStore): BulwarkError {
  return new BulwarkError('REPO_NOT_FOUND', `no Bulwark repository at ${store.location}`, {
    hint:
      'Check the location: is the disk or network share connected and mounted, are the bucket and prefix right? ' +
      'Only for a new, empty location: `bulwark init` creates a repository (never on a share that is not mounted).',
  });
}

function parseConfig(store: BlobStore, raw: Buffer): RepoConfig {
  let cfg: RepoConfig;
  try {
    cfg = JSON.parse(raw.toString('utf8')) as RepoConfig;
  } catch (e) {
    // Never a dead end: every key made since keys carry the config holds its exact text (Repository.open).
    throw new BulwarkError(
      'REPO_DAMAGED',
      `the config object of the repository at ${store.location} is damaged (not valid JSON)`,
      {
        cause: e,
        hint:
          'Each key object carries a copy of the config, so the repository can still be opened with its password ' +
          '(commands that ask for it work). Keys made by Bulwark versions before that carry none: then put back ' +
          'the config object from a copy of the repository.',
      },
    );
  }
  if (cfg === null || typeof cfg !== 'object' || cfg.format !== 'bulwark-repository') {
    throw new BulwarkError('REPO_NOT_FOUND', `${store.location} does not hold a Bulwark repository`);
  }
  if (cfg.version !== FORMAT_VERSION) {
    throw new BulwarkError('UNSUPPORTED', `repository format ${String(cfg.version)} needs a newer Bulwark`);
  }
  return cfg;
}

/**
 * The repository config as `init` wrote it, without the password: on a versioned bucket its oldest
 * version (a newer one, or a delete marker, is someone else's; Repository.open authenticates it).
 */
export async function readConfig(store: BlobStore): Promise<RepoConfig> {
  return (await readConfigVersions(store)).config;
}

/**
 * readConfig, plus the versions it read: Repository.open takes them (`configVersions`) instead of listing
 * and reading them again moments later (two requests fewer per command on a bucket).
 */
export async function readConfigVersions(
  store: BlobStore,
): Promise<{ config: RepoConfig; versions: readonly ConfigVersion[] }> {
  const versions = await configVersions(store);
  const first = versions.findLast((v) => v.bytes !== undefined);
  if (!first?.bytes) throw notFound(store);
  return { config: parseConfig(store, first.bytes), versions };
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
  const config: RepoConfig = {
    format: 'bulwark-repository',
    version: FORMAT_VERSION,
    id: newObjectId(),
    created: now.toISOString(),
    chunker: opts.chunker ?? DEFAULT_CHUNKER,
    compression: 'zstd',
    lock: opts.lock ?? null,
  };
  const configText = JSON.stringify(config, null, 2);
  // The key carries the exact config text: the config (and its lock policy) is authenticated by the key.
  const keyFile = await wrapMasterKey(
    master,
    password,
    { created: now, host: hostname() },
    opts.kdf ?? DEFAULT_KDF,
    configText,
  );
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
  opts.keyStored?.(keyFile);
  await store.put(objectNames.config, Buffer.from(configText), putOpts);
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

interface Unlocked {
  master: MasterKey;
  /** the config text the key carries (keys of old repositories carry none) */
  config?: string;
  /** key objects that could not be tried (not a key file, a cost beyond the limits): skipped, said */
  skipped: string[];
  /** the key object that opened */
  file: KeyFile;
}

/**
 * Opens the master key with the password: every key object (every version of it on a versioned bucket,
 * oldest first, so a delete marker or a newer version put over a key hides nothing) is tried. One that is
 * not a key file, or asks for a key derivation beyond KDF_LIMITS, is skipped with a warning instead of
 * stopping every command: whoever holds the bucket keys can write one. `whileDeriving` is called once, as
 * the first key derivation starts (this thread is free until it ends).
 */
async function unlock(store: BlobStore, password: string, whileDeriving?: () => void): Promise<Unlocked> {
  const candidates: { label: string; read: () => Promise<Buffer> }[] = [];
  if (isVersioned(store)) {
    const byName = new Map<string, ObjectVersion[]>();
    for await (const v of store.versions.listVersions('keys/')) {
      if (v.deleteMarker) continue;
      const list = byName.get(v.name) ?? [];
      list.push(v);
      byName.set(v.name, list);
    }
    for (const [name, versions] of byName) {
      for (const v of versions.reverse()) {
        candidates.push({
          label: versions.length > 1 ? `${name} (version ${v.versionId})` : name,
          read: () =>
            v.versionId === 'null' ? store.get(name) : store.versions.getVersion(name, v.versionId),
        });
      }
    }
  } else {
    for await (const o of store.list('keys/')) {
      candidates.push({ label: o.name, read: () => store.get(o.name) });
    }
    candidates.sort((a, b) => (a.label < b.label ? -1 : 1)); // the same order on every run
  }
  const skipped: string[] = [];
  /** key objects that cannot be intact (see parseKeyFile, keyFileDamage), by message */
  const damaged: string[] = [];
  let wrong: unknown;
  for (const c of candidates) {
    let file;
    try {
      file = parseKeyFile(await c.read(), c.label);
    } catch (e) {
      if (!isBulwarkError(e) || !['CORRUPT', 'UNSUPPORTED', 'INVALID_ARGUMENT'].includes(e.code)) throw e;
      skipped.push(`skipped ${c.label}: ${e.message}`);
      if (e.code === 'CORRUPT') damaged.push(e.message);
      continue;
    }
    try {
      whileDeriving?.();
      whileDeriving = undefined;
      const key = await unwrapMasterKey(file, password);
      return { ...key, skipped, file };
    } catch (e) {
      if (!isBulwarkError(e, 'WRONG_PASSWORD')) throw e;
      // The password did not open it. A key whose structure is broken cannot tell "wrong password" from
      // "damaged": it is named as damaged (it may be this password's key), and said if another key opens.
      const why = keyFileDamage(file, c.label);
      if (why === undefined) wrong = e;
      else {
        damaged.push(why);
        skipped.push(`skipped ${c.label}: ${why}`);
      }
    }
  }
  const restore =
    'Put back an intact copy of the key object (from a copy of the repository, e.g. the backup of its folder), ' +
    'or open the repository with the password of another key. Without an intact key the backups cannot be read.';
  if (damaged.length > 0) {
    throw new BulwarkError(
      'REPO_DAMAGED',
      wrong
        ? `the password opens none of the other keys of ${store.location}, and ${damaged.join('; ')}: if it is this password's key, that is why`
        : `${damaged.join('; ')}, and ${store.location} has no other key`,
      { cause: wrong, hint: restore },
    );
  }
  if (wrong) throw wrong;
  throw new BulwarkError(
    'REPO_DAMAGED',
    `${store.location}: the repository has no usable key object${skipped.length ? ` (${skipped.join('; ')})` : ''}`,
    {
      hint: 'Without a key object the backups cannot be read. Check the location, or restore the keys/ folder.',
    },
  );
}

/** Which part of the repository format an object name belongs to, for authentication. */
const RECORD_PREFIXES: readonly [string, RecordKind][] = [
  ['policies/', 'policy'],
  ['tiers/', 'tier'],
  ['forgotten/', 'forgotten'],
  ['prune/', 'prune'],
  ['audit/', 'audit'],
  ['holds/', 'hold'],
];

/** What `syncIndexes` and `syncSnapshots` list (prune records first): a command that syncs prefetches them. */
export const SYNC_LISTINGS: readonly string[] = ['prune/', 'index/', 'snapshots/'];

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
  /** things a person should know that did not stop the command (skipped key objects, ...) */
  readonly warnings: string[] = [];
  /** tampering seen by this process (also kept in the catalog: `catalog.tampering(rid)`) */
  readonly tampering: TamperFinding[] = [];
  /** the store as given (no version pinning): for the self-test and the config check */
  readonly rawStore: BlobStore;
  /** the version-pinning layer on a versioned store (undefined for folders) */
  readonly pins: PinnedStore | undefined;
  /** the config exactly as authenticated */
  private readonly configBytes: Buffer;
  /** why the lock policy cannot be trusted, when the catalog pinned another one */
  private readonly pinBroken: string | undefined;
  /** the config object is damaged in place (not JSON): said instead of "replaced" (Repository.open) */
  private configDamage: string | undefined;
  /** the key object the password opened (unlockedKey) */
  private openedWith: KeyFile | undefined;

  /**
   * The key object the password opened, as read (not secret: the bucket holds it, sealed by the password).
   * The CLI keeps a copy to start the next command's key derivation before it reaches the repository
   * (cli/unlock-ahead.ts).
   */
  get unlockedKey(): KeyFile | undefined {
    return this.openedWith;
  }

  private constructor(
    raw: BlobStore,
    config: RepoConfig,
    configBytes: Buffer,
    key: MasterKey,
    catalog: Catalog,
    clock: Clock,
  ) {
    this.rawStore = raw;
    this.config = config;
    this.configBytes = configBytes;
    this.key = key;
    this.catalog = catalog;
    this.clock = clock;
    this.rid = catalog.repository(config, raw.location);
    const pinnedPolicy = catalog.repositoryConfig(this.rid)?.lock ?? null;
    this.pinBroken =
      JSON.stringify(pinnedPolicy) === JSON.stringify(config.lock)
        ? undefined
        : `this computer first saw the repository with the lock policy ${describeLock(pinnedPolicy)}, ` +
          `its key now says ${describeLock(config.lock)}`;
    this.pins = isVersioned(raw)
      ? new PinnedStore(raw, catalog.versionBook(this.rid), {
          authenticate: (name, read, size) => this.authenticate(name, read, size),
          onTamper: (f) => this.noteTampering(f),
        })
      : undefined;
    this.store = this.pins ?? raw;
  }

  static async open(
    store: BlobStore,
    password: string,
    catalog: Catalog,
    opts: {
      clock?: Clock;
      /** the versions of `config` as readConfigVersions just read them from this store */
      configVersions?: readonly ConfigVersion[];
      /** listings the caller makes next (`SYNC_LISTINGS`, ...): started while the key is derived */
      prefetch?: readonly string[];
      /** the caller needs the server's clock next (a backup): asked while the key is derived */
      serverTime?: boolean;
    } = {},
  ): Promise<Repository> {
    const versions = opts.configVersions ?? (await configVersions(store));
    const oldest = versions.findLast((v) => v.bytes !== undefined);
    if (!oldest?.bytes) throw notFound(store);
    let damagedConfig: BulwarkError | undefined;
    try {
      parseConfig(store, oldest.bytes); // a folder that is no repository fails before asking for the key
    } catch (e) {
      // A config damaged in place (not JSON) is no dead end: the key carries its exact text.
      if (!isBulwarkError(e, 'REPO_DAMAGED')) throw e;
      damagedConfig = e;
    }
    // The key's derivation keeps a libuv thread busy for ~0.3 s while this one waits: on S3 the listings
    // that follow are round trips that need no key, so they go out then (not earlier: the key's own
    // listing and read come first).
    const prefetch = opts.prefetch ?? [];
    let key: Unlocked;
    try {
      key = await unlock(store, password, () => {
        if (prefetch.length > 0) store.prefetchListings?.(prefetch);
        // its failure is met again, and reported, where the clock is asked for
        if (opts.serverTime) store.serverTime().catch(() => undefined);
      });
    } catch (e) {
      // no usable key either (or none that is a Bulwark key): the config is what to report first
      if (damagedConfig && !isBulwarkError(e, 'WRONG_PASSWORD')) throw damagedConfig;
      throw e;
    }
    if (damagedConfig && key.config === undefined) {
      throw new BulwarkError('REPO_DAMAGED', damagedConfig.message, {
        cause: damagedConfig,
        hint: 'This key was made before keys carried a copy of the config: put back the config object from a copy of the repository.',
      });
    }
    // The key's copy of the config is authoritative; keys of old repositories carry none: then the oldest
    // version is (on a folder: the only one, checked against the catalog's pin below).
    const configBytes = key.config !== undefined ? Buffer.from(key.config) : oldest.bytes;
    const config = parseConfig(store, configBytes);
    const repo = new Repository(store, config, configBytes, key.master, catalog, opts.clock ?? systemClock);
    repo.warnings.push(...key.skipped);
    repo.openedWith = key.file;
    repo.checkConfigVersions(versions);
    if (damagedConfig) {
      repo.configDamage = damagedConfig.message;
      // like any config that is not the authenticated one, it stops writes until a person has looked
      const waiting = catalog.tampering(repo.rid, { open: true }).some((t) => t.name === objectNames.config);
      repo.warnings.push(
        `${damagedConfig.message}: using the copy sealed in the key` +
          (waiting
            ? '; nothing is written into the repository until a person has looked at it (`bulwark verify --locks`, then `--acknowledge`)'
            : ''),
      );
    }
    return repo;
  }

  /**
   * Re-reads the config object (one listing, or one small read on a folder) and records any version that is
   * not the authenticated one. Backups call it before they write. The authenticated version itself is not
   * read again (a version's bytes never change): on S3 the look is the listing alone, unless another
   * version appeared.
   */
  async checkConfig(): Promise<void> {
    // the version pinned is the one whose bytes matched at open (a 'null' version is read in any case)
    const ours = this.pins?.pinned(objectNames.config);
    const known = ours === undefined ? undefined : { versionId: ours, bytes: this.configBytes };
    this.checkConfigVersions(await configVersions(this.rawStore, known));
  }

  private checkConfigVersions(versions: readonly ConfigVersion[]): void {
    let ours: string | undefined;
    const foreign: ConfigVersion[] = [];
    for (const v of [...versions].reverse()) {
      if (v.bytes !== undefined && v.bytes.equals(this.configBytes) && ours === undefined)
        ours = v.versionId ?? '';
      else if (v.bytes === undefined || !v.bytes.equals(this.configBytes)) foreign.push(v);
    }
    if (ours !== undefined && ours !== '' && ours !== 'null') this.pins?.learn(objectNames.config, ours);
    for (const v of foreign) {
      this.noteTampering({
        name: objectNames.config,
        kind:
          v.bytes === undefined
            ? 'delete-marker'
            : ours === undefined
              ? 'no-authentic-version'
              : 'foreign-version',
        versionId: v.versionId ?? '-',
        ...(v.modified ? { modified: v.modified } : {}),
        ...(ours ? { ours } : {}),
      });
    }
  }

  private noteTampering(f: TamperFinding): void {
    this.catalog.recordTampering(this.rid, f);
    if (!this.tampering.some((t) => t.name === f.name && t.versionId === f.versionId)) this.tampering.push(f);
  }

  /**
   * Refuses to write into a repository whose lock policy cannot be trusted: its config was replaced, hidden
   * or changed (a findings no person acknowledged yet), or its key disagrees with the policy this computer
   * pinned. Backups, forget, prune and holds call it first: a silent downgrade to unlocked objects is what
   * an attacker holding the bucket keys would want.
   */
  assertLockInvariant(): void {
    const config = this.catalog
      .tampering(this.rid, { open: true })
      .filter((t) => t.name === objectNames.config);
    if (config.length === 0 && this.pinBroken === undefined) return;
    const what =
      config.length > 0 && this.configDamage !== undefined
        ? `${this.configDamage}: damaged on the disk, or changed by someone holding its access keys`
        : config.length > 0
          ? `the settings object of the repository at ${this.store.location} (config) was ${config.some((c) => c.kind === 'delete-marker') ? 'hidden by a delete marker' : 'replaced'} by someone holding its access keys` +
            (config[0]?.modified ? ` (at ${config[0].modified.toISOString()})` : '')
          : `the lock policy of the repository at ${this.store.location} changed: ${this.pinBroken ?? ''}`;
    throw new BulwarkError(
      'LOCK_INVARIANT_BROKEN',
      `${what}. The backups already there are intact and still locked, but Bulwark writes nothing more into this repository until a person has looked at it.`,
      {
        hint:
          "Someone with this computer's storage keys changed the repository: check this computer for malware, create new " +
          'access keys and revoke the old ones. Restores keep working. `bulwark verify --locks` lists everything that was ' +
          'touched; `bulwark verify --locks --acknowledge` then lets backups resume (with the original settings).',
      },
    );
  }

  /**
   * Whether `read` (one version of `name`) is an object this repository wrote: it decrypts and checks
   * under the repository key. False for anything that does not; network and permission errors pass.
   */
  private async authenticate(
    name: string,
    read: (range?: ByteRange) => Promise<Buffer>,
    size: number,
  ): Promise<boolean> {
    try {
      if (name === objectNames.config) return (await read()).equals(this.configBytes);
      if (name.startsWith('keys/')) {
        parseKeyFile(await read(), name);
        return true;
      }
      const pack = packIdFromName(name);
      if (pack) {
        await parseTrailerFrom(read, size, this.key.encKey, pack);
        return true;
      }
      if (name.startsWith('index/')) {
        this.decodeIndex(await read(), lastSegment(name));
        return true;
      }
      if (name.startsWith('snapshots/')) {
        this.decodeSnapshot(await read(), lastSegment(name));
        return true;
      }
      const kind = RECORD_PREFIXES.find(([p]) => name.startsWith(p))?.[1];
      if (kind) {
        openRecord(this, kind, await read(), name);
        return true;
      }
      return true; // not a kind Bulwark seals: the oldest version is taken
    } catch (e) {
      if (isBulwarkError(e) && ['CORRUPT', 'INVALID_ARGUMENT', 'UNSUPPORTED', 'NOT_FOUND'].includes(e.code)) {
        return false;
      }
      if (e instanceof SyntaxError) return false;
      throw e;
    }
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
        // the version each pack was written as: a new catalog reads it back by that id (DESIGN §3)
        ...versionField(this.pins?.pinned(objectNames.pack(p.id))),
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
    let damagedNow = 0;
    for await (const o of this.store.list('index/', signal)) {
      const id = lastSegment(o.name);
      if (this.catalog.hasIndex(this.rid, id)) continue;
      let idx: IndexFile;
      try {
        idx = this.decodeIndex(await this.store.get(o.name, undefined, signal), id);
      } catch (e) {
        // A damaged or foreign index must not stop the others from loading; `verify` lists it.
        if (!isBulwarkError(e, 'CORRUPT')) throw e;
        if (!this.damagedIndexes.has(id)) damagedNow++;
        this.damagedIndexes.add(id);
        continue;
      }
      const live = idx.packs.filter((p) => !gone.has(p.id));
      for (const p of live) {
        if (p.v !== undefined) this.pins?.learn(objectNames.pack(p.id), p.v);
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
    if (damagedNow > 0) {
      // The packs a damaged index listed are intact: each carries its blobs in its own sealed trailer. Without
      // this a new computer reported every file in them lost until a backup or a repair learnt them again.
      const adopted = await this.adoptUnindexedPacks(signal);
      if (adopted > 0)
        this.warnings.push(
          `${damagedNow === 1 ? 'an index object is' : `${damagedNow} index objects are`} damaged: the contents of ${adopted} pack${adopted === 1 ? '' : 's'} were read from the packs themselves instead`,
        );
    }
    return fresh;
  }

  /**
   * Packs in the repository the catalog does not know (their index is damaged, or the process died between
   * upload and index): learns their blobs from their own sealed trailer. An unreadable pack is never used
   * (verify reports it): `onUnreadable` hears of it, else it becomes a warning.
   */
  async adoptUnindexedPacks(
    signal?: AbortSignal,
    onUnreadable?: (pack: string, message: string) => void,
  ): Promise<number> {
    let adopted = 0;
    for await (const o of this.store.list('packs/', signal)) {
      const id = packIdFromName(o.name);
      if (!id || this.catalog.hasPack(this.rid, id)) continue;
      try {
        const blobs = await readPackTrailer(this.store, this.key.encKey, id, o.size);
        this.catalog.addPack(this.rid, { id, size: o.size, blobs }, null, null);
        adopted++;
      } catch (e) {
        if (!isBulwarkError(e) || !['CORRUPT', 'NOT_FOUND'].includes(e.code)) throw e;
        if (onUnreadable) onUnreadable(o.name, e.message);
        else this.warnings.push(`${o.name}: not adopted, its trailer is unreadable: ${e.message}`);
      }
    }
    return adopted;
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
    return findSnapshot(this.catalog.snapshots(this.rid), ref);
  }
}

/**
 * Finds a snapshot among `all` (in time order) by id or unique id prefix (as printed by `snapshots`), or
 * "latest" (Repository.resolveSnapshot, and a restore planned before the key from the catalog alone).
 */
export function findSnapshot(all: readonly SnapshotManifest[], ref: string): SnapshotManifest {
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

function describeLock(l: LockPolicy | null): string {
  return l ? `${l.mode} ${l.days} days` : 'none (no Object Lock)';
}

function versionField(v: string | undefined): { v?: string } {
  return v === undefined ? {} : { v };
}
