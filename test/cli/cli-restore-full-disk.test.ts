import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBulwark } from './helpers.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
let mounted: string | undefined;
afterAll(() => {
  if (mounted) spawnSync('umount', [mounted]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux')('bulwark restore onto a full disk', () => {
  it('exits 1 and says in plain words what did not fit and how much room it needs', async (ctx) => {
    const disk = path.join(tmp, 'disk');
    fs.mkdirSync(disk);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', disk]);
    if (m.status !== 0) {
      console.warn(`skipped: mount -t tmpfs not permitted here (${m.stderr.toString().trim()})`);
      ctx.skip();
      return;
    }
    mounted = disk;
    const ctxDirs = { home: path.join(tmp, 'home'), tmp };
    const repo = path.join(tmp, 'repo');
    const src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(src, `scan-${i}.pdf`), randomBytes(2 << 20));
    expect((await runBulwark(['init', '--repo', repo], ctxDirs)).code).toBe(0);
    expect((await runBulwark(['backup', '--repo', repo, src], ctxDirs)).code).toBe(0);
    const r = await runBulwark(
      ['restore', '--repo', repo, 'latest', '--target', path.join(disk, 'out')],
      ctxDirs,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/scan-\d\.pdf: not restored: the disk is full/);
    expect(r.stderr).toMatch(
      /bulwark: the disk is full: \d files? \(\d\.\d MB\) (was|were) not restored; free at least \d\.\d MB on the disk holding .*\/disk\/out and restore again/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain('ENOSPC: no space left on device');
    // what is there is whole
    for (const n of fs.readdirSync(path.join(disk, 'out', 'src')))
      expect(
        fs.readFileSync(path.join(disk, 'out', 'src', n)).equals(fs.readFileSync(path.join(src, n))),
      ).toBe(true);
  });
});
