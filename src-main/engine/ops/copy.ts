/**
 * Copy jobs (3-2-1, issue 13): replicate snapshots from one repository into another, re-locked there.
 *
 * The office computer is scanned and read once; a second repository (another bucket, a NAS folder, a disk
 * that is offline most of the time) gets exactly the same points in time, and catches up later without
 * rescanning. Each copied snapshot is written into the destination the way the destination's own backups
 * are: packs, then indexes, then (after the lock closure is extended) the snapshot object, every object
 * locked by the destination's own lock policy.
 *
 * Blob ids are keyed hashes under each repository's own key, so the same bytes have different ids in the
 * two repositories: every blob is read (as plaintext) from the source, its id computed under the
 * destination's key, stored unless the destination already has it, and every tree is rewritten with the
 * destination's ids. The chunks themselves are kept as they are (no re-chunking): a restore only
 * concatenates them, so the copy holds exactly the same bytes.
 *
 * The copied manifest keeps the source snapshot's time, host, user, source, paths, tags and stats, and
 * names where it came from (`copiedFrom`): a later run skips what is already there (idempotent), and a run
 * killed midway leaves only unreferenced packs, which the next run adopts instead of uploading again.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordAudit } from '../audit/audit.ts';
import { encodeTree, DEFAULT_PACK_TARGET, INDEX_BLOBS } from '../backup/backup.ts';
import { commitUnlocked } from '../backup/stages/commit.ts';
import { compressBlob } from '../compress.ts';
import { seal } from '../crypto/seal.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { indexNewSnapshot } from '../history/sync.ts';
import { extendLocks, MissingObjectsError, snapshotClosure } from '../locks/closure.ts';
import {
  objectNames,
  packIdFromName,
  type BlobKind,
  type SnapshotCopySource,
  type SnapshotManifest,
  type Tree,
  type TreeNode,
} from '../repo/format.ts';
import { PackWriter, type FinishedPack } from '../repo/pack.ts';
import { newObjectId, type Repository } from '../repo/repository.ts';
import { dropPacks, lastPackDrop } from '../retention/marks.ts';

const DAY = 86_400_000;

export interface CopyProgress {
  phase: 'copying' | 'committing';
  /** the source snapshot being copied, and where it is in the list (1-based) */
  snapshot: string;
  snapshotNumber: number;
  snapshotCount: number;
  /** blobs read from the source so far (blobs the destination already had by their place are not read) */
  blobsRead: number;
  bytesRead: number;
  /** sealed bytes of new packs written into the destination */
  bytesAdded: number;
  currentPath?: string;
}

export interface CopyOptions {
  /** source snapshots to copy (ids, unique prefixes or "latest"); default: every one not copied yet */
  snapshots?: string[];
  signal?: AbortSignal;
  onProgress?: (p: CopyProgress) => void;
  /** where packs are built before upload (default: the destination's staging folder, else the OS temp dir) */
  tmpDir?: string;
  /** bytes at which a pack is closed (default as for backups) */
  packTarget?: number;
  /** who runs it, for the audit log ('cli', 'service', ...) */
  actor?: string;
}

export interface CopiedSnapshot {
  /** the snapshot's id in the source */
  from: string;
  /** the new snapshot's id in the destination */
  to: string;
  time: string;
  source: string;
  /** sealed bytes this snapshot added to the destination */
  bytesAdded: number;
}

export interface SkippedSnapshot {
  from: string;
  /** the destination snapshot that already holds it */
  to: string;
  time: string;
  source: string;
}

export interface CopyResult {
  /** the source repository's id and the destination's */
  fromRepository: string;
  toRepository: string;
  copied: CopiedSnapshot[];
  /** already in the destination (copied before, or copied from there) */
  skipped: SkippedSnapshot[];
  bytesAdded: number;
}

/** What identifies a point in time across copies: the repository and snapshot it was first taken in. */
function originKey(repositoryId: string, m: SnapshotManifest): string {
  const c = m.copiedFrom;
  if (!c) return `${repositoryId}/${m.id}`;
  const o = c.origin ?? { repository: c.repository, snapshot: c.snapshot };
  return `${o.repository}/${o.snapshot}`;
}

function copySourceOf(fromRepositoryId: string, s: SnapshotManifest): SnapshotCopySource {
  const c = s.copiedFrom;
  return {
    repository: fromRepositoryId,
    snapshot: s.id,
    ...(c ? { origin: c.origin ?? { repository: c.repository, snapshot: c.snapshot } } : {}),
  };
}

