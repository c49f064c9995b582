import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir, userInfo } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compressBlob } from '../compress.ts';
import { seal } from '../crypto/seal.ts';
import { BulwarkError, fromSystemError, isBulwarkError } from '../errors.ts';
import {
  COMMIT_LEASE,
  objectNames,
  packIdFromName,
  type PackedBlob,
  type SnapshotManifest,
  type SnapshotStats,
  type Tree,
  type TreeNode,
} from '../repo/format.ts';
import { PackWriter, type FinishedPack } from '../repo/pack.ts';
import { newObjectId, type Repository } from '../repo/repository.ts';
import { noteUnreadableBlob } from '../ops/damage.ts';
import { decodeFsName, fsPath } from '../util/fs-names.ts';
import { TaskPool } from '../util/pool.ts';
import { recordAudit } from '../audit/audit.ts';
import { indexNewSnapshot } from '../history/sync.ts';
import { extendLocks, MissingObjectsError, snapshotClosure } from '../locks/closure.ts';
import { dropPacks, lastPackDrop, prunedMarks, syncPruneRecords } from '../retention/marks.ts';
import { folderLease } from '../storage/fs.ts';
import { DedupTable } from './dedup-table.ts';
import { ExtensionTally } from './extension-figures.ts';
import { scannedEntry } from './entry.ts';
import { FLOW_QUEUED_ENTRIES, FLOW_QUEUED_FILES, FLOW_SLOTS } from './flow.ts';
import type { FileJob, FileResult, FromWorker, ScannedEntry, ToWorker, WorkerInit } from './protocol.ts';

export interface BackupProgress {
  phase: 'scanning' | 'uploading' | 'committing';
  scanDone: boolean;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  bytesAdded: number;
  currentPath?: string;
}

export interface BackupOptions {
  paths: string[];
  /** source identity for the parent/chain; default: host + paths */
  source?: string;
  host?: string;
  tags?: string[];
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /** reader threads (default: cores, at least 2) */
  readers?: number;
  /** where packs are built before upload (default: the OS temp dir) */
  tmpDir?: string;
  /** bytes at which a pack is closed (default 32 MiB; the format allows 16–64 MiB) */
  packTarget?: number;
  /** blobs per index object written during the run (default INDEX_BLOBS; tests use less) */
  indexBlobs?: number;
  uploadConcurrency?: number;
  /** lock period for this snapshot (retention tiers); default: the repository's lock policy */
  lockDays?: number;
  /** glob patterns (see filter.ts): with include, only matching files are backed up */
  include?: string[];
  exclude?: string[];
  /** folders never backed up (Bulwark's own data, a folder target inside the source) */
  skipPaths?: string[];
  /** tests only: skip the lock-closure step, to prove `verify --locks` notices */
  skipLockExtension?: boolean;
  /** who runs it, for the audit log ('cli', 'service', ...) */
  actor?: string;
}

/** blobs per index object written during a run (about 5 MB of index JSON before compression) */
export const INDEX_BLOBS = 50_000;
export const DEFAULT_PACK_TARGET = 32 * 1024 * 1024;
const MAX_LISTED_ERRORS = 1000;
const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;
const DAY = 86_400_000;
const WORKER_URL = new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

interface DirState {
  id: number;
  path: string;
  parent: DirState | undefined;
  /** this directory's node in its parent (undefined for the virtual root) */
  node: TreeNode | undefined;
  nodes: TreeNode[];
  childDirs: Map<string, TreeNode>;
  pending: number;
  prev: Map<string, TreeNode> | undefined;
}

interface Reader {
  worker: Worker;
  queuedBytes: number;
  batch: FileJob[];
  batchBytes: number;
}

/** Counters of a run before it starts (also what a hand-made manifest carries). */
export const emptyStats = (): SnapshotStats => ({
  files: 0,
  dirs: 0,
  bytes: 0,
  bytesRead: 0,
  bytesAdded: 0,
  blobsAdded: 0,
  filesNew: 0,
  filesChanged: 0,
  filesUnchanged: 0,
  errorCount: 0,
  errors: [],
  durationMs: 0,
});

function sameFile(prev: TreeNode | undefined, e: ScannedEntry): prev is TreeNode & { content: string[] } {
  return (
    prev !== undefined &&
    prev.type === 'file' &&
    prev.content !== undefined &&
    prev.size === e.size &&
    prev.mtimeNs === e.mtimeNs &&
    prev.ctimeNs === e.ctimeNs &&
    prev.inode === e.inode &&
    prev.changedDuringRead !== true
  );
}

