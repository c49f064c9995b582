/**
 * A backup whose pack folder (where packs are built before they are stored) runs out of space stops with
 * NO_SPACE in plain words and makes no snapshot. A reader's failed pack write used to be reported as the
 * file's own read error while the run went on, with the chunk's id claimed for every later file of the
 * same content: a snapshot could name blobs the repository never got.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { restoreSnapshot } from '../../../src-main/engine/ops/restore.ts';
import { verifyRepository } from '../../../src-main/engine/ops/verify.ts';
import { makeFsRepo } from '../helpers/repo.ts';

describe.runIf(process.platform === 'linux')('a backup whose pack folder runs out of space', () => {
  it('stops with NO_SPACE and no snapshot; the next run with room stores everything', async (ctx) => {
    const t = await makeFsRepo('pack-space');
    const disk = join(t.dir, 'disk');
    mkdirSync(disk);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk]);
    if (m.status !== 0) {
      console.warn(`skipped: mount -t tmpfs not permitted here (${m.stderr.toString().trim()})`);
      t.cleanup();
      ctx.skip();
      return;
    }
    try {
      const src = join(t.dir, 'src');
      mkdirSync(src);
      // incompressible, more than the 4 MB disk holds; one content twice
      const a = randomBytes(3 << 20);
      writeFileSync(join(src, 'a.bin'), a);
      writeFileSync(join(src, 'b.bin'), randomBytes(3 << 20));
      writeFileSync(join(src, 'copy of a.bin'), a);

      const e: unknown = await backup(t.repo, { paths: [src], tmpDir: disk }).catch((x: unknown) => x);
      expect(isBulwarkError(e, 'NO_SPACE')).toBe(true);
      const message = (e as Error).message;
      expect(message).toContain(disk);
      expect(message).toMatch(/the disk is full/);
      expect(message).not.toMatch(/ENOSPC/);
      const snapshots: string[] = [];
      for await (const o of t.store.list('snapshots/')) snapshots.push(o.name);
      expect(snapshots).toEqual([]);
      expect(readdirSync(disk)).toEqual([]); // the run's pack folder is gone

      // with room, everything is stored and comes back whole
      const snap = await backup(t.repo, { paths: [src] });
      expect(snap.stats.errors).toEqual([]);
      expect((await verifyRepository(t.repo, { readData: true })).problems).toEqual([]);
      const out = join(t.dir, 'out');
      const r = await restoreSnapshot(t.repo, { snapshot: snap.id, target: out });
      expect(r.errors).toEqual([]);
      execFileSync('diff', ['-r', src, join(out, 'src')]);
    } finally {
      spawnSync('umount', [disk]);
      t.cleanup();
    }
  }, 60_000);
});
