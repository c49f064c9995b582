import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BulwarkError, fromSystemError, isBulwarkError } from '../errors.ts';
import { packIdFromName, type RepoConfig, type SnapshotManifest } from '../repo/format.ts';
import { SYNC_LISTINGS, type Repository } from '../repo/repository.ts';
import { fsPath } from '../util/fs-names.ts';
import { recordAudit } from '../audit/audit.ts';
import { MissingObjectsError } from '../locks/closure.ts';
import { dropPacks, lastPackDrop } from '../retention/marks.ts';
import type { ReaderInit } from './protocol.ts';
import { commitSnapshot } from './stages/commit.ts';
import { applyFileResult, type FileRead } from './stages/file-result.ts';
import { IndexWriter } from './stages/index-writer.ts';
import { PackRecords, PackUploader, packSender } from './stages/pack-uploader.ts';
import { ParentTrees } from './stages/parent-trees.ts';
import { ReaderPool } from './stages/reader-pool.ts';
import { RunDedup } from './stages/run-dedup.ts';
import { RunFailure } from './stages/run-failure.ts';
import { RunTally } from './stages/run-tally.ts';
import { ScanFeed } from './stages/scan-feed.ts';
import { TreeBuilder } from './stages/tree-builder.ts';
import { TreeSaver } from './stages/tree-saver.ts';
import { ScanAhead } from './stages/scan-ahead.ts';
import { PIPELINE_WORKER_URL, WorkerHub } from './stages/worker-hub.ts';

export { emptyStats } from './stages/run-tally.ts';
export { encodeTree } from './stages/tree-nodes.ts';

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
  /**
   * The scan of these paths with this selection, started before the repository was unlocked
   * (stages/scan-ahead.ts): the run takes its scanner over, or stops it when it fails before. A caller
   * that does not get as far as the backup (a wrong password) cancels it. Without it the run starts its
   * own scan, before it reads anything from the repository.
   */
  scanAhead?: ScanAhead;
}

/**
 * blobs per index object written during a run (about 1.6 MB of index JSON before compression). Until its
 * index object is written, every new blob's record waits on the coordinator's heap: 50 000 cost ~5 MB more
 * at the peak of a backup of small files (docs/DECISIONS.md); objects of a third the size cost nothing
 * measurable to write or to load.
 */
export const INDEX_BLOBS = 16_000;
export const DEFAULT_PACK_TARGET = 32 * 1024 * 1024;
const DAY = 86_400_000;

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
 * uploading them again. The file history (find, versions) is not written here: the service takes the
 * snapshot in after the job (history/sync.ts indexSnapshot), and find catches up with any it lacks.
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

/** What a run settles before it stores anything. */
interface RunSetup {
  started: number;
  paths: string[];
  host: string;
  source: string;
  parent: SnapshotManifest | undefined;
  parents: ParentTrees;
  /** the last pack drop known at the start (the folder commit checks that none came since) */
  dropsAtStart: number | undefined;
  lockDays: number;
  /** new objects are locked until then (undefined: the repository does not lock) */
  retainUntil: Date | undefined;
  putOpts: ReturnType<Repository['lockOptions']>;
  tmpBase: string;
  /** this run's pack build folder, removed at its end */
  tmpDir: string;
}

/**
 * What a run's preparation lists (`prepareRun`): the sync's listings, the packs (adoptOrphanPacks) and the
 * config's versions (its fresh look, `checkConfig`: a listing, then a read of any version other than the
 * one authenticated at open).
 */
const BACKUP_LISTINGS: readonly string[] = [...SYNC_LISTINGS, 'packs/', 'config'];

/**
 * What a run on this repository lists: BACKUP_LISTINGS, and with locks the keys too (the commit's lock
 * extension names them: locks/closure.ts). A listing sent early is used only while under 10 s old
 * (S3Store.prefetchListings): the key listing serves a short run's commit; a long run's lists again.
 */
export function backupListings(config: Pick<RepoConfig, 'lock'>): readonly string[] {
  return config.lock ? [...BACKUP_LISTINGS, 'keys/'] : BACKUP_LISTINGS;
}

