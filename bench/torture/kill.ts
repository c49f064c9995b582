/**
 * kill -9 in the middle of a backup. Each trial: a fresh repository and computer; the "initial" variant
 * kills the first backup of v1, the "second" variant backs v1 up, turns the source into v2 and kills that
 * backup. The kill comes after a random delay between 50 ms and the normal duration of that backup
 * (measured once beforehand). Then, as a person would: `verify --read-data` on what the kill left (it
 * must be consistent: no half snapshot), a normal backup (exit 0), `verify --read-data` (exit 0), and
 * restore latest = the source (and, for "second", the first snapshot = v1).
 * Detection does not apply: nobody is left to report a kill -9.
 */
import * as path from 'node:path';
import { mutateCorpus, mutateSmallFiles } from '../corpus.ts';
import { brief, snapshotIds, type Cli } from './cli.ts';
import {
  copyTree,
  newTrial,
  rmTree,
  sleep,
  SOURCE_NAME,
  type KindContext,
  type TrialResult,
} from './common.ts';
import { compare, describe, isIdentical, manifest, type Manifest } from './tree.ts';

type Variant = 'initial' | 'second';

/** The working day that turns v1 into v2 (deterministic: the same bytes as the reference v2). */
export function mutateSource(dir: string, seed: number): void {
  mutateCorpus(dir, { seed });
  mutateSmallFiles(path.join(dir, 'small'), { seed });
}

/** Restores `ref` into a fresh folder and compares it with `want`; adds problems, returns files lost. */
export async function restoreAndCompare(
  cli: Cli,
  repoArgs: string[],
  ref: string,
  target: string,
  want: Manifest,
  t: TrialResult,
  label: string,
): Promise<{ identical: boolean; lost: number }> {
  rmTree(target);
  const r = await cli.run(['restore', ...repoArgs, ref, '--target', target, '-q']);
  const c = compare(want, path.join(target, SOURCE_NAME));
  const identical = r.code === 0 && isIdentical(c);
  if (!identical) {
    t.problems.push(`${label}: ${brief(r)}; compared with the source: ${describe(c)}`);
  }
  rmTree(target);
  return { identical, lost: c.missing.length + c.wrong.length };
}

export async function killKind(ctx: KindContext, seed: number): Promise<TrialResult[]> {
  const { corpus, rand } = ctx;
  // How long a normal backup takes, for each variant (the kill comes somewhere within it).
  const cal = path.join(ctx.work, 'calibrate');
  const calSrc = path.join(cal, 'src', SOURCE_NAME);
  copyTree(corpus.v1, calSrc);
  const calCli = ctx.cli(path.join(cal, 'home'));
  const calRepo = ['--repo', path.join(cal, 'repo')];
  await calCli.run(['init', ...calRepo, '-q']);
  const first = await calCli.run(['backup', ...calRepo, calSrc, '-q']);
  mutateSource(calSrc, seed);
  const second = await calCli.run(['backup', ...calRepo, calSrc, '-q']);
  if (first.code !== 0 || second.code !== 0)
    throw new Error(`calibration backups failed: ${brief(first)}; ${brief(second)}`);
  const normal: Record<Variant, number> = { initial: first.ms, second: second.ms };
  ctx.log(
    `kill: a normal backup takes ${Math.round(first.ms)} ms (initial), ${Math.round(second.ms)} ms (second)`,
  );
  const m2 = manifest(calSrc);
  if (m2.size !== corpus.m2.size) throw new Error('the mutated source differs from the reference v2');
  rmTree(cal);

  const results: TrialResult[] = [];
  // the variants take turns (which one comes first is drawn), so a few trials cover both
  const firstTurn = rand.int(2);
  for (let i = 1; i <= ctx.trials; i++) {
    const variant: Variant = (firstTurn + i) % 2 === 0 ? 'initial' : 'second';
    let upper = Math.max(51, Math.round(normal[variant]));
    const missed: string[] = [];
    // A backup that ends before its kill (it ran faster than the calibration) is tried again from scratch,
    // with a delay below the time it took, so that every trial kills something.
    for (let attempt = 1; ; attempt++) {
      const delay = rand.between(50, upper);
      const { t, endedMs } = await killTrial(ctx, seed, i, variant, delay, attempt === 3);
      if (endedMs === undefined || attempt === 3) {
        t.notes.unshift(...missed);
        results.push(t);
        break;
      }
      missed.push(
        `a first try with a kill at ${delay} ms came too late: the backup had ended after ${Math.round(endedMs)} ms`,
      );
      upper = Math.max(51, Math.round(endedMs * 0.9));
    }
  }
  return results;
}

