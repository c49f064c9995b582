import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import type { JobInfo } from '../../../src-main/engine/service/jobs.ts';
import { createBackupService, type BackupService } from '../../../src-main/engine/service/service.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { tempDir, until } from './helpers/util.ts';

// Must-show 4 of issue 6: a watched tree of 20 000 files; after the initial backup 1 000 of them are modified
// at once and the service makes exactly ONE batched incremental run of them (not 1 000), in a process whose
// memory stays bounded. The RSS printed is this test process's: the service, its watcher and its backup
// workers all run in it.

const DIRS = 200;
const FILES_PER_DIR = 100;
const TOTAL = DIRS * FILES_PER_DIR;
const MODIFIED = 1000;
const QUIET_SECONDS = 1;
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

interface RunStats {
  reason: string;
  changes: number;
  snapshot?: { files: number; filesNew: number; filesChanged: number; filesUnchanged: number };
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

describe('backup service at scale', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  it(`${TOTAL} watched files; ${MODIFIED} modified at once → exactly one incremental run; memory bounded`, async () => {
    const t = tempDir('scale');
    cleanups.push(() => t.cleanup());
    const tree = join(t.dir, 'tree');
    const t0 = Date.now();
    for (let d = 0; d < DIRS; d++) {
      const dir = join(tree, `dir-${String(d).padStart(3, '0')}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < FILES_PER_DIR; f++) writeFileSync(join(dir, `file-${f}.txt`), `file ${d}/${f}\n`);
    }
    const generatedMs = Date.now() - t0;

    const svc: BackupService = createBackupService({
      home: join(t.dir, 'home'),
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
    });
    cleanups.push(() => svc.stop());
    const target = await svc.addTarget({ location: join(t.dir, 'repo') }, { initialize: true });
    const s = await svc.addSource({
      name: 'Tree',
      paths: [tree],
      targetId: target.id,
      quietSeconds: QUIET_SECONDS,
    });
    const finished: JobInfo[] = [];
    svc.on('job.state', (e) => {
      if (e.job.state === 'SUCCEEDED' || e.job.state === 'FAILED') finished.push(e.job);
    });

    await svc.start();
    await svc.whenWatching();
    expect(svc.watchStatus(s.id)?.mode).toBe('native');
    // the first start backs up the source (never backed up)
    await until(() => finished.length === 1, 'the initial backup', 240_000);
    await svc.whenIdle();
    const initial = svc.history({ sourceId: s.id })[0]!;
    expect(initial.state).toBe('succeeded');
    expect((initial.stats as RunStats).snapshot?.files).toBe(TOTAL);
    const initialMs = (initial.finishedAt ?? 0) - initial.startedAt;

    // reading the files for the backup is no change: nothing else runs
    await new Promise((r) => setTimeout(r, QUIET_SECONDS * 1000 + 1500));
    expect(svc.history({ sourceId: s.id })).toHaveLength(1);

    // 1 000 files spread over every folder, modified at once
    const written = Date.now();
    for (let i = 0; i < MODIFIED; i++) {
      const d = i % DIRS;
      const f = Math.floor(i / DIRS) * 20;
      writeFileSync(
        join(tree, `dir-${String(d).padStart(3, '0')}`, `file-${f}.txt`),
        `file ${d}/${f}, edited\n`,
      );
    }
    const writeMs = Date.now() - written;
    await until(() => finished.length === 2, 'the batched run', 120_000);
    const startedAfterMs = (svc.history({ sourceId: s.id })[0]?.startedAt ?? 0) - written;
    await svc.whenIdle();
    // quiet period and slack: no second run follows
    await new Promise((r) => setTimeout(r, QUIET_SECONDS * 2000 + 2000));

    const runs = svc.history({ sourceId: s.id });
    expect(runs.map((r) => r.state)).toEqual(['succeeded', 'succeeded']);
    const stats = runs[0]!.stats as RunStats;
    expect(stats.reason).toBe('watch');
    expect(stats.changes).toBeGreaterThanOrEqual(MODIFIED);
    expect(stats.snapshot).toMatchObject({
      files: TOTAL,
      filesNew: 0,
      filesChanged: MODIFIED,
      filesUnchanged: TOTAL - MODIFIED,
    });
    const batched = finished[1]!;
    expect(batched.reason).toBe('watch');
    expect(batched.requests).toBe(1);
    const incrementalMs = (runs[0]!.finishedAt ?? 0) - runs[0]!.startedAt;

    const mem = process.memoryUsage();
    const maxRss = process.resourceUsage().maxRSS * 1024; // KiB → bytes
    console.log(
      `[scale] ${TOTAL} files generated in ${generatedMs} ms; initial backup ${initialMs} ms; ` +
        `${MODIFIED} files modified in ${writeMs} ms → 1 run (${stats.changes} events) started ${startedAfterMs} ms ` +
        `after the first write, took ${incrementalMs} ms; RSS now ${mib(mem.rss)}, peak ${mib(maxRss)}, ` +
        `heap ${mib(mem.heapUsed)}`,
    );
    expect(maxRss).toBeLessThan(GiB);
  }, 400_000);
});