async function prepareRun(repo: Repository, opts: BackupOptions, retry: boolean): Promise<RunSetup> {
  const started = repo.clock.now().getTime();
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
  const signal = opts.signal;

  // Someone holding the bucket keys may have replaced the repository's settings (DESIGN §3): refuse
  // before anything is written, rather than silently back up under a policy nobody chose. What is known
  // already refuses at once; the config's fresh look (two round trips on S3) goes on while the catalog
  // catches up, which only reads the repository, and is awaited before the first write.
  repo.assertLockInvariant();
  // The listings below go out side by side (S3; those a command sent while the key was derived are not
  // asked twice): the service keeps its repositories open, and each of its runs listed them in turn.
  repo.rawStore.prefetchListings?.(backupListings(repo.config));
  const configChecked = repo.checkConfig();
  configChecked.catch(() => undefined); // awaited below; a sync failing first is the run's error
  // The server's clock (S3: a request, then an offset kept for minutes) is asked beside them too: the
  // locks below and the commit read it. Without a lock it is only warmed: a failure here is met again,
  // and reported, by the commit's own ask.
  const serverTime = repo.store.serverTime();
  serverTime.catch(() => undefined);
  await repo.syncIndexes(signal);
  await adoptOrphanPacks(repo, signal);
  await repo.syncSnapshots(signal);
  await configChecked;
  repo.assertLockInvariant();
  const parent = repo.catalog.latestSnapshot(repo.rid, source);
  // After packs were pruned (here or elsewhere), the parent's blob lists may name blobs that are gone:
  // an unchanged file then reuses its blobs only if the catalog still locates every one of them.
  const lastDrop = lastPackDrop(repo);
  const checkReuse =
    retry || (lastDrop !== undefined && (!parent || lastDrop >= Date.parse(parent.time) - DAY));
  const parents = new ParentTrees(repo, checkReuse, signal);

  // New objects are locked until start (server clock) + lock period + padding (DESIGN §3).
  const lock = repo.config.lock;
  const lockDays = opts.lockDays ?? lock?.days ?? 0;
  const retainUntil = lock
    ? new Date((await serverTime).getTime() + (lockDays + lock.paddingDays) * DAY)
    : undefined;

  // Packs are built where the store can adopt them without a copy (a folder target's staging folder).
  const tmpBase = opts.tmpDir ?? repo.store.stagingDir?.() ?? join(tmpdir(), 'bulwark-tmp');
  mkdirSync(tmpBase, { recursive: true, mode: 0o700 });
  cleanStaleTmp(tmpBase);
  const tmpDir = mkdtempSync(join(tmpBase, `run-${process.pid}-`));
  return {
    started,
    paths,
    host,
    source,
    parent,
    parents,
    dropsAtStart: lastDrop,
    lockDays,
    retainUntil,
    putOpts: repo.lockOptions(retainUntil),
    tmpBase,
    tmpDir,
  };
}

/**
 * One backup run: the scan feed hands folders to the tree builder and files to the reader pool; readers
 * and the tree saver hand finished packs to the uploader, which hands them to the index writer. Stages
 * talk only through the hooks wired here; progress and counters go through the tally and `report`.
 */
class BackupRun {
  readonly failure = new RunFailure();
  readonly tally = new RunTally();
  private readonly progress: BackupProgress = {
    phase: 'scanning',
    scanDone: false,
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
    bytesAdded: 0,
  };
  /** shared backpressure between the scanner, the readers and this thread (flow.ts) */
  private readonly flow: Int32Array;
  /** the scan, started before the run's preparation (stages/scan-ahead.ts) */
  private readonly ahead: ScanAhead;
  private readonly index: IndexWriter;
  private readonly uploader: PackUploader;
  private readonly dedup: RunDedup;
  private readonly trees: TreeSaver;
  private readonly tree: TreeBuilder;
  private readonly hub: WorkerHub;
  private readonly readers: ReaderPool<FileRead>;
  private readonly feed: ScanFeed;
  private readonly repo: Repository;
  private readonly opts: BackupOptions;
  private readonly setup: RunSetup;

