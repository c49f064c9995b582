/**
 * A scan started before its run (stages/scan-ahead.ts): it walks past the run's own entry limit while
 * nothing takes it over, hands everything over in order, and a backup that takes it over stores what a
 * backup scanning by itself stores. A run that fails first, or is of other paths, leaves no scanner behind.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import {
  FLOW_ENTRIES_LIMIT,
  FLOW_LIMIT_ENTRIES,
  FLOW_LIMIT_ENTRIES_AHEAD,
  FLOW_QUEUED_ENTRIES,
  FLOW_SLOTS,
} from '../../../src-main/engine/backup/flow.ts';
import type { FromWorker, ScannerInit, ToWorker } from '../../../src-main/engine/backup/protocol.ts';
import { ScanAhead } from '../../../src-main/engine/backup/stages/scan-ahead.ts';
import { scanRequest } from '../../../src-main/engine/backup/stages/scan-feed.ts';
import { RunFailure } from '../../../src-main/engine/backup/stages/run-failure.ts';
import { PIPELINE_WORKER_URL, WorkerHub } from '../../../src-main/engine/backup/stages/worker-hub.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { makeFsRepo, tempDir, type TestRepo } from '../helpers/repo.ts';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tree(files: Record<string, string>): string {
  const root = tempDir('ahead-src');
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
  return root;
}

async function repo(): Promise<TestRepo> {
  const r = await makeFsRepo('ahead');
  cleanups.push(() => r.cleanup());
  return r;
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ScanAhead', () => {
  it('walks with the ahead limit until the run takes it over, and hands everything over in order', async () => {
    const src = tree({ 'a/1': '', 'a/2': '', 'b/3': '', 'c/d/4': '' });
    const ahead = ScanAhead.start([src], {});
    cleanups.push(() => ahead.cancel());
    expect(Atomics.load(ahead.flow, FLOW_ENTRIES_LIMIT)).toBe(FLOW_LIMIT_ENTRIES_AHEAD);
    await until(() => ahead.walked, 'the end of the walk');
    const scan = ahead.handOver();
    expect(scan).toBeDefined();
    cleanups.push(() => scan!.worker.terminate().then(() => undefined));
    const dirs = scan!.early.filter((m): m is Extract<FromWorker, { type: 'dir' }> => m.type === 'dir');
    expect(dirs.map((m) => m.path)).toEqual(['', 'a', 'b', 'c', 'c/d'].map((d) => join(src, d)));
    expect(scan!.early.at(-1)?.type).toBe('scan-done');
    // nothing was handled yet: every entry still counts as waiting
    expect(Atomics.load(ahead.flow, FLOW_QUEUED_ENTRIES)).toBe(3 + 1 + (2 + 1) + (1 + 1) + (1 + 1) + (1 + 1));
    // from now on the run's own limit holds
    expect(Atomics.load(ahead.flow, FLOW_ENTRIES_LIMIT)).toBe(FLOW_LIMIT_ENTRIES);
    expect(ahead.handOver()).toBeUndefined(); // once
  });

  it('the run lets go of what was handed over as it handles it (the caller keeps the hand-over)', async () => {
    const src = tree({ 'a/1': '', 'b/2': '' });
    const ahead = ScanAhead.start([src], {});
    cleanups.push(() => ahead.cancel());
    await until(() => ahead.walked, 'the end of the walk');
    const scan = ahead.handOver()!;
    const handled: string[] = [];
    let done = false;
    const hub = new WorkerHub(
      PIPELINE_WORKER_URL,
      {
        dir: (m) => {
          handled.push(m.path);
          return Promise.resolve();
        },
        scanDone: () => (done = true),
        files: () => undefined,
        pack: () => Promise.resolve(),
        flushed: () => undefined,
      },
      new RunFailure(),
      tempDir('ahead-tmp'),
    );
    cleanups.push(() => hub.close());
    hub.adopt(scan);
    // a scan that ran ahead during the unlock holds up to 32 000 entries: none may stay alive through
    // the hand-over object for the rest of the run
    expect(scan.early).toHaveLength(0);
    await hub.settled();
    expect(handled).toEqual(['', 'a', 'b'].map((d) => join(src, d)));
    expect(done).toBe(true);
  });

  it('a backup that takes it over stores what a backup scanning by itself stores', async () => {
    const r = await repo();
    const src = tree({ 'a.txt': 'alpha', 'd/b.txt': 'bravo', 'd/e/c.txt': 'charlie' });
    const first = await backup(r.repo, { paths: [src] });

    writeFileSync(join(src, 'd', 'b.txt'), 'bravo, changed');
    const ahead = ScanAhead.start([src], {});
    cleanups.push(() => ahead.cancel());
    const second = await backup(r.repo, { paths: [src], scanAhead: ahead });
    expect(second.parent).toBe(first.id);
    expect(second.stats).toMatchObject({ files: 3, filesChanged: 1, filesUnchanged: 2, filesNew: 0 });
    expect(ahead.handOver()).toBeUndefined(); // the run took the scanner

    // the same content once more, scanned by the run itself: the same tree
    const third = await backup(r.repo, { paths: [src] });
    expect(third.tree).toBe(second.tree);
  });

  it('a root that is a file needs no scanner', async () => {
    const r = await repo();
    const src = tree({ 'only.txt': 'one file' });
    const ahead = ScanAhead.start([join(src, 'only.txt')], {});
    expect(ahead.handOver()).toBeUndefined();
    const m = await backup(r.repo, { paths: [join(src, 'only.txt')], scanAhead: ahead });
    expect(m.stats).toMatchObject({ files: 1, filesNew: 1 });
  });

  it('a scan of other paths or another selection is refused, and stays the caller’s to stop', async () => {
    const r = await repo();
    const a = tree({ 'x.txt': 'x' });
    const b = tree({ 'y.txt': 'y' });
    const ahead = ScanAhead.start([a], { exclude: ['*.tmp'] });
    cleanups.push(() => ahead.cancel());
    for (const opts of [{ paths: [b] }, { paths: [a] }, { paths: [a], exclude: ['*.log'] }]) {
      const e: unknown = await backup(r.repo, { ...opts, scanAhead: ahead }).catch((x: unknown) => x);
      expect(isBulwarkError(e, 'INTERNAL')).toBe(true);
    }
    expect(r.repo.catalog.latestSnapshot(r.repo.rid, `x:${a}`)).toBeUndefined();
    // the matching run takes it
    const m = await backup(r.repo, { paths: [a], exclude: ['*.tmp'], scanAhead: ahead });
    expect(m.stats.files).toBe(1);
    expect(ahead.handOver()).toBeUndefined();
  });

  it('a backup that fails before it takes the scan over stops the scanner', async () => {
    const r = await repo();
    const src = tree({ 'a.txt': 'alpha' });
    const ahead = ScanAhead.start([src], {});
    const stop = new AbortController();
    stop.abort();
    const e: unknown = await backup(r.repo, { paths: [src], scanAhead: ahead, signal: stop.signal }).catch(
      (x: unknown) => x,
    );
    expect(isBulwarkError(e)).toBe(true);
    expect(ahead.handOver()).toBeUndefined(); // stopped, not waiting for a run
  });

  it('a path that cannot be looked at fails at the start, as the run would', () => {
    const src = tree({});
    expect(() => ScanAhead.start([join(src, 'missing')], {})).toThrow(/missing/);
  });
});

describe('the pipeline worker as scanner', () => {
  it('pauses while more entries wait than the flow slot allows, and goes on when it is raised', async () => {
    const src = tree(
      Object.fromEntries(['d0', 'd1', 'd2', 'd3'].flatMap((d) => [1, 2, 3].map((i) => [`${d}/f${i}`, '']))),
    );
    const w = new Worker(PIPELINE_WORKER_URL, { workerData: { role: 'scanner' } satisfies ScannerInit });
    cleanups.push(() => w.terminate().then(() => undefined));
    const got: FromWorker[] = [];
    w.on('message', (m: FromWorker) => got.push(m));
    const flow = new Int32Array(new SharedArrayBuffer(4 * FLOW_SLOTS));
    Atomics.store(flow, FLOW_ENTRIES_LIMIT, 3); // the root alone is 4 entries and itself
    w.postMessage(scanRequest([{ path: src, dirId: -1 }], [src], flow, {}));
    await until(() => got.length === 1, 'the root folder');
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(1); // paused: 5 entries wait, 3 may
    Atomics.store(flow, FLOW_ENTRIES_LIMIT, 100);
    Atomics.notify(flow, FLOW_QUEUED_ENTRIES);
    await until(() => got.at(-1)?.type === 'scan-done', 'the rest of the walk');
    expect(got.filter((m) => m.type === 'dir')).toHaveLength(5);
  });

  it('has no reader’s keys: asked to read files, it says so instead of reading', async () => {
    const init: ScannerInit = { role: 'scanner' };
    const w = new Worker(PIPELINE_WORKER_URL, { workerData: init });
    cleanups.push(() => w.terminate().then(() => undefined));
    const answer = new Promise<FromWorker>((res) => w.once('message', res));
    w.postMessage({ type: 'files', jobs: [] } satisfies ToWorker);
    const m = await answer;
    expect(m).toMatchObject({ type: 'fatal' });
    expect(m.type === 'fatal' && m.message).toMatch(/scanner.*files to read/);
  });
});