async function killTrial(
  ctx: KindContext,
  seed: number,
  i: number,
  variant: Variant,
  delay: number,
  lastTry: boolean,
): Promise<{ t: TrialResult; endedMs: number | undefined }> {
  const { corpus } = ctx;
  let endedMs: number | undefined;
  const t = newTrial('kill', 'kill -9 mid-backup', i, `${variant} backup killed after ${delay} ms`);
  const t0 = performance.now();
  const dir = path.join(ctx.work, `trial-${i}`);
  const src = path.join(dir, 'src', SOURCE_NAME);
  const cli = ctx.cli(path.join(dir, 'home'));
  const repo = ['--repo', path.join(dir, 'repo')];
  try {
    copyTree(corpus.v1, src);
    await cli.run(['init', ...repo, '-q']);
    const want = variant === 'second' ? corpus.m2 : corpus.m1;
    if (variant === 'second') {
      const b = await cli.run(['backup', ...repo, src, '-q']);
      if (b.code !== 0) throw new Error(`the first backup failed: ${brief(b)}`);
      mutateSource(src, seed);
    }
    const before = (await snapshotIds(cli, repo)) ?? [];

    // the fault
    const running = cli.start(['backup', ...repo, src, '-q']);
    const started = performance.now();
    while (!running.exited && performance.now() - started < delay) await sleep(5);
    const wasRunning = !running.exited;
    running.kill();
    const killed = await running.done;
    if (!wasRunning || killed.signal !== 'SIGKILL') {
      t.triggered = false;
      t.notes.push(`the backup ended (${brief(killed)}) before the kill at ${delay} ms`);
      endedMs = killed.ms;
      if (!lastTry) return { t, endedMs }; // tried again from scratch (the folder goes in `finally`)
    }
    const after = (await snapshotIds(cli, repo)) ?? [];
    if (after.length > before.length) t.variant += ' (after its snapshot was committed)';

    // what the kill left must be consistent: verify finds nothing, a committed snapshot is whole
    const v0 = await cli.run(['verify', ...repo, '--read-data', '-q']);
    if (v0.code !== 0) t.problems.push(`right after the kill, verify --read-data: ${brief(v0, 6)}`);

    // recovery: a normal backup, verify, restore
    const b = await cli.run(['backup', ...repo, src, '-q']);
    if (b.code !== 0) t.problems.push(`the next backup: ${brief(b, 6)}`);
    const v = await cli.run(['verify', ...repo, '--read-data', '-q']);
    if (v.code !== 0) t.problems.push(`verify --read-data after the next backup: ${brief(v, 6)}`);
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
      const ids = (await snapshotIds(cli, repo)) ?? [];
      const firstId = ids[0];
      if (firstId === undefined) {
        t.problems.push('the first snapshot is no longer listed');
        t.lost += corpus.m1.size;
        older = false;
      } else {
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
    }
    t.recovered = b.code === 0 && v.code === 0 && latest.identical && older;
  } catch (e) {
    t.problems.push(`trial failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    if (!ctx.keep) rmTree(dir);
  }
  t.seconds = (performance.now() - t0) / 1000;
  ctx.log(
    `kill ${i}/${ctx.trials}: ${t.variant}: ${t.problems.length === 0 ? 'clean' : t.problems.join('; ')}`,
  );
  return { t, endedMs };
}
