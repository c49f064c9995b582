/** The scan feed and the reader pool on their own: which files are read, batching, results, backpressure. */
import { EventEmitter } from 'node:events';
import { lstatSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { TreeNode } from '../../../src-main/engine/repo/format.ts';
import { FLOW_QUEUED_ENTRIES, FLOW_QUEUED_FILES, FLOW_SLOTS } from '../../../src-main/engine/backup/flow.ts';
import type {
  FileJob,
  ScannedEntry,
  ToWorker,
  WorkerInit,
} from '../../../src-main/engine/backup/protocol.ts';
import { applyFileResult, type FileRead } from '../../../src-main/engine/backup/stages/file-result.ts';
import { ReaderPool } from '../../../src-main/engine/backup/stages/reader-pool.ts';
import { RunTally } from '../../../src-main/engine/backup/stages/run-tally.ts';
import {
  ScanFeed,
  scanRequest,
  type ParentListings,
} from '../../../src-main/engine/backup/stages/scan-feed.ts';
import { TreeBuilder, type DirState } from '../../../src-main/engine/backup/stages/tree-builder.ts';

const entry = (name: string, type: ScannedEntry['type'], size = 10): ScannedEntry => ({
  name,
  type,
  mode: 0o644,
  mtimeNs: '5',
  ctimeNs: '5',
  dev: '1',
  inode: name.length.toString(),
  uid: 0,
  gid: 0,
  size,
});

/** A stand-in reader thread: records what it is sent. */
class FakeWorker extends EventEmitter {
  readonly sent: ToWorker[] = [];
  postMessage(m: ToWorker): void {
    this.sent.push(m);
  }
}
const asWorker = (w: FakeWorker): Worker => w as unknown as Worker;

const newFlow = (): Int32Array => new Int32Array(new SharedArrayBuffer(4 * FLOW_SLOTS));

describe('ReaderPool', () => {
  const init = { tmpDir: '/t' } as unknown as WorkerInit;

  it('starts readers only for the first file, balances by queued bytes, hands results back', () => {
    const fakes: FakeWorker[] = [];
    const flow = newFlow();
    const read: [string, number][] = [];
    let batches = 0;
    const pool = new ReaderPool<string>(2, flow, {
      init: () => init,
      spawn: () => {
        const w = new FakeWorker();
        fakes.push(w);
        return asWorker(w);
      },
      read: (item, res, size) => read.push([`${item}:${res.size}`, size]),
      batchDone: () => batches++,
    });
    expect(pool.started).toBe(false);
    const file = (path: string, size: number): Omit<FileJob, 'seq'> => ({
      path,
      size,
      mtimeNs: '1',
      dev: '1',
      inode: '1',
      uid: 0,
    });
    pool.queue('big', file('/big', 1 << 20));
    pool.queue('small', file('/small', 1));
    expect(fakes).toHaveLength(2);
    expect(Atomics.load(flow, FLOW_QUEUED_FILES)).toBe(2);
    pool.flushBatches();
    const jobsOf = (w: FakeWorker): FileJob[] => w.sent.flatMap((m) => (m.type === 'files' ? m.jobs : []));
    const [first, second] = fakes as [FakeWorker, FakeWorker];
    expect(jobsOf(first).map((j) => j.path)).toEqual(['/big']);
    expect(jobsOf(second).map((j) => j.path)).toEqual(['/small']);

    const seq = jobsOf(first)[0]?.seq ?? 0;
    pool.results(asWorker(first), [
      { seq, bytesRead: 7, size: 7, mtimeNs: '2', changedDuringRead: false, content: [] },
    ]);
    expect(read).toEqual([['big:7', 1 << 20]]);
    expect(batches).toBe(1);
    expect(Atomics.load(flow, FLOW_QUEUED_FILES)).toBe(1);

    const flushed = pool.flushPacks();
    expect(first.sent.at(-1)).toEqual({ type: 'flush' });
    pool.flushedBy(asWorker(first));
    pool.flushedBy(asWorker(second));
    return flushed;
  });
});

describe('ScanFeed', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const setup = (prevContent: Map<string, TreeNode> | undefined) => {
    const flow = newFlow();
    const tally = new RunTally();
    const tree: TreeBuilder = new TreeBuilder(
      () => 'tree',
      () => tally.dirStored(),
      (d) => feed.filesRead(d),
    );
    const parents: ParentListings = {
      reusable: (prev, e): prev is TreeNode & { content: string[] } =>
        prev?.content !== undefined && prev.size === e.size,
      reusableTree: () => true,
      folder: () => Promise.resolve(prevContent),
    };
    const reads: { d: DirState; node: TreeNode; path: string; isNew: boolean }[] = [];
    const folders: string[] = [];
    const feed = new ScanFeed(tree, parents, tally, flow, {
      read: (d, node, path, isNew) => {
        tree.expectFile(d);
        reads.push({ d, node, path, isNew });
      },
      folderDone: (path) => folders.push(path),
    });
    return { flow, tally, tree, feed, reads, folders };
  };

  it('makes root nodes of the backed-up paths (names made unique) and asks the scanner for folders', () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-feed-'));
    mkdirSync(join(dir, 'a', 'docs'), { recursive: true });
    mkdirSync(join(dir, 'b', 'docs'), { recursive: true });
    writeFileSync(join(dir, 'note.txt'), 'hello');
    symlinkSync('note.txt', join(dir, 'link'));
    const { tree, feed, reads, tally } = setup(undefined);
    const paths = [join(dir, 'a', 'docs'), join(dir, 'b', 'docs'), join(dir, 'note.txt'), join(dir, 'link')];
    const roots = feed.roots(
      paths,
      paths.map((p) => lstatSync(p, { bigint: true })),
    );
    expect(roots).toEqual([
      { path: paths[0], dirId: -1 },
      { path: paths[1], dirId: -2 },
    ]);
    expect(tree.root.nodes.map((n) => n.name)).toEqual(['docs', 'docs~2', 'note.txt', 'link']);
    expect(tree.root.nodes[3]?.target).toBe('note.txt');
    expect(reads.map((r) => r.path)).toEqual([paths[2]]);
    expect(tally.stats.files).toBe(1);
    const req = scanRequest(roots, paths, new Int32Array(new SharedArrayBuffer(8)), { exclude: ['*.tmp'] });
    expect(req.type === 'scan' && req.filter?.exclude).toEqual(['*.tmp']);
    expect(scanRequest(roots, paths, new Int32Array(new SharedArrayBuffer(8)), {})).not.toHaveProperty(
      'filter',
    );
  });

  it('reuses unchanged files of the parent, reads the others, waits for subfolders, frees the flow', async () => {
    const prevFile: TreeNode = { ...entry('same.txt', 'file'), size: 10, content: ['blob1'] };
    const { flow, tally, tree, feed, reads, folders } = setup(new Map([['same.txt', prevFile]]));
    const top: TreeNode = { ...entry('top', 'dir'), subtree: 'old' };
    tree.root.nodes.push(top);
    tree.expectRootDir(-1, top);
    tree.root.prev = new Map([['top', top]]);
    Atomics.add(flow, FLOW_QUEUED_ENTRIES, 5);
    await feed.folder({
      type: 'dir',
      dirId: -1, // a backed-up folder keeps the id the feed gave it
      parentId: 0,
      name: 'top',
      path: '/src/top',
      entries: [entry('same.txt', 'file'), entry('new.txt', 'file'), entry('sub', 'dir')],
      skipped: [{ path: '/src/top/gone', message: 'vanished' }],
    });
    // the folder waits for new.txt: the scanner's flow still counts its entries and itself
    expect(Atomics.load(flow, FLOW_QUEUED_ENTRIES)).toBe(5);
    expect(reads.map((r) => [r.path, r.isNew])).toEqual([['/src/top/new.txt', true]]);
    expect(folders).toEqual(['/src/top']);
    expect(tally.stats).toMatchObject({ files: 2, filesUnchanged: 1, errorCount: 1 });
    const d = reads[0]?.d as DirState;
    expect(d.nodes.find((n) => n.name === 'same.txt')?.content).toEqual(['blob1']);
    expect(d.pending).toBe(2); // the file being read and the subfolder

    // the read fails: the file leaves the snapshot, the error is listed
    const item: FileRead = { dir: d, node: reads[0]?.node as TreeNode, isNew: true };
    applyFileResult(
      item,
      { seq: 1, bytesRead: 0, size: 0, mtimeNs: '0', changedDuringRead: false, error: 'EACCES' },
      tally,
    );
    expect(d.nodes.map((n) => n.name)).toEqual(['same.txt', 'sub']);
    expect(tally.stats).toMatchObject({ files: 1, errorCount: 2 });
    tree.fileDone(d); // its last file is done (the subfolder still waits): the flow lets them go
    expect(Atomics.load(flow, FLOW_QUEUED_ENTRIES)).toBe(1);
    expect(d.pending).toBe(1);
    feed.filesRead(d); // said twice: counted off once
    expect(Atomics.load(flow, FLOW_QUEUED_ENTRIES)).toBe(1);
  });

  it('a folder the scanner names before its parent fails, and still frees the flow', async () => {
    const { flow, feed } = setup(undefined);
    Atomics.add(flow, FLOW_QUEUED_ENTRIES, 1);
    await expect(
      feed.folder({ type: 'dir', dirId: 5, parentId: 4, name: 'x', path: '/x', entries: [] }),
    ).rejects.toThrow(/before its parent/);
    expect(Atomics.load(flow, FLOW_QUEUED_ENTRIES)).toBe(0);
  });
});