function nodeFromEntry(e: ScannedEntry): TreeNode {
  const n: TreeNode = {
    name: e.name,
    type: e.type,
    mode: e.mode,
    mtimeNs: e.mtimeNs,
    ctimeNs: e.ctimeNs,
    inode: e.inode,
    uid: e.uid,
    gid: e.gid,
  };
  if (e.type === 'file') n.size = e.size;
  // Hard links: the device too, so a restore links only names of one file (equal inode numbers on two
  // devices are two files). Only for files with several names: other trees stay as they were.
  if (e.nlink !== undefined) {
    n.dev = e.dev;
    n.nlink = e.nlink;
  }
  if (e.target !== undefined) n.target = e.target;
  return n;
}

/** Serializes a tree with a fixed key order so equal directories give equal tree blobs (and dedup). */
export function encodeTree(tree: Tree): Buffer {
  const order: (keyof TreeNode)[] = [
    'name',
    'type',
    'mode',
    'mtimeNs',
    'ctimeNs',
    'inode',
    'dev',
    'nlink',
    'uid',
    'gid',
    'size',
    'content',
    'subtree',
    'target',
    'changedDuringRead',
  ];
  const nodes = tree.nodes.map((n) => {
    const o: Record<string, unknown> = {};
    for (const k of order) if (n[k] !== undefined) o[k] = n[k];
    return o;
  });
  return Buffer.from(JSON.stringify({ nodes }));
}

/** A source is identified by host and backed-up paths unless the caller names it. */
export function defaultSource(paths: readonly string[], host: string = hostname()): string {
  return `${host}:${paths.map((p) => resolve(p)).join('|')}`;
}

/** Removes pack build folders left by killed runs (their pid is gone). */
function cleanStaleTmp(base: string): void {
  if (!existsSync(base)) return;
  for (const name of readdirSync(base)) {
    const m = /^run-(\d+)-/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(base, name), { recursive: true, force: true });
  }
}

/**
 * Backs up `paths` into the repository as one snapshot (DESIGN §4). Unchanged files (size, mtime, ctime,
 * inode equal to the parent snapshot's) are not read. A run killed at any point leaves only unreferenced
 * objects; the next run adopts packs already uploaded (from the catalog or the pack trailers) instead of
 * uploading them again.
 */