  constructor(repo: Repository, opts: BackupOptions, setup: RunSetup, ahead: ScanAhead) {
    this.repo = repo;
    this.opts = opts;
    this.setup = setup;
    this.ahead = ahead;
    this.flow = ahead.flow;
    const { catalog, rid } = repo;
    const failure = this.failure;
    this.index = new IndexWriter(
      {
        write: (packs) => repo.writeIndex(packs, setup.retainUntil),
        unindexed: () => catalog.unindexedPacks(rid),
        blobsOf: (id) => catalog.packBlobs(rid, id),
      },
      opts.indexBlobs ?? INDEX_BLOBS,
      failure,
    );
    // one pack at a time is recorded in the catalog while the coordinator goes on (PackRecords); the
    // next pack's upload waits for it (a million small files: as fast as with two waiting, ~35 MB less)
    const records = new PackRecords(
      (pack) => catalog.addPackInSlices(rid, pack, setup.retainUntil ?? null, null),
      1,
    );
    const send = packSender(repo, setup.putOpts, setup.retainUntil, opts.signal, records, (pack) => {
      this.index.add({ id: pack.id, size: pack.size, blobs: pack.blobs });
      this.tally.packStored(pack.size, pack.blobs.length);
      this.progress.bytesAdded = this.tally.stats.bytesAdded;
    });
    this.uploader = new PackUploader(opts.uploadConcurrency ?? 4, send, failure, records);
    this.dedup = new RunDedup(
      {
        count: () => catalog.blobCount(rid),
        ids: () => catalog.blobIds(rid),
        has: (id) => catalog.hasBlob(rid, id),
      },
      (buffer) => this.readers.broadcast({ type: 'dedup', buffer }),
    );
    this.trees = new TreeSaver(
      {
        blobId: (plain) => repo.blobId(plain),
        encKey: repo.key.encKey,
        putTrees: (trees) => catalog.putTrees(rid, trees),
        unusable: setup.parents.unusable,
      },
      this.dedup,
      { tmpDir: setup.tmpDir, target: this.packTarget, md5: this.packMd5 },
      (pack) => this.uploader.upload(pack),
    );
    this.tree = new TreeBuilder(
      (t) => this.trees.save(t),
      () => this.tally.dirStored(),
      (d) => this.feed.filesRead(d),
    );
    this.hub = new WorkerHub(
      PIPELINE_WORKER_URL,
      {
        dir: (m) => this.feed.folder(m),
        scanDone: () => {
          this.progress.scanDone = true;
          this.tree.scanFinished();
        },
        files: (worker, results) => this.readers.results(worker, results),
        pack: (pack) => this.uploader.upload(pack),
        flushed: (worker) => this.readers.flushedBy(worker),
      },
      failure,
      setup.tmpBase,
    );
    this.readers = new ReaderPool<FileRead>(opts.readers ?? Math.max(2, availableParallelism()), this.flow, {
      init: () => this.workerInit(this.dedup.start()),
      spawn: (init) => this.hub.spawn(init),
      read: (item, res, size) => {
        this.progress.filesDone++;
        this.progress.bytesDone += size;
        applyFileResult(item, res, this.tally);
        this.tree.fileDone(item.dir);
      },
      batchDone: () => {
        this.dedup.growIfCrowded();
        this.report();
      },
    });
    this.feed = new ScanFeed(this.tree, setup.parents, this.tally, this.flow, {
      read: (dir, node, path, isNew, e) => {
        this.tree.expectFile(dir);
        this.progress.filesTotal++;
        this.progress.bytesTotal += e.size;
        const { size = 0, mtimeNs } = node;
        this.readers.queue(
          { dir, node, isNew },
          { path, size, mtimeNs, dev: e.dev, inode: e.inode, uid: e.uid },
        );
      },
      folderDone: (path) => {
        this.progress.currentPath = path;
        this.readers.flushBatches();
        this.report();
      },
    });
  }

  private get packTarget(): number {
    return this.opts.packTarget ?? DEFAULT_PACK_TARGET;
  }

  /** A folder target adopts the pack file itself; only uploads need its MD5 (Content-MD5 of locked PUTs). */
  private get packMd5(): boolean {
    return this.repo.store.stagingDir === undefined;
  }

  private workerInit(dedup: SharedArrayBuffer): ReaderInit {
    const key = this.repo.key;
    return {
      role: 'reader',
      encKey: key.encKey,
      idKey: key.idKey,
      chunkerSeed: key.chunkerSeed,
      chunker: this.repo.config.chunker,
      tmpDir: this.setup.tmpDir,
      dedup,
      packTarget: this.packTarget,
      packMd5: this.packMd5,
    };
  }

