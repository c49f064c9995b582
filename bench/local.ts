/**
 * One repetition of one tool on a local-folder repository: init, initial backup, no-change backup,
 * mutate (a working copy of the pristine corpus), backup after mutate, list, restore (+ a `diff -r`
 * check), repository and local-state sizes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { duBytes, failure, mustRun, run, type RunResult } from './proc.ts';
import type { Cmd, ToolName, ToolSession, ToolSpec } from './tools.ts';
import type { Trash } from './trash.ts';

export type StepName = 'init' | 'initial' | 'noChange' | 'afterMutate' | 'list' | 'restore';

export interface Step {
  seconds: number | null;
  rssKiB: number | null;
  /** CPU seconds (user + system) of the command */
  cpuSeconds: number | null;
  /** CPU seconds other processes on the machine used meanwhile */
  othersCpuSeconds: number | null;
  /** CPU seconds of the S3 server's daemons meanwhile (S3 part only) */
  serverCpuSeconds?: number | null;
  ok: boolean;
  error?: string;
  bytesAdded?: number | null;
}

export interface LocalRep {
  tool: ToolName;
  rep: number;
  /** place of the tool in this repetition's order (0 = ran first) */
  position: number;
  steps: Partial<Record<StepName, Step>>;
  repoBytesInitial?: number;
  repoBytesNoChange?: number;
  /** after the third backup (after mutate) */
  repoBytes?: number;
  /** caches, catalogs and other local state besides the repository */
  stateBytes?: number;
  mutateSeconds?: number;
  /** busy fraction of all CPUs just before the timed commands (after waiting for a quiet machine) */
  busyBefore?: number | null;
  /** 'identical', 'DIFFERS: …' or absent (not checked this repetition) */
  restoreCheck?: string;
  error?: string;
}

export interface BenchContext {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  log: (s: string) => void;
  /** waits for a quiet machine before timed commands; returns the busy fraction seen */
  waitQuiet: () => Promise<number | null>;
  /** where finished trees go until the run ends (trash.ts: deleting them would slow the next restore) */
  trash: Trash;
}

export async function runStep(
  ctx: BenchContext,
  session: ToolSession,
  cmd: Cmd,
  withBytes = false,
): Promise<{ step: Step; result: RunResult }> {
  const result = await run(cmd.cmd, cmd.args, {
    env: { ...ctx.env, ...session.env },
    timeoutMs: ctx.timeoutMs,
    ...(cmd.cwd !== undefined ? { cwd: cmd.cwd } : {}),
  });
  const err = failure(result);
  const step: Step = {
    seconds: result.ms / 1000,
    rssKiB: result.rssKiB,
    cpuSeconds: result.cpuSeconds,
    othersCpuSeconds: result.othersCpuSeconds,
    ...(result.serverCpuSeconds !== null ? { serverCpuSeconds: result.serverCpuSeconds } : {}),
    ok: err === undefined,
    ...(err !== undefined ? { error: err } : {}),
  };
  if (withBytes) step.bytesAdded = err === undefined ? session.bytesAdded(result.stdout) : null;
  return { step, result };
}

/** One log line's worth: time, bytes added, peak RSS, CPU, competing CPU use; or the error. */
export function describeStep(s: Step): string {
  if (!s.ok) return `FAILED ${s.error}`;
  return (
    `${s.seconds?.toFixed(2)} s` +
    (s.bytesAdded != null ? `, added ${(s.bytesAdded / 1e6).toFixed(1)} MB` : '') +
    (s.rssKiB != null ? `, RSS ${((s.rssKiB * 1024) / 1e6).toFixed(0)} MB` : '') +
    (s.cpuSeconds != null ? `, CPU ${s.cpuSeconds.toFixed(2)} s` : '') +
    (s.serverCpuSeconds != null ? `, server CPU ${s.serverCpuSeconds.toFixed(2)} s` : '') +
    (s.othersCpuSeconds != null && s.othersCpuSeconds > 0.1 * (s.seconds ?? 0)
      ? ` (other processes used ${s.othersCpuSeconds.toFixed(1)} CPU s meanwhile)`
      : '')
  );
}

