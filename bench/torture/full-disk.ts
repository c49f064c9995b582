/**
 * Full disks, on a small tmpfs (root only; skipped with the reason when mount is not permitted).
 *
 * full-repo: the repository lies on a tmpfs too small for the backup ("initial": the first backup of v1
 * does not fit; "second": v1 fits, the v2 backup does not). The backup must fail with a plain "no space"
 * message and commit nothing; after the tmpfs is made larger the next backup completes, `verify
 * --read-data` passes and every snapshot restores equal to the source.
 *
 * full-target: a restore of v1 into a tmpfs smaller than the files. It must fail saying the disk is full
 * and how much room is needed, leave nothing half-written under a real name (every file present has the
 * right bytes) nor any temporary file; after the tmpfs is made larger the same restore completes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { brief, said, snapshotIds, type Cli } from './cli.ts';
import {
  copyTree,
  fmtMiB,
  newTrial,
  plainFailure,
  rmTree,
  SOURCE_NAME,
  type KindContext,
  type TrialResult,
} from './common.ts';
import { mutateSource, restoreAndCompare } from './kill.ts';
import { mountTmpfs, resizeTmpfs, unmount } from './mount.ts';
import { compare, describe, duBytes, isIdentical, usedBytes } from './tree.ts';

const MiB = 2 ** 20;

/** "12.3 MB", "4 KiB", "980 B" -> bytes (the CLI's humanBytes); undefined when there is none. */
export function parseSize(s: string): number | undefined {
  const m = /(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB|TB|TiB)\b/.exec(s);
  if (!m) return undefined;
  const unit: Record<string, number> = {
    B: 1,
    kB: 1e3,
    KB: 1e3,
    KiB: 2 ** 10,
    MB: 1e6,
    MiB: 2 ** 20,
    GB: 1e9,
    GiB: 2 ** 30,
    TB: 1e12,
    TiB: 2 ** 40,
  };
  return Number(m[1]) * (unit[m[2]!] ?? 1);
}