  phase(phase: BackupProgress['phase']): void {
    this.progress.phase = phase;
    this.report();
  }

  private report(): void {
    this.opts.onProgress?.({ ...this.progress });
  }

  /** Scans, reads and stores everything; returns the root tree once every pack is uploaded and indexed. */
  async store(): Promise<string> {
    const { parent, paths } = this.setup;
    this.tree.root.prev = parent ? await this.setup.parents.folder(parent.tree, '') : undefined;
    const scanRoots = this.feed.roots(paths, this.ahead.rootStats);
    this.readers.flushBatches();
    // the scanner walks the same folders (the same lstat of each path: ScanAhead.rootStats)
    const scanner = this.ahead.handOver();
    if (scanner) {
      this.hub.adopt(scanner);
    } else if (scanRoots.length > 0) {
      throw new BulwarkError('INTERNAL', 'the scan of the backed-up folders was stopped before the run');
    } else {
      this.progress.scanDone = true;
      this.hub.then(() => this.tree.scanFinished());
    }
    const rootTree = await this.failure.race(this.tree.rootTree);
    await this.hub.settled();

    // Close the readers' open packs, then the tree pack, and wait for every upload.
    this.phase('uploading');
    if (this.readers.started) {
      // A failure (an upload, a worker that died) ends the wait: its reader may never answer.
      await this.failure.race(this.readers.flushPacks());
      await this.hub.settled();
      // every file is read and every pack closed: the readers' threads (20-30 MB each) end before the
      // tree pack, the index and the commit, where a run's memory used to peak
      await this.failure.race(Promise.all(this.readers.workers.map((w) => this.hub.retire(w))));
    }
    this.failure.throwIfFailed();
    await this.trees.finish();
    await this.uploader.drain();
    await this.index.settled();
    this.failure.throwIfFailed();

    // Index: this run's packs not indexed yet, plus any uploaded by an earlier killed run and never indexed.
    this.phase('committing');
    await this.index.finish();
    return rootTree;
  }

  /** Stops the workers, lets started uploads and index writes end, and removes the pack build folder. */
  async close(): Promise<void> {
    try {
      this.trees.abort();
      await this.ahead.cancel(); // a run that failed before it took the scanner over
      await this.hub.close();
      // an upload's failure already failed the run (RunFailure): it is what the caller sees
      await this.uploader.drain().catch(() => undefined);
      await this.index.settled();
    } finally {
      rmSync(this.setup.tmpDir, { recursive: true, force: true });
    }
  }
}

async function backupOnce(repo: Repository, opts: BackupOptions, retry: boolean): Promise<SnapshotManifest> {
  // a scan the caller started serves the first attempt; a retry walks again
  const given = retry ? undefined : opts.scanAhead;
  if (given && !given.matches(opts.paths, opts)) {
    throw new BulwarkError('INTERNAL', 'the scan started ahead is not of the paths being backed up');
  }
  // The walk needs nothing of what the preparation reads (config, listings, parent): it starts first.
  const ahead = given ?? ScanAhead.start(opts.paths, opts);
  let setup: RunSetup;
  let run: BackupRun;
  try {
    setup = await prepareRun(repo, opts, retry);
    run = new BackupRun(repo, opts, setup, ahead);
  } catch (e) {
    await ahead.cancel();
    throw e;
  }
  const signal = opts.signal;
  const onAbort = (): void => run.failure.fail(new BulwarkError('CANCELED', 'the backup was canceled'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const tree = await run.store();
    // Commit: the snapshot object is written last; until then this run only added unreferenced objects.
    return await commitSnapshot(repo, {
      host: setup.host,
      source: setup.source,
      paths: setup.paths,
      tree,
      parent: setup.parent,
      stats: run.tally.finish(),
      tags: opts.tags,
      lockDays: setup.lockDays,
      started: setup.started,
      dropsAtStart: setup.dropsAtStart,
      signal,
      skipLockExtension: opts.skipLockExtension === true,
    });
  } catch (e) {
    throw run.failure.hasFailed ? run.failure.error : e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await run.close();
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