/** `diff -r -q A B`: 'identical' or 'DIFFERS: <first lines>'. */
export async function treesIdentical(a: string, b: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (!fs.existsSync(b)) return `DIFFERS: ${b} does not exist after the restore`;
  const r = await run('diff', ['-r', '-q', '--no-dereference', a, b], {
    env,
    timeoutMs: 900_000,
    rss: false,
  });
  if (r.code === 0) return 'identical';
  const lines = (r.stdout + r.stderr).trim().split('\n');
  return `DIFFERS (${r.code === 1 ? `${lines.length} differences` : (failure(r) ?? '')}): ${lines.slice(0, 3).join(' | ')}`;
}

export async function copyTree(
  from: string,
  to: string,
  ctx: Pick<BenchContext, 'env' | 'trash'>,
): Promise<void> {
  const env = ctx.env;
  ctx.trash.discard(to);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  await mustRun('cp', ['-a', '--reflink=auto', from, to], { env, timeoutMs: 900_000 });
  // flush it now so write-back does not run during the timed commands
  await mustRun('sync', [], { env, timeoutMs: 300_000 });
}

export interface LocalRepOptions {
  spec: ToolSpec;
  rep: number;
  position: number;
  pristine: string;
  /** fixed path of the working copy (the same for every tool and repetition) */
  work: string;
  /** a folder for this run's repository, state and restore (removed afterwards) */
  dir: string;
  /** the corpus generator (bench/corpus.ts), run as `node GENERATOR WORK ...mutateArgs` */
  generator: string;
  /** its arguments for a working day's changes to this kind of tree (CorpusInfo.mutateArgs) */
  mutateArgs: string[];
  /** compare the restore with the source this time */
  check: boolean;
}

export async function runLocalRep(ctx: BenchContext, o: LocalRepOptions): Promise<LocalRep> {
  const rec: LocalRep = { tool: o.spec.name, rep: o.rep, position: o.position, steps: {} };
  const tag = `[${o.spec.name} rep ${o.rep + 1}]`;
  ctx.trash.discard(o.dir);
  fs.mkdirSync(o.dir, { recursive: true });
  const repo = path.join(o.dir, 'repo');
  const state = path.join(o.dir, 'state');
  const restoreDir = path.join(o.dir, 'restore');
  fs.mkdirSync(state);
  try {
    await copyTree(o.pristine, o.work, ctx);
    rec.busyBefore = await ctx.waitQuiet();
    const session = o.spec.session({ kind: 'local', dir: repo }, state);
    const step = async (name: StepName, cmd: Cmd, withBytes = false): Promise<boolean> => {
      const { step: s } = await runStep(ctx, session, cmd, withBytes);
      rec.steps[name] = s;
      ctx.log(`${tag} ${name}: ${describeStep(s)}`);
      if (!s.ok) rec.error ??= `${name}: ${s.error}`;
      return s.ok;
    };
    if (!(await step('init', session.init()))) return rec;
    if (!(await step('initial', session.backup(o.work, 1), true))) return rec;
    rec.repoBytesInitial = await duBytes(repo, ctx.env);
    if (!(await step('noChange', session.backup(o.work, 2), true))) return rec;
    rec.repoBytesNoChange = await duBytes(repo, ctx.env);

    const t0 = performance.now();
    await mustRun(process.execPath, [o.generator, o.work, ...o.mutateArgs], {
      env: ctx.env,
      timeoutMs: ctx.timeoutMs,
    });
    await mustRun('sync', [], { env: ctx.env, timeoutMs: 300_000 });
    rec.mutateSeconds = (performance.now() - t0) / 1000;

    if (!(await step('afterMutate', session.backup(o.work, 3), true))) return rec;
    rec.repoBytes = await duBytes(repo, ctx.env);
    await step('list', session.list());
    let stateBytes = 0;
    for (const d of session.stateDirs) stateBytes += await duBytes(d, ctx.env);
    rec.stateBytes = stateBytes;

    fs.mkdirSync(restoreDir);
    if (!(await step('restore', session.restore(restoreDir, 3)))) return rec;
    if (o.check) {
      rec.restoreCheck = await treesIdentical(o.work, session.restoredPath(restoreDir, o.work), ctx.env);
      ctx.log(`${tag} restore check (diff -r): ${rec.restoreCheck}`);
    }
    return rec;
  } catch (e) {
    rec.error ??= e instanceof Error ? e.message : String(e);
    ctx.log(`${tag} FAILED: ${rec.error}`);
    return rec;
  } finally {
    ctx.trash.discard(o.dir);
  }
}