export async function fullRepoKind(ctx: KindContext, seed: number): Promise<TrialResult[]> {
  const { corpus, rand } = ctx;
  // How much the repository needs: after v1, and after v1 + v2 (measured once on the normal disk).
  const cal = path.join(ctx.work, 'calibrate');
  const calSrc = path.join(cal, 'src', SOURCE_NAME);
  copyTree(corpus.v1, calSrc);
  const calCli = ctx.cli(path.join(cal, 'home'));
  const calRepo = path.join(cal, 'repo');
  await calCli.run(['init', '--repo', calRepo, '-q']);
  const empty = duBytes(calRepo);
  await calCli.run(['backup', '--repo', calRepo, calSrc, '-q']);
  const afterV1 = duBytes(calRepo);
  mutateSource(calSrc, seed);
  await calCli.run(['backup', '--repo', calRepo, calSrc, '-q']);
  const afterV2 = duBytes(calRepo);
  rmTree(cal);
  ctx.log(`full-repo: the repository needs ${fmtMiB(afterV1)} after v1, ${fmtMiB(afterV2)} after v2`);

  const results: TrialResult[] = [];
  // the variants take turns (which one comes first is drawn), so a few trials cover both
  const first = rand.int(2);
  for (let i = 1; i <= ctx.trials; i++) {
    const variant = (first + i) % 2 === 0 ? 'initial' : 'second';
    const frac = 0.1 + 0.75 * rand.float();
    // the disk: room for what is there before the failing backup plus a fraction of what it adds
    const base = variant === 'initial' ? empty : afterV1;
    const grows = (variant === 'initial' ? afterV1 : afterV2) - base;
    const size = Math.max(256 << 10, Math.round(base + 64 * 1024 + frac * grows));
    const t = newTrial(
      'full-repo',
      'full disk: repository',
      i,
      `${variant} backup, repository on a ${fmtMiB(size)} tmpfs (${Math.round(frac * 100)} % of what the backup adds)`,
    );
    const t0 = performance.now();
    const dir = path.join(ctx.work, `trial-${i}`);
    const disk = path.join(dir, 'disk');
    const src = path.join(dir, 'src', SOURCE_NAME);
    const cli = ctx.cli(path.join(dir, 'home'));
    const repo = ['--repo', path.join(disk, 'repo')];
    try {
      copyTree(corpus.v1, src);
      // init and (second) the first backup with room to spare, then the disk shrinks to `size`
      mountTmpfs(disk, Math.max(size, afterV1 + 32 * MiB));
      const init = await cli.run(['init', ...repo, '-q']);
      if (init.code !== 0) throw new Error(`init: ${brief(init)}`);
      if (variant === 'second') {
        const b = await cli.run(['backup', ...repo, src, '-q']);
        if (b.code !== 0) throw new Error(`the first backup: ${brief(b)}`);
        mutateSource(src, seed);
      }
      resizeTmpfs(disk, Math.max(size, usedBytes(disk) + 64 * 1024));
      const want = variant === 'second' ? corpus.m2 : corpus.m1;
      const before = (await snapshotIds(cli, repo)) ?? [];

      // the fault
      const b = await cli.run(['backup', ...repo, src, '-q']);
      if (b.code === 0) {
        t.triggered = false;
        t.notes.push(`the backup fit on the disk (${fmtMiB(usedBytes(disk))} used)`);
      } else {
        const plain = plainFailure(b);
        const text = said(b);
        const noSpace = /no space|disk is full|not enough (free )?space|is full/i.test(text);
        t.detected = plain.plain && noSpace;
        t.named = t.detected && text.includes(path.join(disk, 'repo'));
        if (!plain.plain) t.problems.push(`the failed backup: ${plain.why}: ${brief(b, 4)}`);
        else if (!noSpace) t.problems.push(`the failed backup does not say the disk is full: ${brief(b, 4)}`);
        if (/ENOSPC/.test(text)) t.notes.push(`the message shows the errno code: ${brief(b, 2)}`);
      }
      const after = (await snapshotIds(cli, repo)) ?? [];
      if (b.code !== 0 && after.length !== before.length)
        t.problems.push(`the failed backup committed a snapshot (${after.length - before.length} new)`);
      const leftovers = fs.existsSync(path.join(disk, 'repo')) ? listTemps(path.join(disk, 'repo')) : [];
      if (leftovers.length > 0)
        t.notes.push(
          `temporary files left in the repository by the failed backup: ${leftovers.slice(0, 3).join(', ')}`,
        );

      // room again: the next backup, verify, restore (into the normal disk)
      resizeTmpfs(disk, (variant === 'initial' ? afterV1 : afterV2) * 2 + 32 * MiB);
      const next = await cli.run(['backup', ...repo, src, '-q']);
      if (next.code !== 0) t.problems.push(`the next backup, with room again: ${brief(next, 6)}`);
      const v = await cli.run(['verify', ...repo, '--read-data', '-q']);
      if (v.code !== 0) t.problems.push(`verify --read-data: ${brief(v, 6)}`);
      const latest = await restoreAndCompare(
        cli,
        repo,
        'latest',
        path.join(dir, 'out'),
        want,
        t,
        'restore latest',
      );
      t.lost += latest.lost;
      let older = true;
      if (variant === 'second') {
        const firstId = ((await snapshotIds(cli, repo)) ?? [])[0] ?? 'none';
        const o = await restoreAndCompare(
          cli,
          repo,
          firstId,
          path.join(dir, 'out'),
          corpus.m1,
          t,
          'restore of the first snapshot',
        );
        t.lost += o.lost;
        older = o.identical;
      }
      t.recovered = next.code === 0 && v.code === 0 && latest.identical && older;
    } catch (e) {
      t.problems.push(`trial failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      unmount(disk);
      if (!ctx.keep) rmTree(dir);
    }
    t.seconds = (performance.now() - t0) / 1000;
    ctx.log(
      `full-repo ${i}/${ctx.trials}: ${t.variant}: ${t.problems.length === 0 ? 'clean' : t.problems.join('; ')}`,
    );
    results.push(t);
  }
  return results;
}

/** Files whose name says they are unfinished (".tmp-…", ".bulwark-…") under dir. */
function listTemps(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^\.(tmp-|.*bulwark-)/.test(e.name)) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

export async function fullTargetKind(ctx: KindContext): Promise<TrialResult[]> {
  const { corpus, rand } = ctx;
  // one repository with v1, restored again and again
  const base = path.join(ctx.work, 'repo-home');
  const src = path.join(ctx.work, 'src', SOURCE_NAME);
  copyTree(corpus.v1, src);
  const cli: Cli = ctx.cli(path.join(base, 'home'));
  const repo = ['--repo', path.join(base, 'repo')];
  await cli.run(['init', ...repo, '-q']);
  const b = await cli.run(['backup', ...repo, src, '-q']);
  if (b.code !== 0) throw new Error(`the backup to restore from failed: ${brief(b, 4)}`);

  // the room a whole restore takes on a tmpfs (holes in sparse files take none)
  const calDisk = path.join(ctx.work, 'disk-calibrate');
  let needed: number;
  try {
    mountTmpfs(calDisk, corpus.bytes1 * 2 + 32 * MiB);
    const empty = usedBytes(calDisk);
    const r = await cli.run(['restore', ...repo, 'latest', '--target', path.join(calDisk, 'out'), '-q']);
    if (r.code !== 0) throw new Error(`a restore with room to spare failed: ${brief(r, 4)}`);
    needed = usedBytes(calDisk) - empty;
  } finally {
    unmount(calDisk);
    rmTree(calDisk);
  }
  ctx.log(
    `full-target: a whole restore takes ${fmtMiB(needed)} on a tmpfs (${fmtMiB(corpus.bytes1)} of files)`,
  );

  const results: TrialResult[] = [];
  for (let i = 1; i <= ctx.trials; i++) {
    const frac = 0.15 + 0.7 * rand.float();
    const size = Math.max(256 << 10, Math.round(frac * needed));
    const t = newTrial(
      'full-target',
      'full disk: restore target',
      i,
      `restore of ${fmtMiB(corpus.bytes1)} onto a ${fmtMiB(size)} tmpfs`,
    );
    const t0 = performance.now();
    const disk = path.join(ctx.work, `disk-${i}`);
    const target = path.join(disk, 'out');
    try {
      mountTmpfs(disk, size);
      const r = await cli.run(['restore', ...repo, 'latest', '--target', target]);
      const usedAfterFail = usedBytes(disk);
      const st = fs.statfsSync(disk);
      const freeAfterFail = st.bavail * st.bsize;
      let asked: number | undefined;
      if (r.code === 0) {
        t.triggered = false;
        t.notes.push('the restore fit on the disk');
      } else {
        const plain = plainFailure(r);
        const text = said(r);
        const full = /disk is full/i.test(text);
        const need = /free at least ([\d.]+ ?[KMGT]?i?B)/.exec(text);
        t.detected = plain.plain && full;
        t.named = t.detected && need !== null && text.includes(target);
        if (!plain.plain) t.problems.push(`the failed restore: ${plain.why}: ${brief(r, 4)}`);
        else if (!full) t.problems.push(`the failed restore does not say the disk is full: ${brief(r, 4)}`);
        else if (!need)
          t.problems.push(`the failed restore does not say how much room it needs: ${brief(r, 4)}`);
        if (/ENOSPC/.test(text)) t.notes.push(`the message shows the errno code: ${brief(r, 2)}`);
        if (need) t.variant += `; it asked to free at least ${need[1]}`;
        // what is there must be whole: no wrong bytes under a real name, no temporary file left
        const c = compare(corpus.m1, path.join(target, SOURCE_NAME));
        if (c.wrong.length > 0) {
          t.problems.push(
            `${c.wrong.length} files with WRONG BYTES under their real names: ${c.wrong.slice(0, 3).join(', ')}`,
          );
          t.lost += c.wrong.length;
        }
        if (c.leftovers.length > 0)
          t.problems.push(
            `${c.leftovers.length} half-written temporary files left: ${c.leftovers.slice(0, 3).join(', ')}`,
          );
        if (c.extra.length > 0) t.problems.push(`unexpected files: ${c.extra.slice(0, 3).join(', ')}`);
        t.notes.push(`${c.equal} of ${corpus.m1.size} files were restored whole before the disk filled`);
        asked = need ? parseSize(need[1]!) : undefined;
      }
      // room again: the same restore completes
      resizeTmpfs(disk, corpus.bytes1 * 2 + 32 * MiB);
      const again = await cli.run(['restore', ...repo, 'latest', '--target', target, '-q']);
      const c = compare(corpus.m1, path.join(target, SOURCE_NAME));
      const ok = again.code === 0 && isIdentical(c);
      if (!ok) {
        t.problems.push(`the restore with room again: ${brief(again, 4)}; ${describe(c)}`);
        t.lost += c.missing.length + (r.code === 0 ? c.wrong.length : 0);
      }
      t.recovered = ok;
      // was the amount it asked for enough? The restore that completed shows what it really took.
      const short = usedBytes(disk) - usedAfterFail - freeAfterFail;
      if (r.code !== 0 && ok && asked !== undefined && asked < short * 0.9)
        t.problems.push(
          `it asked to free ${fmtMiB(asked)}, but completing the restore needed ${fmtMiB(short)} more than was free`,
        );
    } catch (e) {
      t.problems.push(`trial failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      unmount(disk);
      rmTree(disk);
    }
    t.seconds = (performance.now() - t0) / 1000;
    ctx.log(
      `full-target ${i}/${ctx.trials}: ${t.variant}: ${t.problems.length === 0 ? 'clean' : t.problems.join('; ')}`,
    );
    results.push(t);
  }
  if (!ctx.keep) rmTree(base);
  return results;
}