const canceled = (): BulwarkError => new BulwarkError('CANCELED', 'the copy was canceled');

/**
 * Copies snapshots of `from` into `to` (module comment). Snapshots already in `to` are skipped; the others
 * are copied oldest first, each committed on its own, so an interrupted run keeps what it finished.
 */
export async function copySnapshots(
  from: Repository,
  to: Repository,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  if (from.config.id === to.config.id)
    throw new BulwarkError('INVALID_ARGUMENT', 'the source and the destination are the same repository', {
      hint: 'Copy into another repository: a second bucket, a NAS folder, an external disk.',
    });
  const signal = opts.signal;
  const result: CopyResult = {
    fromRepository: from.config.id,
    toRepository: to.config.id,
    copied: [],
    skipped: [],
    bytesAdded: 0,
  };
  await from.syncIndexes(signal);
  const all = await from.syncSnapshots(signal);
  const chosen = opts.snapshots?.length
    ? [...new Map(opts.snapshots.map((ref) => from.resolveSnapshot(ref)).map((m) => [m.id, m])).values()]
    : all;
  chosen.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
  try {
    try {
      await copyOnce(from, to, chosen, opts, result);
    } catch (e) {
      // Another computer pruned packs of the destination this run reused (as in backup): forget them and run
      // once more; what was committed already is skipped, blobs that went with the packs are stored again.
      if (!(e instanceof MissingObjectsError) || !e.missing.every((n) => /^(packs|index)\//.test(n))) throw e;
      const gone = e.missing.map((n) => packIdFromName(n)).filter((p): p is string => p !== undefined);
      dropPacks(to, gone, (await to.store.serverTime()).getTime());
      await copyOnce(from, to, chosen, opts, result);
    }
  } catch (e) {
    await recordAudit(to, {
      ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
      action: 'copy',
      subject: null,
      details: {
        fromRepository: from.config.id,
        copied: result.copied.length,
        outcome: isBulwarkError(e, 'CANCELED') ? 'canceled' : 'failed',
        error: e instanceof Error ? e.message : String(e),
      },
    }).catch((ae: unknown) => {
      // the copy's own failure is what the caller must see; the lost audit entry is said, not hidden
      to.warnings.push(`the failed copy could not be recorded in the audit log: ${(ae as Error).message}`);
    });
    throw e;
  }
  return result;
}

/** The tree of the previous copy at the same place: in the source and its rewrite in the destination. */
interface PrevPair {
  from: string;
  to: string;
}

async function copyOnce(
  from: Repository,
  to: Repository,
  chosen: readonly SnapshotManifest[],
  opts: CopyOptions,
  result: CopyResult,
): Promise<void> {
  const signal = opts.signal;
  const { store, catalog, rid } = to;
  // Someone holding the destination's keys may have replaced its settings (DESIGN §3): refuse to write.
  await to.checkConfig();
  to.assertLockInvariant();
  await to.syncIndexes(signal);
  await to.adoptUnindexedPacks(signal); // packs of a killed run (copy or backup): reused, not uploaded again
  const present = await to.syncSnapshots(signal);
  const dropsAtStart = lastPackDrop(to);
  const unusable = catalog.unusableBlobs(rid);
  const copiedNow = new Set(result.copied.map((c) => c.from));

  // Which points in time the destination holds, and for each source snapshot already copied, its copy:
  // the latest pair of a source lets the next copy of that source skip what did not change.
  const held = new Map<string, SnapshotManifest>();
  for (const d of present) held.set(originKey(to.config.id, d), d);
  const pairs = new Map<string, { from: SnapshotManifest; to: SnapshotManifest }>();
  const notePair = (s: SnapshotManifest, d: SnapshotManifest): void => {
    const p = pairs.get(s.source);
    if (!p || p.from.time <= s.time) pairs.set(s.source, { from: s, to: d });
  };
  for (const s of from.catalog.snapshots(from.rid)) {
    const d = held.get(originKey(from.config.id, s));
    if (d) notePair(s, d);
  }

  const todo: SnapshotManifest[] = [];
  for (const s of chosen) {
    const d = held.get(originKey(from.config.id, s));
    if (!d) todo.push(s);
    else if (!copiedNow.has(s.id))
      result.skipped.push({ from: s.id, to: d.id, time: s.time, source: s.source });
  }
  if (todo.length === 0) return;

  // New objects are locked until start (server clock) + the destination's lock period + padding.
  const lock = to.config.lock;
  const lockDays = lock?.days ?? 0;
  const retainUntil = lock
    ? new Date((await store.serverTime()).getTime() + (lockDays + lock.paddingDays) * DAY)
    : undefined;
  const putOpts = to.lockOptions(retainUntil);
  const tmpBase = opts.tmpDir ?? store.stagingDir?.() ?? join(tmpdir(), 'bulwark-tmp');
  mkdirSync(tmpBase, { recursive: true, mode: 0o700 });
  const tmpDir = mkdtempSync(join(tmpBase, `copy-${process.pid}-`));
  const packTarget = opts.packTarget ?? DEFAULT_PACK_TARGET;
  const packMd5 = store.stagingDir === undefined; // only uploads need it (Content-MD5 of locked PUTs)

  /** source blob id → destination blob id, and the same for trees, for this run */
  const blobMap = new Map<string, string>();
  const treeMap = new Map<string, string>();
  /** destination blobs in packs of this run (uploaded or still being built) */
  const runBlobs = new Set<string>();
  const writers: Partial<Record<BlobKind, PackWriter>> = {};
  let unindexedBlobs = 0;
  const progress: CopyProgress = {
    phase: 'copying',
    snapshot: '',
    snapshotNumber: 0,
    snapshotCount: todo.length,
    blobsRead: 0,
    bytesRead: 0,
    bytesAdded: 0,
  };
  const report = (): void => opts.onProgress?.({ ...progress });
  let snapBytes = 0;
  let snapBlobs = 0;

  const has = (id: string): boolean => runBlobs.has(id) || (catalog.hasBlob(rid, id) && !unusable.has(id));

  const upload = async (pack: FinishedPack): Promise<void> => {
    await store.put(
      objectNames.pack(pack.id),
      { path: pack.path, size: pack.size, adopt: true },
      {
        ...putOpts,
        ...(pack.md5 !== undefined ? { contentMd5: pack.md5 } : {}),
        ...(signal ? { signal } : {}),
      },
    );
    catalog.addPack(rid, pack, retainUntil ?? null, null);
    rmSync(pack.path, { force: true }); // gone already when the store adopted it
    snapBytes += pack.size;
    snapBlobs += pack.blobs.length;
    progress.bytesAdded += pack.size;
    unindexedBlobs += pack.blobs.length;
    if (unindexedBlobs >= INDEX_BLOBS) await writeIndex();
  };
  // Indexes list what packs the catalog holds unindexed: this run's, and any a killed run left behind.
  const writeIndex = async (): Promise<void> => {
    unindexedBlobs = 0;
    const packs = catalog
      .unindexedPacks(rid)
      .map((p) => ({ id: p.id, size: p.size, blobs: catalog.packBlobs(rid, p.id) }));
    if (packs.length > 0) await to.writeIndex(packs, retainUntil);
  };
  const flushPacks = async (): Promise<void> => {
    for (const kind of ['data', 'tree'] as const) {
      const w = writers[kind];
      if (!w || w.count === 0) continue;
      writers[kind] = undefined;
      await upload(w.finish(to.key.encKey));
    }
  };
  const store1 = async (id: string, kind: BlobKind, plain: Buffer): Promise<void> => {
    const idBuf = Buffer.from(id, 'hex');
    const [flag, body] = compressBlob(plain);
    const sealed = seal(to.key.encKey, [Buffer.from([flag]), body], idBuf);
    const w = (writers[kind] ??= new PackWriter(tmpDir, { md5: packMd5 }));
    w.add(id, kind, sealed, plain.length);
    runBlobs.add(id);
    if (w.size >= packTarget) {
      writers[kind] = undefined;
      await upload(w.finish(to.key.encKey));
    }
  };

  const mapBlob = async (src: string, snapshot: SnapshotManifest, path: string): Promise<string> => {
    const known = blobMap.get(src);
    if (known !== undefined) return known;
    if (signal?.aborted) throw canceled();
    let plain: Buffer;
    try {
      plain = await from.readBlob(src, signal);
    } catch (e) {
      if (!isBulwarkError(e) || !['CORRUPT', 'REPO_DAMAGED', 'NOT_FOUND'].includes(e.code)) throw e;
      throw new BulwarkError(
        e.code,
        `snapshot ${snapshot.id.slice(0, 8)} cannot be copied: ${path || 'its top folder'}: ${e.message}`,
        {
          cause: e,
          hint: 'Run `bulwark verify --read-data` on the source repository to see what is damaged; the snapshots copied before this one are complete.',
        },
      );
    }
    progress.blobsRead++;
    progress.bytesRead += plain.length;
    const id = to.blobId(plain);
    if (!has(id)) await store1(id, 'data', plain);
    blobMap.set(src, id);
    return id;
  };

  const byName = async (repo: Repository, tree: string | undefined): Promise<Map<string, TreeNode>> => {
    if (tree === undefined) return new Map();
    return new Map((await repo.loadTree(tree, signal)).nodes.map((n) => [n.name, n]));
  };

  /**
   * The destination's id of source tree `src` (stored when new). `prev`: the same folder in the previous
   * copy of this source, so unchanged files and folders take their destination ids without being read.
   */
  const copyTree = async (
    src: string,
    snapshot: SnapshotManifest,
    path: string,
    prev: PrevPair | undefined,
  ): Promise<string> => {
    const done = treeMap.get(src);
    if (done !== undefined) return done;
    if (signal?.aborted) throw canceled();
    let tree: Tree;
    try {
      tree = await from.loadTree(src, signal);
    } catch (e) {
      if (!isBulwarkError(e) || !['CORRUPT', 'REPO_DAMAGED'].includes(e.code)) throw e;
      throw new BulwarkError(
        e.code,
        `snapshot ${snapshot.id.slice(0, 8)} cannot be copied: the listing of ${path || 'its top folder'}: ${e.message}`,
        {
          cause: e,
          hint: 'Run `bulwark verify --read-data` on the source repository to see what is damaged.',
        },
      );
    }
    const prevFrom = await byName(from, prev?.from);
    const prevTo = await byName(to, prev?.to);
    progress.currentPath = path;
    report();
    const nodes: TreeNode[] = [];
    for (const n of tree.nodes) {
      const node: TreeNode = { ...n };
      const childPath = path ? `${path}/${n.name}` : n.name;
      const pf = prevFrom.get(n.name);
      const pt = prevTo.get(n.name);
      if (n.content) {
        const same =
          pf?.content !== undefined &&
          pt?.content !== undefined &&
          pf.content.length === n.content.length &&
          pt.content.length === n.content.length &&
          pf.content.every((b, i) => b === n.content?.[i]) &&
          pt.content.every((b) => has(b));
        if (same) {
          const reused = pt.content ?? [];
          node.content = reused;
          n.content.forEach((b, i) => blobMap.set(b, reused[i] ?? ''));
        } else {
          const ids: string[] = [];
          for (const b of n.content) ids.push(await mapBlob(b, snapshot, childPath));
          node.content = ids;
        }
      }
      if (n.subtree !== undefined) {
        if (pf?.subtree === n.subtree && pt?.subtree !== undefined && has(pt.subtree)) {
          node.subtree = pt.subtree; // the same folder as last time: copied then, everything below it too
          treeMap.set(n.subtree, pt.subtree);
        } else {
          const below =
            pf?.subtree !== undefined && pt?.subtree !== undefined
              ? { from: pf.subtree, to: pt.subtree }
              : undefined;
          node.subtree = await copyTree(n.subtree, snapshot, childPath, below);
        }
      }
      nodes.push(node);
    }
    const plain = encodeTree({ nodes });
    const id = to.blobId(plain);
    catalog.putTree(rid, id, plain);
    if (!has(id)) await store1(id, 'tree', plain);
    treeMap.set(src, id);
    return id;
  };

  try {
    for (const [i, s] of todo.entries()) {
      const started = to.clock.now().getTime();
      progress.phase = 'copying';
      progress.snapshot = s.id;
      progress.snapshotNumber = i + 1;
      snapBytes = 0;
      snapBlobs = 0;
      report();
      const pair = pairs.get(s.source);
      const prev = pair ? { from: pair.from.tree, to: pair.to.tree } : undefined;
      const tree = await copyTree(s.tree, s, '', prev);
      progress.phase = 'committing';
      report();
      await flushPacks();
      await writeIndex();
      const manifest = await commitCopy(to, s, tree, {
        copiedFrom: copySourceOf(from.config.id, s),
        bytesAdded: snapBytes,
        blobsAdded: snapBlobs,
        started,
        dropsAtStart,
        ...(signal ? { signal } : {}),
      });
      notePair(s, manifest);
      result.copied.push({
        from: s.id,
        to: manifest.id,
        time: s.time,
        source: s.source,
        bytesAdded: snapBytes,
      });
      result.bytesAdded += snapBytes;
      await indexNewSnapshot(to, manifest); // the file history (find, versions); never fails the copy
      await recordAudit(to, {
        ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
        action: 'copy',
        subject: manifest.id,
        details: {
          fromRepository: from.config.id,
          fromSnapshot: s.id,
          source: s.source,
          time: s.time,
          bytesAdded: snapBytes,
          ...(manifest.stats.lockExtensions !== undefined
            ? { lockExtensions: manifest.stats.lockExtensions }
            : {}),
          ...(manifest.retainUntil ? { retainUntil: manifest.retainUntil } : {}),
        },
      });
    }
  } finally {
    for (const w of Object.values(writers)) w?.abort();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

interface CommitInput {
  copiedFrom: SnapshotCopySource;
  bytesAdded: number;
  blobsAdded: number;
  started: number;
  dropsAtStart: number | undefined;
  signal?: AbortSignal;
}

/**
 * Writes the copied snapshot's manifest into the destination, as backup's commit does: on a locked target
 * the closure's locks are extended first (to the destination's lock period), then the snapshot object is
 * put with its own lock; on a folder, under the commit lease after checking no prune took a reused pack.
 */
async function commitCopy(
  to: Repository,
  s: SnapshotManifest,
  tree: string,
  input: CommitInput,
): Promise<SnapshotManifest> {
  const { store, catalog, rid } = to;
  const { signal } = input;
  const lock = to.config.lock;
  const time = await store.serverTime();
  // The copy is guaranteed from now for the destination's lock period; its objects get padding on top.
  const needed = lock ? new Date(time.getTime() + lock.days * DAY) : undefined;
  const extendTo = lock ? new Date(time.getTime() + (lock.days + lock.paddingDays) * DAY) : undefined;
  const parent = catalog.latestSnapshot(rid, s.source);
  // the source's lock extensions were requests in the source; the copy's own are counted below
  const stats = { ...s.stats };
  delete stats.lockExtensions;
  const id = newObjectId();
  const manifest: SnapshotManifest = {
    version: 1,
    id,
    time: s.time,
    host: s.host,
    user: s.user,
    source: s.source,
    paths: s.paths,
    tree,
    ...(parent
      ? {
          parent: parent.id,
          prev: { id: parent.id, hash: to.chainHash(to.encodeSnapshot(parent).plain) },
        }
      : {}),
    // what the backup found (files, errors, extensions) stays; what this run added is the copy's own
    stats: { ...stats, bytesAdded: input.bytesAdded, blobsAdded: input.blobsAdded, durationMs: 0 },
    ...(needed ? { retainUntil: needed.toISOString() } : {}),
    ...(s.tags?.length ? { tags: s.tags } : {}),
    copiedFrom: input.copiedFrom,
  };
  let protectedUntil: number | null = null;
  const commit = async (): Promise<void> => {
    manifest.stats.durationMs = to.clock.now().getTime() - input.started;
    const snapName = objectNames.snapshot(id);
    await store.put(snapName, to.encodeSnapshot(manifest).sealed, to.lockOptions(extendTo));
    catalog.putSnapshot(rid, manifest);
    if (extendTo) catalog.setRetention(rid, [[snapName, extendTo.getTime()]]);
    catalog.setSnapshotProtection(rid, id, protectedUntil);
  };
  if (needed && extendTo) {
    // Lock closure before commit: every object the copy needs stays locked at least as long as it.
    const closure = await snapshotClosure(to, manifest, signal);
    const ext = await extendLocks(to, closure, needed, extendTo, signal ? { signal } : {});
    manifest.stats.lockExtensions = ext.extensions;
    protectedUntil = Math.min(ext.protectedUntil, extendTo.getTime());
    await commit();
  } else {
    // a folder target keeps no server locks: the same commit under the folder's lease as a backup's
    await commitUnlocked(to, manifest, input.dropsAtStart, commit, signal, `copy of ${manifest.source}`);
  }
  return manifest;
}
