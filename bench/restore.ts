#!/usr/bin/env node
/**
 * The restore-side benchmark (issue "The app an office uses"): the file-history index, find, versions and
 * browsing at the size of a small office.
 *
 *   node bench/restore.ts [--files N] [--days D] [--change F] [--folders-per-day K] [--flat N] [--out DIR]
 *                         [--keep] [--seed N]
 *
 * What it builds (in <out>/restore-<timestamp>, removed afterwards unless --keep):
 *  - repository A: one source of N files (default 100 000) in folders of 50 (10 departments × 10 projects
 *    × 20 folders), then D - 1 more daily snapshots (default 365 in all) with F of the files changed a day
 *    (default 0.1 %: 100 files; 80 % edited, 10 % deleted, 10 % created), spread over K folders a day
 *    (default 10: an office works in a few folders a day; spread over every folder, each day would rewrite
 *    ~100 folder listings instead of ~10, which changes the repository's size, not the index);
 *  - repository B: one snapshot of one folder of `--flat` files (default 100 000), for browsing.
 *
 * How: real backups of 365 states of a 100 000-file tree take ~2 s each here (a scan of every file even
 * when 100 changed), 12+ minutes in all, so the snapshots are written through the repository API instead:
 * the same objects a backup writes (file contents as sealed blobs in packs, folder listings encoded by the
 * backup's own encodeTree, index objects, snapshot manifests with the parent chain and its hash), the
 * catalog filled as a backup fills it (packs, blobs, listings, snapshots), and after each snapshot the
 * call that takes it into the file history (history/sync.ts, as the service does after a backup). File
 * contents are small (about 100 bytes): nothing measured here reads them.
 *
 * Then it measures, each against its target: the catalog's size and the index's share of it; find for a
 * substring and for a glob (the app's limit, 100 files, and the CLI's, 1 000); versions of one file; the
 * first page of the 100 000-entry folder (nothing cached), and the next page (the listing kept); and the
 * same index rebuilt from the repository by `repair --rebuild-catalog` on an empty catalog (a new
 * computer), checked equal to the incremental one. Figures to stdout, JSON to <out>/restore-<timestamp>.json.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { emptyStats, encodeTree } from '../src-main/engine/backup/backup.ts';
import { Catalog } from '../src-main/engine/catalog/catalog.ts';
import { compressBlob } from '../src-main/engine/compress.ts';
import { seal } from '../src-main/engine/crypto/seal.ts';
import { fileVersions, findFiles } from '../src-main/engine/history/query.ts';
import { indexNewSnapshot } from '../src-main/engine/history/sync.ts';
import { browseFolder } from '../src-main/engine/ops/ls.ts';
import { rebuildCatalog } from '../src-main/engine/ops/rebuild.ts';
import {
  objectNames,
  type PackedBlob,
  type SnapshotManifest,
  type TreeNode,
} from '../src-main/engine/repo/format.ts';
import { PackWriter } from '../src-main/engine/repo/pack.ts';
import { initRepository, newObjectId, Repository } from '../src-main/engine/repo/repository.ts';
import { FsStore } from '../src-main/engine/storage/fs.ts';
import { ListingLru } from '../src-main/host/restore-browse.ts';

const USAGE = `usage: node bench/restore.ts [--files N] [--days D] [--change F] [--folders-per-day K] [--flat N]
                            [--out DIR] [--keep] [--seed N]

  --files N            files of the source                              default 100000
  --days D             daily snapshots                                  default 365
  --change F           share of the files changed a day                 default 0.001
  --folders-per-day K  folders those changes fall in                    default 10
  --flat N             entries of the folder browsed                    default 100000
  --out DIR            scratch space and results                        default <repo>/.bench
  --keep               keep the repositories and catalogs
  --seed N             random seed                                      default 7`;

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    days: { type: 'string', default: '365' },
    change: { type: 'string', default: '0.001' },
    'folders-per-day': { type: 'string', default: '10' },
    flat: { type: 'string', default: '100000' },
    out: { type: 'string', default: path.resolve(import.meta.dirname, '..', '.bench') },
    keep: { type: 'boolean', default: false },
    seed: { type: 'string', default: '7' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const FILES = Number(args.files);
const DAYS = Number(args.days);
const CHANGES = Math.max(1, Math.round(FILES * Number(args.change)));
const FOLDERS_PER_DAY = Number(args['folders-per-day']);
const FLAT = Number(args.flat);
const PER_FOLDER = 50;
const PASSWORD = 'bench';
const KDF = { N: 1024, r: 8, p: 1 };
const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1, 18);

const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** xorshift32: the same tree and the same changes for the same seed */
let seed = Number(args.seed) >>> 0 || 1;
function rand(): number {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 2 ** 32;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const KINDS = ['Invoice', 'Report', 'Letter', 'Contract', 'Scan', 'Minutes', 'Offer', 'Budget'];
const EXTS = ['pdf', 'docx', 'xlsx', 'jpg', 'odt', 'txt'];

// ---- writing a repository the way a backup does ----------------------------------------------------------

/** Packs, listings and index objects of one "run", as backup.ts writes them. */
class RunWriter {
  private pack: PackWriter | undefined;
  private readonly packs: { id: string; size: number; blobs: PackedBlob[] }[] = [];
  private readonly repo: Repository;
  private readonly store: FsStore;

  constructor(repo: Repository, store: FsStore) {
    this.repo = repo;
    this.store = store;
  }

  private add(kind: 'data' | 'tree', plain: Buffer): string {
    const id = this.repo.blobId(plain);
    if (this.repo.catalog.hasBlob(this.repo.rid, id)) return id;
    const idBuf = Buffer.from(id, 'hex');
    const [flag, body] = compressBlob(plain);
    const sealed = seal(this.repo.key.encKey, [Buffer.from([flag]), body], idBuf);
    if (!this.pack) {
      fs.mkdirSync(this.store.stagingDir(), { recursive: true, mode: 0o700 }); // as backup.ts does
      this.pack = new PackWriter(this.store.stagingDir(), { md5: false });
    }
    this.pack.add(id, kind, sealed, plain.length);
    // the catalog learns the blob when its pack is recorded (flush); until then, within a run, dedup here
    this.pending.add(id);
    return id;
  }

  private readonly pending = new Set<string>();

  data(plain: Buffer): string {
    const id = this.repo.blobId(plain);
    if (this.pending.has(id)) return id;
    return this.add('data', plain);
  }

  tree(nodes: TreeNode[]): string {
    const plain = encodeTree({ nodes });
    const id = this.repo.blobId(plain);
    this.repo.catalog.putTree(this.repo.rid, id, plain); // as backup.ts addTreeBlob: the file-state cache
    if (this.pending.has(id)) return id;
    return this.add('tree', plain);
  }

  async flush(): Promise<void> {
    if (this.pack) {
      const p = this.pack.finish(this.repo.key.encKey);
      this.pack = undefined;
      await this.store.put(objectNames.pack(p.id), { path: p.path, size: p.size, adopt: true });
      this.repo.catalog.addPack(this.repo.rid, p, null, null);
      this.packs.push({ id: p.id, size: p.size, blobs: p.blobs });
    }
    if (this.packs.length > 0) await this.repo.writeIndex(this.packs.splice(0), undefined);
    this.pending.clear();
  }
}

interface File {
  name: string;
  version: number;
  serial: number;
  content: string;
  size: number;
  mtimeNs: string;
  inode: string;
}

interface Folder {
  name: string;
  files: Map<string, File>;
  dirs: Map<string, Folder>;
  tree: string | undefined;
}

const nsOf = (ms: number): string => `${BigInt(ms) * 1_000_000n}`;
let serials = 0;

function fileNode(f: File): TreeNode {
  return {
    name: f.name,
    type: 'file',
    mode: 0o100644,
    mtimeNs: f.mtimeNs,
    ctimeNs: f.mtimeNs,
    inode: f.inode,
    uid: 1000,
    gid: 1000,
    size: f.size,
    content: [f.content],
  };
}

/** The listing of a folder (and of every folder below it whose listing is out of date). */
function writeTree(w: RunWriter, dir: Folder, mtimeNs: string): string {
  if (dir.tree !== undefined) return dir.tree;
  const nodes: TreeNode[] = [];
  for (const d of dir.dirs.values()) {
    nodes.push({
      name: d.name,
      type: 'dir',
      mode: 0o40755,
      mtimeNs,
      ctimeNs: mtimeNs,
      inode: String(1_000_000 + nodes.length),
      uid: 1000,
      gid: 1000,
      subtree: writeTree(w, d, mtimeNs),
    });
  }
  for (const f of dir.files.values()) nodes.push(fileNode(f));
  nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // as the scanner lists them
  dir.tree = w.tree(nodes);
  return dir.tree;
}

function newFile(w: RunWriter, dir: Folder, time: number, label: string): File {
  const serial = ++serials;
  let name: string;
  do name = `${pick(KINDS)} ${Math.floor(rand() * 100_000)}.${pick(EXTS)}`;
  while (dir.files.has(name));
  const f: File = {
    name,
    version: 1,
    serial,
    content: '',
    size: 0,
    mtimeNs: nsOf(time),
    inode: String(serial),
  };
  setContent(w, f, label);
  dir.files.set(name, f);
  return f;
}

function setContent(w: RunWriter, f: File, label: string): void {
  const text = Buffer.from(
    `${label}: file ${f.serial} version ${f.version} ${'x'.repeat(60 + (f.serial % 40))}\n`,
  );
  f.content = w.data(text);
  f.size = text.length;
}

async function putSnapshot(
  repo: Repository,
  store: FsStore,
  source: string,
  paths: string[],
  tree: string,
  time: number,
  files: number,
  parent: SnapshotManifest | undefined,
): Promise<SnapshotManifest> {
  const m: SnapshotManifest = {
    version: 1,
    id: newObjectId(),
    time: new Date(time).toISOString(),
    host: 'bench',
    user: 'bench',
    source,
    paths,
    tree,
    ...(parent
      ? {
          parent: parent.id,
          prev: { id: parent.id, hash: repo.chainHash(repo.encodeSnapshot(parent).plain) },
        }
      : {}),
    stats: { ...emptyStats(), files },
  };
  await store.put(objectNames.snapshot(m.id), repo.encodeSnapshot(m).sealed);
  repo.catalog.putSnapshot(repo.rid, m);
  return m;
}

async function openRepo(dir: string, catalogFile: string): Promise<{ store: FsStore; repo: Repository }> {
  const store = new FsStore({ root: dir });
  if (!fs.existsSync(path.join(dir, 'config'))) await initRepository(store, PASSWORD, { kdf: KDF });
  const repo = await Repository.open(store, PASSWORD, Catalog.open(catalogFile));
  return { store, repo };
}

// ---- measuring -------------------------------------------------------------------------------------------

interface Figure {
  what: string;
  value: number;
  unit: 'ms' | 'MB' | '%' | 's';
  target?: number;
  note?: string;
}
const figures: Figure[] = [];

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

/** The median of `n` runs (after one that warms the statement cache), and the first run's time. */
async function median(n: number, fn: () => Promise<unknown>): Promise<{ first: number; median: number }> {
  const times: number[] = [];
  for (let i = 0; i <= n; i++) times.push((await timed(fn))[1]);
  const first = times.shift()!;
  times.sort((a, b) => a - b);
  return { first, median: times[Math.floor(times.length / 2)]! };
}

function dbSizes(
  catalogFile: string,
  db: Catalog,
): { file: number; history: number; trees: number; byTable: Record<string, number> } {
  db.db.pragma('wal_checkpoint(TRUNCATE)');
  const rows = db.db
    .prepare<[], { name: string; size: number }>('SELECT name, sum(pgsize) AS size FROM dbstat GROUP BY name')
    .all();
  const byTable: Record<string, number> = {};
  let history = 0;
  let trees = 0;
  for (const r of rows) {
    byTable[r.name] = r.size;
    if (/^(history_|sqlite_autoindex_history_)/.test(r.name)) history += r.size;
    if (r.name === 'trees' || r.name === 'sqlite_autoindex_trees_1') trees += r.size;
  }
  return { file: fs.statSync(catalogFile).size, history, trees, byTable };
}

/** A digest of the index's rows (to compare the rebuilt index with the incremental one). */
function indexDigest(repo: Repository): { rows: number; digest: string } {
  const rows = repo.catalog.db
    .prepare<[number], { line: string }>(
      `SELECT s.source || '|' || hex(p.path) || '|' || f.id || '|' || coalesce(e.id, '') || '|' || hex(v.content)
         || '|' || v.size || '|' || v.mtime AS line
       FROM history_versions v JOIN history_sources s ON s.sid = v.sid JOIN history_paths p ON p.pid = v.pid
       JOIN history_snapshots f ON f.sid = v.sid AND f.seq = v.first
       LEFT JOIN history_snapshots e ON e.sid = v.sid AND e.seq = v.ended
       WHERE s.rid = ? ORDER BY line`,
    )
    .all(repo.rid);
  const h = createHash('sha256');
  for (const r of rows) h.update(r.line).update('\n');
  return { rows: rows.length, digest: h.digest('hex').slice(0, 16) };
}

async function main(): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  fs.mkdirSync(args.out, { recursive: true });
  const work = path.join(args.out, `restore-${stamp}`);
  fs.mkdirSync(work, { recursive: true });
  log(
    `bench/restore: ${FILES} files, ${DAYS} daily snapshots, ${CHANGES} changes a day in ${FOLDERS_PER_DAY} folders; work in ${work}`,
  );
  try {
    // ---- repository A: the office source and its year of snapshots ----
    const catalogA = path.join(work, 'a.db');
    const { store, repo } = await openRepo(path.join(work, 'repo-a'), catalogA);
    const root: Folder = { name: '', files: new Map(), dirs: new Map(), tree: undefined };
    const office: Folder = { name: 'Office', files: new Map(), dirs: new Map(), tree: undefined };
    root.dirs.set('Office', office);
    const leaves: Folder[] = [];
    const folders = Math.ceil(FILES / PER_FOLDER);
    for (let i = 0; i < folders; i++) {
      const dept = `Department ${Math.floor(i / 200)}`;
      const project = `Project ${Math.floor(i / 20) % 10}`;
      const leafName = `${2006 + (i % 20)}`;
      const d = office.dirs.get(dept) ?? { name: dept, files: new Map(), dirs: new Map(), tree: undefined };
      office.dirs.set(dept, d);
      const p = d.dirs.get(project) ?? { name: project, files: new Map(), dirs: new Map(), tree: undefined };
      d.dirs.set(project, p);
      const leaf: Folder = { name: leafName, files: new Map(), dirs: new Map(), tree: undefined };
      p.dirs.set(leafName, leaf);
      leaves.push(leaf);
    }
    let w = new RunWriter(repo, store);
    const t0 = performance.now();
    for (let i = 0; i < FILES; i++) newFile(w, leaves[i % leaves.length]!, START - 400 * DAY, 'initial');
    let rootTree = writeTree(w, root, nsOf(START));
    await w.flush();
    let total = FILES;
    let parent = await putSnapshot(
      repo,
      store,
      'office',
      ['/srv/office/Office'],
      rootTree,
      START,
      total,
      undefined,
    );
    const generatedFirst = performance.now() - t0;
    const [, indexFirst] = await timed(() => indexNewSnapshot(repo, parent));
    if (repo.warnings.length) throw new Error(repo.warnings.join('; '));
    log(
      `  first snapshot written in ${(generatedFirst / 1000).toFixed(1)} s, indexed in ${(indexFirst / 1000).toFixed(1)} s`,
    );

    /** the file most often changed: versions is measured on it */
    const edits = new Map<File, number>();
    const paths = new Map<File, string>();
    for (const [li, leaf] of leaves.entries()) {
      const d = Math.floor(li / 200);
      for (const f of leaf.files.values())
        paths.set(f, `Office/Department ${d}/Project ${Math.floor(li / 20) % 10}/${leaf.name}/${f.name}`);
    }
    let indexIncremental = 0;
    let generated = 0;
    for (let day = 1; day < DAYS; day++) {
      const time = START + day * DAY;
      const g0 = performance.now();
      w = new RunWriter(repo, store);
      const active = Array.from({ length: FOLDERS_PER_DAY }, () => pick(leaves));
      for (let c = 0; c < CHANGES; c++) {
        const li = Math.floor(rand() * active.length);
        const leaf = active[li]!;
        const roll = rand();
        const files = [...leaf.files.values()];
        if (roll < 0.8 && files.length > 0) {
          const f = pick(files);
          f.version++;
          f.mtimeNs = nsOf(time - 3_600_000);
          setContent(w, f, 'edit');
          edits.set(f, (edits.get(f) ?? 0) + 1);
        } else if (roll < 0.9 && files.length > 1) {
          const f = pick(files);
          leaf.files.delete(f.name);
          total--;
        } else {
          const f = newFile(w, leaf, time - 3_600_000, 'new');
          const at = leaves.indexOf(leaf);
          paths.set(
            f,
            `Office/Department ${Math.floor(at / 200)}/Project ${Math.floor(at / 20) % 10}/${leaf.name}/${f.name}`,
          );
          total++;
        }
      }
      // the changed folders and every folder above them get a new listing
      invalidateAbove(root, new Set(active));
      rootTree = writeTree(w, root, nsOf(time));
      await w.flush();
      parent = await putSnapshot(
        repo,
        store,
        'office',
        ['/srv/office/Office'],
        rootTree,
        time,
        total,
        parent,
      );
      generated += performance.now() - g0;
      const [, took] = await timed(() => indexNewSnapshot(repo, parent));
      indexIncremental += took;
      if (repo.warnings.length) throw new Error(repo.warnings.join('; '));
      if (day % 60 === 0) log(`  day ${day}: ${total} files`);
    }
    log(
      `  ${DAYS - 1} daily snapshots written in ${(generated / 1000).toFixed(1)} s; indexed in ${(indexIncremental / 1000).toFixed(1)} s`,
    );

    // ---- sizes ----
    const sizes = dbSizes(catalogA, repo.catalog);
    const MBof = (b: number): number => Math.round((b / 1e6) * 10) / 10;
    figures.push({ what: 'catalog file (repository A)', value: MBof(sizes.file), unit: 'MB' });
    figures.push({
      what: 'file-history index in it',
      value: MBof(sizes.history),
      unit: 'MB',
      note: `${((sizes.history / sizes.file) * 100).toFixed(1)} % of the catalog; folder listings cache ${MBof(sizes.trees)} MB`,
    });
    const counts = repo.catalog.db
      .prepare<[], { paths: number; versions: number }>(
        'SELECT (SELECT count(*) FROM history_paths) AS paths, (SELECT count(*) FROM history_versions) AS versions',
      )
      .get()!;
    log(`  index: ${counts.paths} paths, ${counts.versions} versions`);
    figures.push({
      what: 'index: one incremental update (mean per daily snapshot)',
      value: Math.round((indexIncremental / (DAYS - 1)) * 10) / 10,
      unit: 'ms',
    });
    figures.push({
      what: 'index: first snapshot (all files new)',
      value: Math.round(indexFirst),
      unit: 'ms',
    });

    // ---- find, versions ----
    const substring = 'invoice 12';
    const glob = '*.xlsx';
    for (const [label, q] of [
      ['substring', substring],
      ['glob', glob],
    ] as const) {
      for (const limit of [100, 1000]) {
        let matched = 0;
        const m = await median(5, async () => {
          const r = await findFiles(repo, q, { limit });
          matched = r.files.length;
        });
        figures.push({
          what: `find ${label} "${q}", limit ${limit}`,
          value: Math.round(m.median * 10) / 10,
          unit: 'ms',
          target: 200,
          note: `${matched} files; first call ${m.first.toFixed(1)} ms`,
        });
      }
    }
    const busiest = [...edits].sort((a, b) => b[1] - a[1])[0]!;
    let versionsCount = 0;
    const v = await median(9, async () => {
      versionsCount = (await fileVersions(repo, paths.get(busiest[0])!)).length;
    });
    figures.push({
      what: 'versions of one file',
      value: Math.round(v.median * 10) / 10,
      unit: 'ms',
      target: 50,
      note: `${versionsCount} versions; first call ${v.first.toFixed(1)} ms`,
    });
    const digestA = indexDigest(repo);
    repo.catalog.close();

    // ---- repository B: a folder of 100 000 entries, browsed ----
    const catalogB = path.join(work, 'b.db');
    const b = await openRepo(path.join(work, 'repo-b'), catalogB);
    const wb = new RunWriter(b.repo, b.store);
    const flat: Folder = { name: 'Scans', files: new Map(), dirs: new Map(), tree: undefined };
    const archive: Folder = { name: '', files: new Map(), dirs: new Map([['Scans', flat]]), tree: undefined };
    for (let i = 0; i < FLAT; i++) newFile(wb, flat, START, 'flat');
    const flatRoot = writeTree(wb, archive, nsOf(START));
    await wb.flush();
    const snapB = await putSnapshot(
      b.repo,
      b.store,
      'archive',
      ['/srv/archive/Scans'],
      flatRoot,
      START,
      FLAT,
      undefined,
    );
    // cold: a new cache each time (the listing is in the catalog, as after the backup that made it)
    let page1: Awaited<ReturnType<typeof browseFolder>> | undefined;
    const cold = await median(5, async () => {
      page1 = await browseFolder(b.repo, snapB.id, 'Scans', { limit: 200, cache: new ListingLru() });
    });
    const firstPage = cold.median;
    const cache = new ListingLru();
    await browseFolder(b.repo, snapB.id, 'Scans', { limit: 200, cache });
    const [, nextPage] = await timed(() =>
      browseFolder(b.repo, snapB.id, 'Scans', { offset: 200, limit: 200, cache }),
    );
    const [, deepPage] = await timed(() =>
      browseFolder(b.repo, snapB.id, 'Scans', { offset: FLAT - 200, limit: 200, cache }),
    );
    if (page1?.total !== FLAT || page1.entries.length !== 200) throw new Error('browse answered wrong');
    figures.push({
      what: `browse: first page (200) of a ${FLAT}-entry folder, nothing cached`,
      value: Math.round(firstPage),
      unit: 'ms',
      target: 300,
      note: `median of 5; first call ${cold.first.toFixed(0)} ms`,
    });
    figures.push({
      what: 'browse: next page, the listing kept by the host',
      value: Math.round(nextPage * 10) / 10,
      unit: 'ms',
      note: `last page ${deepPage.toFixed(1)} ms`,
    });
    b.repo.catalog.close();

    // ---- repair --rebuild-catalog on a new computer ----
    const catalogNew = path.join(work, 'a-rebuilt.db');
    const fresh = await openRepo(path.join(work, 'repo-a'), catalogNew);
    const [rebuilt, rebuildMs] = await timed(() => rebuildCatalog(fresh.repo));
    const digestNew = indexDigest(fresh.repo);
    const same = digestNew.digest === digestA.digest && digestNew.rows === digestA.rows;
    figures.push({
      what: `repair --rebuild-catalog, empty catalog (${rebuilt.snapshots} snapshots, index included)`,
      value: Math.round(rebuildMs / 100) / 10,
      unit: 's',
      note: same ? 'index identical to the incremental one' : 'INDEX DIFFERS from the incremental one',
    });
    fresh.repo.catalog.close();
    if (!same) process.exitCode = 1;

    // ---- report ----
    const line = (f: Figure): string => {
      const mark = f.target === undefined ? ' ' : f.value <= f.target ? '✓' : '✗';
      const target = f.target === undefined ? '' : `  (target < ${f.target} ${f.unit})`;
      return `${mark} ${f.what.padEnd(66)} ${String(f.value).padStart(8)} ${f.unit}${target}${f.note ? `  ${f.note}` : ''}`;
    };
    console.log(
      `bench/restore: ${FILES} files, ${DAYS} snapshots, ${CHANGES} changes/day, browse ${FLAT} entries`,
    );
    console.log(
      `  (${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end: timings on a busy machine run long)`,
    );
    for (const f of figures) console.log(line(f));
    const out = path.join(args.out, `restore-${stamp}.json`);
    fs.writeFileSync(
      out,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: { cores: os.cpus().length, loadAverage: os.loadavg() },
          params: {
            files: FILES,
            days: DAYS,
            changesPerDay: CHANGES,
            foldersPerDay: FOLDERS_PER_DAY,
            flat: FLAT,
          },
          index: { ...counts, rows: digestA.rows, digest: digestA.digest, rebuiltIdentical: same },
          catalog: sizes,
          figures,
        },
        null,
        2,
      )}\n`,
    );
    log(`results: ${out}`);
  } finally {
    if (!args.keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Marks the listings above changed folders out of date (every ancestor of one of `changed`). */
function invalidateAbove(dir: Folder, changed: ReadonlySet<Folder>): boolean {
  let hit = changed.has(dir);
  for (const d of dir.dirs.values()) if (invalidateAbove(d, changed)) hit = true;
  if (hit) dir.tree = undefined;
  return hit;
}

await main();