export async function backup(repo: Repository, opts: BackupOptions): Promise<SnapshotManifest> {
  const actor = opts.actor !== undefined ? { actor: opts.actor } : {};
  try {
    let manifest: SnapshotManifest;
    try {
      manifest = await backupOnce(repo, opts, false);
    } catch (e) {
      // Another computer pruned packs this run reused (DECISIONS: concurrent prune): forget them and run
      // once more; unchanged files whose blobs went with them are read again.
      if (!(e instanceof MissingObjectsError) || !e.missing.every((n) => /^(packs|index)\//.test(n))) throw e;
      const gone = e.missing.map((n) => packIdFromName(n)).filter((p): p is string => p !== undefined);
      dropPacks(repo, gone, (await repo.store.serverTime()).getTime());
      manifest = await backupOnce(repo, opts, true);
    }
    await indexNewSnapshot(repo, manifest); // the file history (find, versions); never fails the backup
    const s = manifest.stats;
    await recordAudit(repo, {
      ...actor,
      action: 'backup',
      subject: manifest.id,
      details: {
        source: manifest.source,
        paths: manifest.paths,
        files: s.files,
        bytesAdded: s.bytesAdded,
        errorCount: s.errorCount,
        ...(s.lockExtensions !== undefined ? { lockExtensions: s.lockExtensions } : {}),
        ...(manifest.retainUntil ? { retainUntil: manifest.retainUntil } : {}),
      },
    });
    return manifest;
  } catch (e) {
    await recordAudit(repo, {
      ...actor,
      action: 'backup',
      subject: null,
      details: {
        source: opts.source ?? defaultSource(opts.paths, opts.host),
        paths: opts.paths.map((p) => resolve(p)),
        outcome: isBulwarkError(e, 'CANCELED') ? 'canceled' : 'failed',
        error: e instanceof Error ? e.message : String(e),
      },
    }).catch((ae: unknown) => {
      // the backup's own failure is what the caller must see; the lost audit entry is said, not hidden
      repo.warnings.push(
        `the failed backup could not be recorded in the audit log: ${(ae as Error).message}`,
      );
    });
    throw e;
  }
}

async function backupOnce(repo: Repository, opts: BackupOptions, retry: boolean): Promise<SnapshotManifest> {
  const started = repo.clock.now().getTime();
  const signal = opts.signal;
  const paths = opts.paths.map((p) => resolve(p));
  if (paths.length === 0)
    throw new BulwarkError('INVALID_ARGUMENT', 'nothing to back up: give at least one path');
  for (const p of paths) {
    try {
      lstatSync(fsPath(p));
    } catch (e) {
      throw fromSystemError(e, p);
    }
  }
  const host = opts.host ?? hostname();
  const source = opts.source ?? defaultSource(paths, host);
  const store = repo.store;
  const catalog = repo.catalog;
  const rid = repo.rid;
  const stats = emptyStats();
  const extensions = new ExtensionTally();

  // Someone holding the bucket keys may have replaced the repository's settings (DESIGN §3): refuse
  // before anything is written, rather than silently back up under a policy nobody chose.
  await repo.checkConfig();
  repo.assertLockInvariant();
  await repo.syncIndexes(signal);
  await adoptOrphanPacks(repo, signal);
  await repo.syncSnapshots(signal);
  const parent = catalog.latestSnapshot(rid, source);
  // After packs were pruned (here or elsewhere), the parent's blob lists may name blobs that are gone:
  // an unchanged file then reuses its blobs only if the catalog still locates every one of them.
  const lastDrop = lastPackDrop(repo);
  const checkReuse =
    retry || (lastDrop !== undefined && (!parent || lastDrop >= Date.parse(parent.time) - DAY));
  // Blobs verify found damaged (or whose pack is gone) are never reused: a file whose blob list holds one is
  // read again, a folder whose listing is one is scanned as new, and the dedup table leaves them out, so
  // they are stored again (the new copy takes the damaged one's place in the catalog).
  const unusable = catalog.unusableBlobs(rid);
  const reusable = (prev: TreeNode & { content: string[] }): boolean =>
    (unusable.size === 0 || !prev.content.some((b) => unusable.has(b))) &&
    (!checkReuse || prev.content.every((b) => catalog.hasBlob(rid, b)));
  const dropsAtStart = lastDrop;

  // New objects are locked until start (server clock) + lock period + padding (DESIGN §3).
  const lock = repo.config.lock;
  const lockDays = opts.lockDays ?? lock?.days ?? 0;
  const retainUntil = lock
    ? new Date((await store.serverTime()).getTime() + (lockDays + lock.paddingDays) * DAY)
    : undefined;
  const putOpts = repo.lockOptions(retainUntil);

  // Packs are built where the store can adopt them without a copy (a folder target's staging folder).
  const tmpBase = opts.tmpDir ?? store.stagingDir?.() ?? join(tmpdir(), 'bulwark-tmp');
  mkdirSync(tmpBase, { recursive: true, mode: 0o700 });
  cleanStaleTmp(tmpBase);
  const tmpDir = mkdtempSync(join(tmpBase, `run-${process.pid}-`));

  const packTarget = opts.packTarget ?? DEFAULT_PACK_TARGET;
  // A folder target adopts the pack file itself; only uploads need its MD5 (Content-MD5 of locked PUTs).
  const packMd5 = store.stagingDir === undefined;
  const uploads = new TaskPool(opts.uploadConcurrency ?? 4);
  // Packs uploaded by this run and not yet listed by an index object of this run.
  const runPacks: { id: string; size: number; blobs: PackedBlob[] }[] = [];
  let runPackBlobs = 0;
  let indexing: Promise<void> = Promise.resolve();
  const flow = new Int32Array(new SharedArrayBuffer(4 * FLOW_SLOTS));
  const workers: Worker[] = [];
  let readers: Reader[] | undefined;
  let dedup: DedupTable | undefined;
  let treePack: PackWriter | undefined;
  let failure: unknown;

  const progress: BackupProgress = {
    phase: 'scanning',
    scanDone: false,
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
    bytesAdded: 0,
  };
  const report = (): void => opts.onProgress?.({ ...progress });

  // A failed upload stops the whole run at once (reading on would only fill the temp folder).
  const upload = (pack: FinishedPack): Promise<void> =>
    uploads.add(async () => {
      try {
        await uploadPack(pack);
      } catch (e) {
        fail(e);
        throw e;
      }
    });
  const uploadPack = async (pack: FinishedPack): Promise<void> => {
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
    runPacks.push({ id: pack.id, size: pack.size, blobs: pack.blobs });
    runPackBlobs += pack.blobs.length;
    if (runPackBlobs >= (opts.indexBlobs ?? INDEX_BLOBS)) writePendingIndex();
    stats.bytesAdded += pack.size;
    stats.blobsAdded += pack.blobs.length;
    progress.bytesAdded = stats.bytesAdded;
    rmSync(pack.path, { force: true }); // gone already when the store adopted it
  };

  // Index objects are written as the run goes, one per INDEX_BLOBS blobs, so a run over a million small
  // files never holds or encodes one giant index. Indexed packs stay unreferenced until the snapshot commits.
  const writePendingIndex = (): void => {
    const batch = runPacks.splice(0);
    runPackBlobs = 0;
    indexing = indexing
      .then(async () => {
        if (failure === undefined) await repo.writeIndex(batch, retainUntil);
      })
      .catch(fail);
  };

  // The dedup table (seeded with every blob the catalog knows) and the readers start only when the first
  // file must be read: a backup where nothing changed never pays for them.
  const startReaders = (): Reader[] => {
    const known = catalog.blobCount(rid);
    dedup = new DedupTable(DedupTable.slotsFor(known + 16_384));
    for (const id of catalog.blobIds(rid)) dedup.claim(id);
    for (const id of runTreeIds) dedup.claim(Buffer.from(id, 'hex'));
    const n = opts.readers ?? Math.max(2, availableParallelism());
    const init: WorkerInit = {
      encKey: repo.key.encKey,
      idKey: repo.key.idKey,
      chunkerSeed: repo.key.chunkerSeed,
      chunker: repo.config.chunker,
      tmpDir,
      dedup: dedup.buffer,
      packTarget,
      packMd5,
    };
    return Array.from({ length: n }, () => {
      const worker = spawn(init);
      return { worker, queuedBytes: 0, batch: [], batchBytes: 0 };
    });
  };

  // The shared dedup table starts small; once crowded, a grown copy replaces it in every thread.
  const growDedupIfCrowded = (): void => {
    if (!dedup?.crowded) return;
    dedup = dedup.grown();
    const msg: ToWorker = { type: 'dedup', buffer: dedup.buffer };
    for (const r of readers ?? []) r.worker.postMessage(msg);
  };

  const jobs = new Map<number, { dir: DirState; node: TreeNode; isNew: boolean }>();
  let seq = 0;
  const dirs = new Map<number, DirState>();
  const root: DirState = {
    id: 0,
    path: '',
    parent: undefined,
    node: undefined,
    nodes: [],
    childDirs: new Map(),
    pending: 0,
    prev: undefined,
  };
  let rootTree: string | undefined;
  let resolveDone!: () => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => undefined); // a failure may arrive before the run awaits it; the await still sees it

  // Settles (rejects) at the first failure, whenever it comes: waits that outlive `done` race it.
  let rejectFailed!: (e: unknown) => void;
  const failed = new Promise<never>((_, rej) => (rejectFailed = rej));
  failed.catch(() => undefined);
  const fail = (e: unknown): void => {
    failure ??= e;
    rejectDone(e);
    rejectFailed(failure);
  };

  const prevTreeMap = async (
    subtree: string | undefined,
    path: string,
  ): Promise<Map<string, TreeNode> | undefined> => {
    if (!subtree || unusable.has(subtree)) return undefined; // damaged: the folder is scanned as new
    try {
      const t = await repo.loadTree(subtree, signal);
      return new Map(t.nodes.map((n) => [n.name, n]));
    } catch (e) {
      if (isBulwarkError(e, 'CANCELED')) throw e;
      // No usable parent: the folder's files are read again (and still deduplicated). A damaged listing is
      // recorded and stored again by this run (addTreeBlob), like one verify found.
      noteUnreadableBlob(repo, subtree, e);
      if (catalog.unusableBlobs(rid).has(subtree)) unusable.add(subtree);
      repo.warnings.push(
        `${path || 'the top folder'}: its listing in the previous snapshot could not be read, its files were read again: ${e instanceof Error ? e.message : String(e)}`,
      );
      return undefined;
    }
  };

  const addTreeBlob = (tree: Tree): string => {
    const plain = encodeTree(tree);
    const idBuf = Buffer.from(repo.blobId(plain), 'hex');
    const id = idBuf.toString('hex');
    catalog.putTree(rid, id, plain);
    const known = dedup ? !dedup.claim(idBuf) : catalog.hasBlob(rid, id) || runTreeIds.has(id);
    // a listing whose stored copy is damaged is stored again (once per run)
    const fresh = !known || (unusable.has(id) && !runTreeIds.has(id));
    growDedupIfCrowded();
    if (fresh) {
      runTreeIds.add(id);
      const [flag, body] = compressBlob(plain);
      const sealed = seal(repo.key.encKey, [Buffer.from([flag]), body], idBuf);
      treePack ??= new PackWriter(tmpDir, { md5: packMd5 });
      treePack.add(id, 'tree', sealed, plain.length);
      if (treePack.size >= packTarget) {
        const p = treePack.finish(repo.key.encKey);
        treePack = undefined;
        void upload(p);
      }
    }
    return id;
  };
  const runTreeIds = new Set<string>();

  const completeDir = (d: DirState): void => {
    d.nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const id = addTreeBlob({ nodes: d.nodes });
    dirs.delete(d.id);
    if (d.node) d.node.subtree = id;
    stats.dirs++;
    const parentDir = d.parent;
    if (parentDir) {
      parentDir.pending--;
      if (parentDir.pending === 0) finishIfComplete(parentDir);
    }
  };

  const finishIfComplete = (d: DirState): void => {
    if (d === root) {
      if (progress.scanDone && root.pending === 0) {
        root.nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        rootTree = addTreeBlob({ nodes: root.nodes });
        resolveDone();
      }
      return;
    }
    completeDir(d);
  };

  const flushBatch = (r: Reader): void => {
    if (r.batch.length === 0) return;
    const msg: ToWorker = { type: 'files', jobs: r.batch };
    r.worker.postMessage(msg);
    r.batch = [];
    r.batchBytes = 0;
  };

  const queueFile = (d: DirState, node: TreeNode, path: string, isNew: boolean, e: ScannedEntry): void => {
    readers ??= startReaders();
    const r = readers.reduce((a, b) => (b.queuedBytes + b.batchBytes < a.queuedBytes + a.batchBytes ? b : a));
    const job: FileJob = {
      seq: ++seq,
      path,
      size: node.size ?? 0,
      mtimeNs: node.mtimeNs,
      dev: e.dev,
      inode: e.inode,
      uid: e.uid,
    };
    jobs.set(job.seq, { dir: d, node, isNew });
    d.pending++;
    r.batch.push(job);
    r.batchBytes += job.size + 4096;
    r.queuedBytes += job.size + 4096;
    progress.filesTotal++;
    progress.bytesTotal += job.size;
    Atomics.add(flow, FLOW_QUEUED_FILES, 1);
    if (r.batch.length >= BATCH_FILES || r.batchBytes >= BATCH_BYTES) flushBatch(r);
  };

  const onDir = async (m: Extract<FromWorker, { type: 'dir' }>): Promise<void> => {
    const parentDir = m.parentId === 0 ? root : dirs.get(m.parentId);
    if (!parentDir) throw new BulwarkError('INTERNAL', `scanner reported ${m.path} before its parent`);
    const node = m.parentId === 0 ? rootDirNodes.get(m.dirId) : parentDir.childDirs.get(m.name);
    if (!node) throw new BulwarkError('INTERNAL', `scanner reported an unexpected folder ${m.path}`);
    const prevNode = parentDir.prev?.get(node.name);
    const d: DirState = {
      id: m.dirId,
      path: m.path,
      parent: parentDir,
      node,
      nodes: [],
      childDirs: new Map(),
      pending: 0,
      prev: prevNode?.type === 'dir' ? await prevTreeMap(prevNode.subtree, m.path) : undefined,
    };
    dirs.set(d.id, d);
    if (m.error) recordError(m.path, m.error);
    for (const s of m.skipped ?? []) recordError(s.path, s.message);
    for (const e of m.entries) {
      const n = nodeFromEntry(e);
      d.nodes.push(n);
      if (e.type === 'file') {
        stats.files++;
        extensions.file(e.name);
        const prev = d.prev?.get(e.name);
        if (sameFile(prev, e) && reusable(prev)) {
          n.content = prev.content;
          stats.filesUnchanged++;
          stats.bytes += e.size;
        } else {
          queueFile(d, n, join(m.path, e.name), prev === undefined, e);
        }
      } else if (e.type === 'dir') {
        d.childDirs.set(e.name, n);
        d.pending++;
      }
    }
    progress.currentPath = m.path;
    if (readers) for (const r of readers) flushBatch(r);
    if (d.pending === 0) completeDir(d);
    report();
  };

  const recordError = (path: string, message: string): void => {
    stats.errorCount++;
    if (stats.errors.length < MAX_LISTED_ERRORS) stats.errors.push({ path, message });
  };

  const onFiles = (results: FileResult[], r: Reader): void => {
    for (const res of results) {
      const j = jobs.get(res.seq);
      if (!j) continue;
      jobs.delete(res.seq);
      r.queuedBytes -= (j.node.size ?? 0) + 4096;
      Atomics.sub(flow, FLOW_QUEUED_FILES, 1);
      progress.filesDone++;
      progress.bytesDone += j.node.size ?? 0;
      if (res.error !== undefined || !res.content) {
        recordError(join(j.dir.path, j.node.name), res.error ?? 'unreadable');
        j.dir.nodes.splice(j.dir.nodes.indexOf(j.node), 1);
        stats.files--;
        extensions.unfile(j.node.name);
      } else {
        j.node.content = res.content;
        j.node.size = res.size;
        j.node.mtimeNs = res.mtimeNs;
        if (res.changedDuringRead) {
          j.node.changedDuringRead = true;
          recordError(
            join(j.dir.path, j.node.name),
            'file changed while it was read; stored as read, flagged',
          );
        }
        stats.bytes += res.size;
        stats.bytesRead += res.bytesRead;
        extensions.read(j.node.name, res.freshRaw ?? 0, res.freshStored ?? 0);
        if (j.isNew) stats.filesNew++;
        else stats.filesChanged++;
      }
      j.dir.pending--;
      if (j.dir.pending === 0) finishIfComplete(j.dir);
    }
    growDedupIfCrowded();
    Atomics.notify(flow, FLOW_QUEUED_FILES);
    report();
  };

  // Worker messages are handled strictly in arrival order (onDir may await a parent tree).
  let chain = Promise.resolve();
  const flushed = new Map<Worker, () => void>();
  const spawn = (init: WorkerInit | null): Worker => {
    const w = new Worker(WORKER_URL, { workerData: init ?? scannerInit() });
    workers.push(w);
    w.on('message', (m: FromWorker) => {
      chain = chain
        .then(async () => {
          // answered even after a failure: the coordinator may be waiting for it
          if (m.type === 'flushed') return flushed.get(w)?.();
          if (failure !== undefined) return;
          switch (m.type) {
            case 'dir':
              try {
                return await onDir(m);
              } finally {
                Atomics.sub(flow, FLOW_QUEUED_ENTRIES, m.entries.length + 1);
                Atomics.notify(flow, FLOW_QUEUED_ENTRIES);
              }
            case 'scan-done':
              progress.scanDone = true;
              finishIfComplete(root);
              return;
            case 'files-done': {
              const r = readers?.find((x) => x.worker === w);
              if (r) onFiles(m.results, r);
              return;
            }
            case 'pack':
              return upload(m.pack);
            case 'fatal':
              throw m.code === 'ENOSPC'
                ? new BulwarkError(
                    'NO_SPACE',
                    `no space left for temporary pack files in ${tmpBase}: ${m.message}`,
                    { hint: 'Free disk space or set a temp folder on a larger disk.' },
                  )
                : new BulwarkError('INTERNAL', `backup worker failed: ${m.message}`);
          }
        })
        .catch(fail);
    });
    w.on('error', fail);
    w.on('exit', (code) => {
      if (code !== 0 && failure === undefined && !finished)
        fail(new BulwarkError('INTERNAL', `a backup worker exited with code ${code}`));
    });
    return w;
  };
  const scannerInit = (): WorkerInit => ({
    encKey: repo.key.encKey,
    idKey: repo.key.idKey,
    chunkerSeed: repo.key.chunkerSeed,
    chunker: repo.config.chunker,
    tmpDir,
    dedup: new SharedArrayBuffer(DedupTable.bytesFor(1)),
    packTarget,
    packMd5,
  });
  let finished = false;

  // Root entries: each backed-up path becomes one node of the snapshot's root tree, named by its basename.
  const rootDirNodes = new Map<number, TreeNode>();
  const parentRoot = parent ? await prevTreeMap(parent.tree, '') : undefined;
  root.prev = parentRoot;
  const used = new Set<string>();
  const scanRoots: { path: string; dirId: number }[] = [];
  const onAbort = (): void => fail(new BulwarkError('CANCELED', 'the backup was canceled'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (const [i, p] of paths.entries()) {
      let name = basename(p) || 'root';
      for (let k = 2; used.has(name); k++) name = `${basename(p) || 'root'}~${k}`;
      used.add(name);
      const st = lstatSync(fsPath(p), { bigint: true });
      const e = scannedEntry(name, st);
      const type = e.type;
      const n = nodeFromEntry(e);
      root.nodes.push(n);
      if (type === 'dir') {
        root.pending++;
        rootDirNodes.set(-(i + 1), n);
        scanRoots.push({ path: p, dirId: -(i + 1) });
      } else if (type === 'file') {
        stats.files++;
        extensions.file(name);
        const prev = root.prev?.get(name);
        if (sameFile(prev, e) && reusable(prev)) {
          n.content = prev.content;
          stats.filesUnchanged++;
          stats.bytes += e.size;
        } else queueFile(root, n, p, prev === undefined, e);
      } else if (type === 'symlink') {
        n.target = decodeFsName(readlinkSync(fsPath(p), { encoding: 'buffer' }));
      }
    }
    if (readers) for (const r of readers) flushBatch(r);
    if (scanRoots.length > 0) {
      const scanner = spawn(null);
      const filtered = Boolean(opts.include?.length || opts.exclude?.length || opts.skipPaths?.length);
      const msg: ToWorker = {
        type: 'scan',
        roots: scanRoots,
        flow: flow.buffer as SharedArrayBuffer,
        ...(filtered
          ? {
              filter: {
                roots: paths,
                include: opts.include ?? [],
                exclude: opts.exclude ?? [],
                skipPaths: (opts.skipPaths ?? []).map((p) => resolve(p)),
              },
            }
          : {}),
      };
      scanner.postMessage(msg);
    } else {
      progress.scanDone = true;
      chain = chain.then(() => finishIfComplete(root));
    }
    await done;
    await chain;

    // Close the readers' open packs, then the tree pack, and wait for every upload.
    progress.phase = 'uploading';
    report();
    if (readers) {
      // A failure (an upload, a worker that died) ends the wait: its reader may never answer.
      await Promise.race([
        failed,
        Promise.all(
          readers.map(
            (r) =>
              new Promise<void>((res) => {
                flushed.set(r.worker, res);
                r.worker.postMessage({ type: 'flush' } satisfies ToWorker);
              }),
          ),
        ),
      ]);
      await chain;
    }
    if (failure !== undefined) throw failure;
    if (treePack) {
      const p = treePack.finish(repo.key.encKey);
      treePack = undefined;
      await upload(p);
    }
    await uploads.drain();
    await indexing;
    if (failure !== undefined) throw failure;

    // Index: this run's packs not indexed yet, plus any uploaded by an earlier killed run and never indexed.
    progress.phase = 'committing';
    report();
    const mine = new Set(runPacks.map((p) => p.id));
    const leftovers = catalog.unindexedPacks(rid).filter((p) => !mine.has(p.id));
    const toIndex = [
      ...runPacks,
      ...leftovers.map((p) => ({ id: p.id, size: p.size, blobs: catalog.packBlobs(rid, p.id) })),
    ];
    if (toIndex.length > 0) await repo.writeIndex(toIndex, retainUntil);

    // Commit: the snapshot object is written last; until then this run only added unreferenced objects.
    const id = newObjectId();
    const time = await store.serverTime();
    stats.extensions = extensions.toStats();
    // The snapshot is guaranteed until commit + lock period; its objects get padding on top.
    const needed = lock ? new Date(time.getTime() + lockDays * DAY) : undefined;
    const extendTo = lock ? new Date(time.getTime() + (lockDays + lock.paddingDays) * DAY) : undefined;
    const manifest: SnapshotManifest = {
      version: 1,
      id,
      time: time.toISOString(),
      host,
      user: userInfo().username,
      source,
      paths,
      tree: rootTree!,
      ...(parent
        ? {
            parent: parent.id,
            prev: { id: parent.id, hash: repo.chainHash(repo.encodeSnapshot(parent).plain) },
          }
        : {}),
      stats,
      ...(needed ? { retainUntil: needed.toISOString() } : {}),
      ...(opts.tags?.length ? { tags: opts.tags } : {}),
    };
    // Lock closure before commit: every object the snapshot needs must stay locked at least as long.
    let protectedUntil: number | null = null;
    const commit = async (): Promise<void> => {
      stats.durationMs = repo.clock.now().getTime() - started;
      const snapName = objectNames.snapshot(id);
      await store.put(snapName, repo.encodeSnapshot(manifest).sealed, repo.lockOptions(extendTo));
      catalog.putSnapshot(rid, manifest);
      if (extendTo) catalog.setRetention(rid, [[snapName, extendTo.getTime()]]);
      catalog.setSnapshotProtection(rid, id, protectedUntil);
    };
    if (needed && extendTo) {
      const closure = await snapshotClosure(repo, manifest, signal);
      if (opts.skipLockExtension) {
        stats.lockExtensions = 0;
      } else {
        const ext = await extendLocks(repo, closure, needed, extendTo, signal ? { signal } : {});
        stats.lockExtensions = ext.extensions;
        protectedUntil = Math.min(ext.protectedUntil, extendTo.getTime());
      }
      await commit();
    } else {
      await commitUnlocked(repo, manifest, dropsAtStart, commit, signal);
    }
    return manifest;
  } catch (e) {
    throw failure ?? e;
  } finally {
    finished = true;
    signal?.removeEventListener('abort', onAbort);
    treePack?.abort();
    await Promise.all(workers.map((w) => w.terminate()));
    await uploads.drain().catch(() => undefined);
    await indexing;
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/**
 * The commit of a backup on a target without server locks (a folder): nothing stops a prune on another
 * computer from deleting a pack this run reused. Under the folder's commit lease (storage/fs.ts
 * FolderLease; a prune holds it from its last re-sync through its deletes and its prune record), this
 * learns the latest prunes, checks that every reused pack a prune marked is still there, and writes the
 * snapshot: a prune either finished before (its record or the HEAD says what is gone: MissingObjectsError,
 * the backup runs once more) or starts after, and then sees the new snapshot (DECISIONS "Folder targets:
 * the commit lease").
 */
async function commitUnlocked(
  repo: Repository,
  manifest: SnapshotManifest,
  dropsAtStart: number | undefined,
  commit: () => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const lease = await folderLease(repo.store, COMMIT_LEASE, {
    purpose: `backup of ${manifest.source}`,
    ...(signal ? { signal } : {}),
  });
  try {
    await syncPruneRecords(repo, signal);
    if (lastPackDrop(repo) !== dropsAtStart) throw new MissingObjectsError([]);
    const marks = prunedMarks(repo);
    if (marks.size > 0) {
      const closure = await snapshotClosure(repo, manifest, signal);
      const gone: string[] = [];
      for (const name of closure) {
        const pack = packIdFromName(name);
        if (!pack || !marks.has(pack)) continue;
        try {
          await repo.store.head(name);
        } catch (e) {
          if (!isBulwarkError(e, 'NOT_FOUND')) throw e;
          gone.push(name);
        }
      }
      if (gone.length > 0) throw new MissingObjectsError(gone);
    }
    lease?.assertHeld();
    await commit();
  } finally {
    await lease?.release().catch((e: unknown) => {
      // the backup is done either way; a lease left behind is taken over once it goes stale
      repo.warnings.push(
        `could not remove the commit lease ${lease.file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    });
  }
}

/**
 * Packs that reached the target but never reached the catalog (the process died between upload and
 * record): learn their blobs from their own encrypted trailer, so the next backup reuses them.
 */
export function adoptOrphanPacks(
  repo: Repository,
  signal: AbortSignal | undefined,
  onUnreadable?: (pack: string, message: string) => void,
): Promise<number> {
  return repo.adoptUnindexedPacks(signal, onUnreadable);
}
