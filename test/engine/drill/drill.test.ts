import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { runDrill } from '../../../src-main/engine/drill/drill.ts';
import { renderDrillReportHtml } from '../../../src-main/engine/drill/report.ts';
import { listDrills } from '../../../src-main/engine/drill/store.ts';
import { verifyRepository } from '../../../src-main/engine/ops/verify.ts';
import { readPackTrailer } from '../../../src-main/engine/repo/pack.ts';
import { makeFsRepo, tempDir, type TestRepo } from '../helpers/repo.ts';

function packFiles(repoDir: string): string[] {
  const out: string[] = [];
  const root = join(repoDir, 'repo', 'packs');
  for (const d of readdirSync(root)) for (const f of readdirSync(join(root, d))) out.push(join(root, d, f));
  return out;
}

/** A seeded generator, so which files are sampled is the same on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('restore drills', () => {
  let t: TestRepo | undefined;
  const dirs: string[] = [];
  afterEach(() => {
    t?.cleanup();
    t = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function repoWithFiles(n: number): Promise<{ src: string; snapId: string }> {
    t = await makeFsRepo('drill');
    const src = tempDir('drill-src');
    dirs.push(src);
    mkdirSync(join(src, 'docs'));
    for (let i = 0; i < n; i++) writeFileSync(join(src, 'docs', `f${i}.bin`), randomBytes(20_000 + i));
    const snap = await backup(t.repo, { paths: [src] });
    return { src, snapId: snap.id };
  }

  it('a healthy repository passes: every sampled file restored intact, a throughput and an estimate', async () => {
    const { snapId } = await repoWithFiles(30);
    const scratchParent = tempDir('drill-scratch');
    dirs.push(scratchParent);
    const d = await runDrill(t!.repo, { rtoMinutes: 60, scratchParent, random: seeded(1) });
    expect(d.error).toBeNull();
    expect(d.passed).toBe(true);
    expect(d.snapshotId).toBe(snapId);
    // fewer than 50 files: the sample is all of them
    expect(d.filesTested).toBe(30);
    expect(d.filesTotal).toBe(30);
    expect(d.bytesTested).toBe(d.bytesTotal);
    expect(d.bytesTotal).toBe(30 * 20_000 + (29 * 30) / 2);
    expect(d.throughput).toBeGreaterThan(0);
    expect(d.estimatedFullSeconds).toBeGreaterThan(0);
    expect(d.rtoVerdict).toBe('met');
    // the scratch folder is gone
    expect(readdirSync(scratchParent)).toEqual([]);
    // recorded
    expect(listDrills(t!.repo.catalog).map((x) => x.id)).toEqual([d.id]);
  });

  it('samples 1 % (at least the minimum) plus every file changed since the last drill, bounded in bytes', async () => {
    const { src } = await repoWithFiles(120);
    const first = await runDrill(t!.repo, { sample: { minFiles: 10 }, random: seeded(2) });
    expect(first.passed).toBe(true);
    expect(first.filesTested).toBe(10);
    expect(first.changedFiles).toBe(0);
    for (let i = 0; i < 5; i++) writeFileSync(join(src, 'docs', `f${i}.bin`), randomBytes(1000));
    writeFileSync(join(src, 'docs', 'new.bin'), randomBytes(1000));
    await backup(t!.repo, { paths: [src] });
    const second = await runDrill(t!.repo, { sample: { minFiles: 10 }, random: seeded(3) });
    expect(second.passed).toBe(true);
    expect(second.changedFiles).toBe(6);
    expect(second.filesTested).toBe(10);
    // a byte bound smaller than any file leaves nothing to restore: nothing measured, no estimate
    const bounded = await runDrill(t!.repo, { sample: { maxBytes: 500 }, random: seeded(4), rtoMinutes: 1 });
    expect(bounded.filesTested).toBe(0);
    expect(bounded.estimatedFullSeconds).toBeNull();
    expect(bounded.rtoVerdict).toBe('unknown');
  });

  it('a repository with one corrupted pack fails the drill and names the affected files', async () => {
    const { snapId } = await repoWithFiles(20);
    // Flip one byte inside a data blob of a data pack.
    let flipped = false;
    for (const file of packFiles(t!.dir)) {
      const id = basename(file);
      const blobs = await readPackTrailer(t!.store, t!.repo.key.encKey, id, statSync(file).size);
      const data = blobs.find((b) => b.kind === 'data');
      if (!data) continue;
      chmodSync(file, 0o644);
      const fd = openSync(file, 'r+');
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, data.offset + 40);
      b[0] = b[0]! ^ 0x01;
      writeSync(fd, b, 0, 1, data.offset + 40);
      closeSync(fd);
      flipped = true;
      break;
    }
    expect(flipped).toBe(true);
    const report = await verifyRepository(t!.repo, { readData: true });
    const affected = report.problems.flatMap((p) => p.affected ?? []).map((a) => basename(a));
    expect(affected.length).toBeGreaterThan(0);

    const d = await runDrill(t!.repo, { full: true, rtoMinutes: 60 });
    expect(d.snapshotId).toBe(snapId);
    expect(d.passed).toBe(false);
    expect(d.mode).toBe('full');
    expect(d.failures.map((f) => basename(f.path)).sort()).toEqual([...new Set(affected)].sort());
    for (const f of d.failures) expect(f.path).toMatch(/\/docs\/f\d+\.bin$/);

    const html = renderDrillReportHtml({ drills: listDrills(t!.repo.catalog), generatedAt: Date.now() });
    expect(html).toContain('Restore test report');
    expect(html).toContain('Failed');
    for (const f of d.failures) expect(html).toContain(f.path);
  });

  it('a drill that cannot run is recorded as failed with the reason', async () => {
    t = await makeFsRepo('drill-empty');
    const d = await runDrill(t.repo, {});
    expect(d.passed).toBe(false);
    expect(d.error).toMatch(/no backup to test/);
    expect(listDrills(t.repo.catalog)).toHaveLength(1);
  });
});
