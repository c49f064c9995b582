#!/usr/bin/env node
/**
 * Bulwark against restic and borg, side by side, in one run (issue "Performance: benchmark against
 * restic and borg side by side").
 *
 *   node bench/run.ts [--trees corpus,small] [--scale S] [--small-files N] [--reps N] [--out DIR]
 *                     [--only bulwark,restic,borg] [--no-s3] [--s3-scale S] [--s3-small-files N]
 *                     [--s3-reps N] [--seed N] [--timeout SEC] [--max-minutes M] [--no-build] [--keep]
 *
 * See USAGE below for what it does. Progress goes to stderr, the tables to stdout, everything (raw
 * results and medians) to <out>/bench-<timestamp>.json. The last table holds the targets of issue 15
 * (ratios to restic in the same run) with ✓/✗.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runLocalRep, type BenchContext, type LocalRep, type Step } from './local.ts';
import { CORPUS_SCRIPT } from './corpus.ts';
import {
  abortAll,
  abortReason,
  haveGnuTime,
  killAllSync,
  run,
  tarThrough,
  waitForQuiet,
  GNU_TIME,
} from './proc.ts';
import { MB, MiB, median, ratio, table, type Row } from './report.ts';
import { runS3, type S3Rep, type S3Result } from './s3.ts';
import { buildBulwark, ensureCorpus, ensurePrograms, type CorpusInfo, type CorpusSpec } from './setup.ts';
import { borgSpec, bulwarkSpec, resticSpec, TOOL_NAMES, type ToolName, type ToolSpec } from './tools.ts';
import { Trash } from './trash.ts';

const USAGE = `usage: node bench/run.ts [options]

Builds the trees of bench/corpus.ts (reused when present): "corpus" (office files, media, VM images, a
mailbox) and "small" (a deep tree of 0-64 KiB files, like a source checkout or an office share). Then for
each tree and each tool (bulwark, restic, borg; order rotated every repetition), on a fresh repository each
repetition: init, initial backup, no-change backup, backup after bench/corpus.ts --mutate (on a copy of the
tree), list, restore of the latest snapshot (checked with diff -r once per tool), repository size (du -sb),
peak RSS of every command (GNU time). Then, unless --no-s3, bulwark and restic into the project's throw-away
Ceph RGW on 127.0.0.1 (smaller trees). Last, the targets of issue 15 next to the measured ratios, with ✓/✗.

  --trees LIST     comma-separated subset of corpus,small                  default both
  --scale S        corpus scale (1 = about 1 GiB)                         default 1
  --small-files N  files of the small-files tree                          default 80000
  --reps N         repetitions (medians are reported)                      default 3
  --out DIR        corpus, scratch space and results                      default <repo>/.bench
  --only LIST      comma-separated subset of bulwark,restic,borg           default all three
  --no-s3          skip the S3 (Ceph RGW) part
  --s3-scale S     corpus scale for the S3 part (RGW keeps data in RAM)    default 0.2
  --s3-small-files N  files of the small-files tree for the S3 part       default 16000
  --s3-reps N      repetitions of the S3 part                              default --reps
  --seed N         corpus seed                                             default 42
  --timeout SEC    limit for each command              default max(120, 900*scale, 900*small-files/80000)
  --max-minutes M  the whole run stops (what is left is skipped) after M   default: from scale and reps
  --idle-wait SEC  before each tool's timed commands, wait up to SEC for
                   the CPUs to be quiet (the machine may be shared)        default 120 (0: never wait)
  --no-build       do not run \`npm run build:main\` first (use dist/ as it is)
  --keep           keep the scratch folder <out>/tmp-<timestamp>
  -h, --help       this text`;

type TreeName = 'corpus' | 'small';
const TREE_NAMES: readonly TreeName[] = ['corpus', 'small'];

interface Options {
  trees: TreeName[];
  scale: number;
  smallFiles: number;
  reps: number;
  out: string;
  only: ToolName[];
  s3: boolean;
  s3Scale: number;
  s3SmallFiles: number;
  s3Reps: number;
  seed: number;
  timeoutSec: number;
  maxMinutes: number;
  idleWaitSec: number;
  build: boolean;
  keep: boolean;
}

class UsageError extends Error {}

function parseOptions(argv: string[], repoRoot: string): Options | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      trees: { type: 'string' },
      scale: { type: 'string' },
      'small-files': { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      'no-s3': { type: 'boolean' },
      's3-scale': { type: 'string' },
      's3-small-files': { type: 'string' },
      's3-reps': { type: 'string' },
      seed: { type: 'string' },
      timeout: { type: 'string' },
      'max-minutes': { type: 'string' },
      'idle-wait': { type: 'string' },
      'no-build': { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  const number = (name: string, raw: string | undefined, dflt: number, int = false): number => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n)))
      throw new UsageError(`--${name} must be a positive ${int ? 'integer' : 'number'}, got ${raw}`);
    return n;
  };
  const scale = number('scale', values.scale, 1);
  const smallFiles = number('small-files', values['small-files'], 80_000, true);
  const treeList = (values.trees ?? TREE_NAMES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of treeList)
    if (!(TREE_NAMES as readonly string[]).includes(t))
      throw new UsageError(`--trees: unknown tree ${t} (corpus, small)`);
  const trees = TREE_NAMES.filter((t) => treeList.includes(t));
  if (trees.length === 0) throw new UsageError('--trees selects no tree');
  const reps = number('reps', values.reps, 3, true);
  const only = (values.only ?? TOOL_NAMES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of only)
    if (!(TOOL_NAMES as readonly string[]).includes(t))
      throw new UsageError(`--only: unknown tool ${t} (bulwark, restic, borg)`);
  const tools = TOOL_NAMES.filter((t) => only.includes(t));
  if (tools.length === 0) throw new UsageError('--only selects no tool');
  const s3 = !values['no-s3'];
  const s3Reps = number('s3-reps', values['s3-reps'], reps, true);
  // the small-files tree takes about as long per file as the corpus at scale 1 takes for 80 000 files' worth
  const smallScale = trees.includes('small') ? smallFiles / 80_000 : 0;
  const corpusScale = trees.includes('corpus') ? scale : 0;
  const timeoutSec = number(
    'timeout',
    values.timeout,
    Math.max(120, Math.round(900 * Math.max(corpusScale, smallScale))),
  );
  const perTool = trees.reduce(
    (m, t) => m + Math.max(t === 'corpus' ? scale : smallScale, 0.1) * (t === 'corpus' ? 10 : 15) + 2,
    0,
  );
  const est = 10 + reps * tools.length * perTool + (s3 ? 10 + s3Reps * 5 * trees.length : 0);
  return {
    trees,
    scale,
    smallFiles,
    reps,
    out: path.resolve(values.out ?? path.join(repoRoot, '.bench')),
    only: tools,
    s3,
    s3Scale: number('s3-scale', values['s3-scale'], 0.2),
    s3SmallFiles: number('s3-small-files', values['s3-small-files'], 16_000, true),
    s3Reps,
    seed: number('seed', values.seed, 42, true),
    timeoutSec,
    maxMinutes: number('max-minutes', values['max-minutes'], Math.ceil(est)),
    idleWaitSec: values['idle-wait'] === '0' ? 0 : number('idle-wait', values['idle-wait'], 120),
    build: !values['no-build'],
    keep: values.keep === true,
  };
}

/** The environment every child gets: no proxies, no inherited tool settings, Node 24 first on PATH. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/proxy/i.test(k) || /^(BULWARK|RESTIC|BORG|AWS)_/.test(k)) continue;
    env[k] = v;
  }
  env.PATH = [path.dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter);
  env.AWS_EC2_METADATA_DISABLED = 'true'; // never look for instance credentials
  env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  env.LC_ALL = 'C';
  return env;
}

// --- medians and tables ------------------------------------------------------------------------------

type Metric<R> = {
  key: string;
  label: string;
  digits: number;
  get: (r: R) => number | null;
  /** no bulwark/other ratio for this row */
  noRatio?: boolean;
};

const secs = (s: Step | undefined): number | null => (s?.ok && s.seconds !== null ? s.seconds : null);
const perSec = (bytes: number, s: Step | undefined): number | null => {
  const t = secs(s);
  return t === null || t === 0 ? null : bytes / MiB / t;
};
const rssMB = (steps: (Step | undefined)[]): number | null => {
  const v = steps.filter((s) => s?.ok && s.rssKiB != null).map((s) => (s?.rssKiB ?? 0) * 1024);
  return v.length ? Math.max(...v) / MB : null;
};
const mb = (n: number | null | undefined): number | null => (typeof n === 'number' ? n / MB : null);
const cpu = (s: Step | undefined): number | null => (s?.ok ? s.cpuSeconds : null);
/** Percentage of all CPUs other processes used during a run's timed commands. */
function othersLoadPct(steps: Partial<Record<string, Step>>): number | null {
  let others = 0;
  let wall = 0;
  for (const s of Object.values(steps)) {
    if (!s || s.seconds === null || s.othersCpuSeconds === null) continue;
    others += s.othersCpuSeconds;
    wall += s.seconds;
  }
  return wall > 0 ? (100 * others) / (wall * (os.cpus().length || 1)) : null;
}
const othersRow = <R extends { steps: Partial<Record<string, Step>> }>(): Metric<R> => ({
  key: 'othersLoadPct',
  label: "others' CPU use while timed, %",
  digits: 0,
  get: (r) => othersLoadPct(r.steps),
  noRatio: true,
});

function localMetrics(corpus: CorpusInfo): Metric<LocalRep>[] {
  return [
    { key: 'initSeconds', label: 'init s', digits: 2, get: (r) => secs(r.steps.init) },
    { key: 'initialSeconds', label: 'initial backup s', digits: 2, get: (r) => secs(r.steps.initial) },
    {
      key: 'initialMiBps',
      label: 'initial backup MiB/s',
      digits: 0,
      get: (r) => perSec(corpus.bytes, r.steps.initial),
    },
    { key: 'initialCpuSeconds', label: 'initial backup CPU s', digits: 2, get: (r) => cpu(r.steps.initial) },
    { key: 'noChangeSeconds', label: 'no-change backup s', digits: 2, get: (r) => secs(r.steps.noChange) },
    {
      key: 'afterMutateSeconds',
      label: 'after-mutate backup s',
      digits: 2,
      get: (r) => secs(r.steps.afterMutate),
    },
    {
      key: 'afterMutateAddedMB',
      label: 'after-mutate added MB (tool)',
      digits: 2,
      get: (r) => (r.steps.afterMutate?.ok ? mb(r.steps.afterMutate.bytesAdded) : null),
    },
    {
      key: 'afterMutateGrowthMB',
      label: 'after-mutate repo growth MB',
      digits: 2,
      get: (r) =>
        r.repoBytes !== undefined && r.repoBytesNoChange !== undefined
          ? (r.repoBytes - r.repoBytesNoChange) / MB
          : null,
    },
    { key: 'restoreSeconds', label: 'restore s', digits: 2, get: (r) => secs(r.steps.restore) },
    { key: 'restoreCpuSeconds', label: 'restore CPU s', digits: 2, get: (r) => cpu(r.steps.restore) },
    {
      key: 'restoreMiBps',
      label: 'restore MiB/s',
      digits: 0,
      get: (r) => perSec(corpus.bytes, r.steps.restore),
    },
    { key: 'listSeconds', label: 'list snapshots s', digits: 2, get: (r) => secs(r.steps.list) },
    { key: 'repoMB', label: 'repo size MB (3 snapshots)', digits: 1, get: (r) => mb(r.repoBytes) },
    { key: 'stateMB', label: 'local cache/state MB', digits: 1, get: (r) => mb(r.stateBytes) },
    {
      key: 'rssBackupMB',
      label: 'peak RSS backup MB',
      digits: 0,
      get: (r) => rssMB([r.steps.initial, r.steps.noChange, r.steps.afterMutate]),
    },
    { key: 'rssRestoreMB', label: 'peak RSS restore MB', digits: 0, get: (r) => rssMB([r.steps.restore]) },
    othersRow<LocalRep>(),
  ];
}

function s3Metrics(corpus: CorpusInfo): Metric<S3Rep>[] {
  return [
    { key: 'initSeconds', label: 'init s', digits: 2, get: (r) => secs(r.steps.init) },
    { key: 'initialSeconds', label: 'initial backup s', digits: 2, get: (r) => secs(r.steps.initial) },
    {
      key: 'sourceMiBps',
      label: 'backup MiB/s of source',
      digits: 1,
      get: (r) => perSec(corpus.bytes, r.steps.initial),
    },
    { key: 'storedMB', label: 'stored in bucket MB', digits: 1, get: (r) => mb(r.storedBytes) },
    {
      key: 'uploadMiBps',
      label: 'upload MiB/s (stored/initial)',
      digits: 1,
      get: (r) => (r.storedBytes === undefined ? null : perSec(r.storedBytes, r.steps.initial)),
    },
    { key: 'initialCpuSeconds', label: 'initial backup CPU s', digits: 2, get: (r) => cpu(r.steps.initial) },
    { key: 'noChangeSeconds', label: 'no-change backup s', digits: 2, get: (r) => secs(r.steps.noChange) },
    { key: 'restoreSeconds', label: 'restore s', digits: 2, get: (r) => secs(r.steps.restore) },
    { key: 'restoreCpuSeconds', label: 'restore CPU s', digits: 2, get: (r) => cpu(r.steps.restore) },
    {
      key: 'serverCpuSeconds',
      label: 'RGW+OSD CPU s (backup+restore)',
      digits: 2,
      get: (r) => {
        const v = [r.steps.initial, r.steps.restore].map((s) => (s?.ok ? s.serverCpuSeconds : null));
        return v.every((x) => typeof x === 'number') ? v.reduce((a: number, b) => a + (b ?? 0), 0) : null;
      },
    },
    {
      key: 'restoreMiBps',
      label: 'restore MiB/s',
      digits: 1,
      get: (r) => perSec(corpus.bytes, r.steps.restore),
    },
    {
      key: 'rssBackupMB',
      label: 'peak RSS backup MB',
      digits: 0,
      get: (r) => rssMB([r.steps.initial, r.steps.noChange]),
    },
    { key: 'rssRestoreMB', label: 'peak RSS restore MB', digits: 0, get: (r) => rssMB([r.steps.restore]) },
    othersRow<S3Rep>(),
  ];
}

type Medians = Partial<Record<ToolName, Record<string, number | null>>>;

function medians<R extends { tool: ToolName }>(runs: R[], metrics: Metric<R>[], tools: ToolName[]): Medians {
  const out: Medians = {};
  for (const t of tools) {
    const mine = runs.filter((r) => r.tool === t);
    out[t] = Object.fromEntries(
      metrics.map((m) => [m.key, median(mine.map(m.get).filter((v): v is number => v !== null))]),
    );
  }
  return out;
}

/** Rows of medians, ratio columns bulwark/<other>, then the restore check and any error. */
function toolTable<R extends { tool: ToolName; restoreCheck?: string; error?: string }>(
  runs: R[],
  metrics: Metric<R>[],
  meds: Medians,
  tools: ToolName[],
): string {
  const others = tools.includes('bulwark') ? tools.filter((t) => t !== 'bulwark') : [];
  const headers = ['median', ...tools, ...others.map((o) => `bulwark/${o}`)];
  const rows: Row[] = metrics.map((m) => {
    const vals = tools.map((t) => meds[t]?.[m.key] ?? null);
    const b = meds.bulwark?.[m.key] ?? null;
    return {
      label: m.label,
      digits: m.digits,
      values: [...vals, ...others.map((o) => (m.noRatio ? '' : ratio(b, meds[o]?.[m.key] ?? null)))],
    };
  });
  const pad = others.map(() => '');
  rows.push({
    label: 'restore = source (diff -r)',
    values: [
      ...tools.map((t) => {
        const c = runs.find((r) => r.tool === t && r.restoreCheck !== undefined)?.restoreCheck;
        return c === undefined ? 'not checked' : c === 'identical' ? 'yes' : 'NO';
      }),
      ...pad,
    ],
  });
  rows.push({
    label: 'failed runs',
    values: [
      ...tools.map((t) => {
        const mine = runs.filter((r) => r.tool === t);
        const failed = mine.filter((r) => r.error !== undefined).length;
        return failed === 0 ? `0/${mine.length}` : `ERR ${failed}/${mine.length}`;
      }),
      ...pad,
    ],
  });
  return table(headers, rows);
}

function errorLines<R extends { tool: ToolName; rep: number; error?: string; restoreCheck?: string }>(
  prefix: string,
  runs: R[],
): string[] {
  const lines: string[] = [];
  for (const r of runs) {
    if (r.error) lines.push(`${prefix}${r.tool} rep ${r.rep + 1}: ${r.error}`);
    if (r.restoreCheck && r.restoreCheck !== 'identical')
      lines.push(`${prefix}${r.tool} rep ${r.rep + 1}: restore check: ${r.restoreCheck}`);
  }
  return lines;
}

interface FloorRun {
  /** tar cf - | sha256sum */
  seconds: number;
  /** tar cf - | cat > /dev/null */
  catSeconds: number;
  sha256: string;
}

interface ReadFloor {
  warmupSeconds: number;
  runs: FloorRun[];
  median: number | null;
  catMedian: number | null;
}

interface TreeResult {
  name: TreeName;
  corpus: CorpusInfo;
  readFloor: ReadFloor;
  local: { runs: LocalRep[]; medians: Medians };
}

/**
 * The read floor of a tree: a warm-up read now (so every tool starts with the tree in the page cache), then
 * `measure()` once per repetition times `tar cf - | sha256sum` and `tar cf - | cat`.
 */
async function readFloorProbe(
  corpus: CorpusInfo,
  ctx: BenchContext,
  problems: string[],
  log: (s: string) => void,
): Promise<{ result: ReadFloor; measure: () => Promise<void> }> {
  const name = path.basename(corpus.dir);
  const tarRun = (sink: string) => tarThrough(corpus.dir, sink, { env: ctx.env, timeoutMs: ctx.timeoutMs });
  const warm = await tarRun('cat > /dev/null');
  const result: ReadFloor = { warmupSeconds: warm.ms / 1000, runs: [], median: null, catMedian: null };
  const measure = async (): Promise<void> => {
    await ctx.waitQuiet();
    const c = await tarRun('cat > /dev/null');
    const r = await tarRun('sha256sum');
    if (r.code !== 0 || c.code !== 0) {
      problems.push(`read floor of ${name}: tar failed: ${(r.stderr + c.stderr).trim().slice(-300)}`);
      return;
    }
    const sha256 = r.stdout.split(/\s/)[0] ?? '';
    if (result.runs.length > 0 && result.runs[0]?.sha256 !== sha256)
      problems.push(`the pristine tree ${name} changed during the run (tar stream hash differs)`);
    result.runs.push({ seconds: r.ms / 1000, catSeconds: c.ms / 1000, sha256 });
    log(
      `read floor of ${name}: tar cf - | sha256sum ${(r.ms / 1000).toFixed(2)} s; tar cf - | cat ${(c.ms / 1000).toFixed(2)} s`,
    );
  };
  return { result, measure };
}

// --- the targets of issue 15 ----------------------------------------------------------------------------

/** One target: bulwark's median over restic's median for `key` must be at most `max`. */
interface TargetSpec {
  label: string;
  key: string;
  max: number;
}

/**
 * The targets (issue 15, "Performance, round two"), as ratios to restic in the same run. The no-change
 * target is 0.35x on full-size trees and 0.6x on small ones (scale <= 0.2, or a small-files tree of at
 * most 16 000 files): there the fixed costs (process start, opening the catalog and the index) count.
 */
function localTargets(corpus: CorpusInfo): TargetSpec[] {
  const small = corpus.scale <= 0.2;
  return [
    { label: 'initial backup time', key: 'initialSeconds', max: 0.45 },
    {
      label: `no-change backup time${small ? ' (small tree)' : ''}`,
      key: 'noChangeSeconds',
      max: small ? 0.6 : 0.35,
    },
    { label: 'restore time', key: 'restoreSeconds', max: 0.55 },
    { label: 'peak RSS backup', key: 'rssBackupMB', max: 1.5 },
    { label: 'peak RSS restore', key: 'rssRestoreMB', max: 1.5 },
  ];
}
const S3_TARGETS: TargetSpec[] = [
  { label: 'initial backup time', key: 'initialSeconds', max: 0.8 },
  { label: 'no-change backup time', key: 'noChangeSeconds', max: 0.6 },
  { label: 'restore time', key: 'restoreSeconds', max: 0.7 },
  { label: 'peak RSS backup', key: 'rssBackupMB', max: 1.5 },
  { label: 'peak RSS restore', key: 'rssRestoreMB', max: 1.5 },
];

/** Every target next to its measured ratio (medians of the repetitions), ✓ met, ✗ missed; null without restic. */
function targetsTable(
  trees: TreeResult[],
  s3: { trees: { name: string; corpus: CorpusInfo }[]; medians?: Partial<Record<string, Medians>> } | null,
  reps: number,
): string | null {
  const rows: Row[] = [];
  let met = 0;
  let missed = 0;
  const add = (where: string, t: TargetSpec, meds: Medians | undefined): void => {
    const b = meds?.bulwark?.[t.key] ?? null;
    const r = meds?.restic?.[t.key] ?? null;
    const q = b !== null && r !== null && r > 0 ? b / r : null;
    const verdict = q === null ? 'not measured' : q <= t.max ? '✓' : '✗';
    if (q !== null) {
      if (q <= t.max) met++;
      else missed++;
    }
    rows.push({
      label: `${where}: ${t.label}`,
      digits: 2,
      values: [b, r, q === null ? null : `${q.toFixed(2)}x`, `<= ${t.max.toFixed(2)}x`, verdict],
    });
  };
  for (const t of trees) {
    if (!t.local.medians.restic || !t.local.medians.bulwark) continue;
    for (const spec of localTargets(t.corpus)) add(`${t.name} local`, spec, t.local.medians);
  }
  for (const t of s3?.trees ?? []) {
    const meds = s3?.medians?.[t.name];
    if (!meds?.restic || !meds.bulwark) continue;
    for (const spec of S3_TARGETS) add(`${t.name} S3`, spec, meds);
  }
  if (rows.length === 0) return null;
  return [
    `Targets (issue 15): bulwark/restic, medians of ${reps} repetition(s) from this run; ${met} met, ${missed} missed`,
    '',
    table(['target', 'bulwark', 'restic', 'ratio', 'target', 'met'], rows),
  ].join('\n');
}

// --- main ------------------------------------------------------------------------------------------------

async function firstLine(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const r = await run(cmd, args, { env, timeoutMs: 30_000, rss: false });
    return (r.stdout.trim().split('\n')[0] ?? '').trim() || `(exit ${r.code})`;
  } catch (e) {
    return `unavailable: ${String(e)}`;
  }
}

async function main(): Promise<number> {
  const repoRoot = path.resolve(import.meta.dirname, '..');
  let o: Options | 'help';
  try {
    o = parseOptions(process.argv.slice(2), repoRoot);
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (o === 'help') {
    console.log(USAGE);
    return 0;
  }
  const opts = o;
  const t0 = performance.now();
  const log = (s: string): void => {
    const t = (performance.now() - t0) / 1000;
    console.error(
      `[${String(Math.floor(t / 60)).padStart(2, '0')}:${String(Math.floor(t % 60)).padStart(2, '0')}] ${s}`,
    );
  };
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  fs.mkdirSync(opts.out, { recursive: true });
  const tmp = path.join(opts.out, `tmp-${stamp}`);
  fs.mkdirSync(tmp);
  const resultsPath = path.join(opts.out, `bench-${stamp}.json`);
  const trash = new Trash(path.join(tmp, 'trash'), log);
  const cleanup = (): void => {
    killAllSync();
    trash.empty();
    if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping`);
      abortAll(`interrupted (${sig})`);
      process.exit(130); // 'exit' handlers: children, scratch folder, and the RGW harness's daemons
    });
  }
  const deadline = setTimeout(() => {
    log(`deadline of ${opts.maxMinutes} min reached: stopping what runs, skipping the rest`);
    abortAll(`deadline of ${opts.maxMinutes} min reached`);
  }, opts.maxMinutes * 60_000);
  deadline.unref();

  const env = baseEnv();
  const problems: string[] = [];
  const generator = CORPUS_SCRIPT;

  // 1. programs, build
  const allSpecs = new Map<ToolName, ToolSpec>([
    ['bulwark', bulwarkSpec(path.join(repoRoot, 'dist/src-main/cli/main.js'))],
    ['restic', resticSpec],
    ['borg', borgSpec],
  ]);
  const wanted = [
    { program: GNU_TIME, pkg: 'time' },
    ...opts.only.flatMap((t) => allSpecs.get(t)?.programs ?? []),
  ];
  const missing = await ensurePrograms(wanted, env, log);
  if (missing.has(GNU_TIME)) problems.push(`peak RSS not measured: ${missing.get(GNU_TIME)}`);
  const specs: ToolSpec[] = [];
  for (const t of opts.only) {
    const spec = allSpecs.get(t) as ToolSpec;
    const gone = spec.programs.find((p) => missing.has(p.program));
    if (gone) problems.push(`${t} skipped: ${missing.get(gone.program)}`);
    else specs.push(spec);
  }
  let build: Record<string, unknown> = { skipped: true };
  if (specs.some((s) => s.name === 'bulwark') && opts.build) {
    log('npm run build:main …');
    try {
      build = { seconds: (await buildBulwark(repoRoot, env)) / 1000 };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      build = { error: msg };
      if (fs.existsSync(path.join(repoRoot, 'dist/src-main/cli/main.js'))) {
        problems.push(
          `npm run build:main failed; benchmarking the dist/ already there: ${msg.slice(0, 500)}`,
        );
        log('build failed: using the existing dist/');
      } else {
        problems.push(`bulwark skipped: npm run build:main failed: ${msg.slice(0, 500)}`);
        specs.splice(
          specs.findIndex((s) => s.name === 'bulwark'),
          1,
        );
      }
    }
  }
  if (specs.length === 0) {
    console.error(`no tool to benchmark:\n${problems.join('\n')}`);
    return 1;
  }
  const versions: Record<string, string> = {};
  for (const s of specs) versions[s.name] = await firstLine(s.versionCmd.cmd, s.versionCmd.args, env);
  const commit = await firstLine('git', ['-C', repoRoot, 'rev-parse', 'HEAD'], env);
  const dirty = await run('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'src-main'], {
    env,
    timeoutMs: 30_000,
    rss: false,
  }).then(
    (r) => r.stdout.trim() !== '',
    () => null,
  );
  log(`tools: ${specs.map((s) => `${s.name} (${versions[s.name]})`).join(', ')}`);

  const results = {
    benchmark: 'bulwark-vs-restic-borg',
    formatVersion: 2,
    started: started.toISOString(),
    finished: null as string | null,
    options: opts,
    host: {
      hostname: os.hostname(),
      kernel: os.release(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      memTotalBytes: os.totalmem(),
      node: process.version,
    },
    bulwark: { commit, srcMainDirty: dirty, build },
    versions,
    notes: [
      'restic: repository format 2 (zstd auto), password, scrypt KDF; borg: repokey-blake2, lz4 (default); bulwark: BULWARK_PASSWORD, real KDF, zstd',
      'bytes added: bulwark stats.bytesAdded, restic summary data_added, borg archive deduplicated_size (each as the tool counts it)',
      'every tool-repetition backs up a fresh cp -a copy of the pristine tree at the same path; caches are warm (no drop_caches)',
    ],
    /** one entry per tree (--trees): the pristine tree, its read floor, the local runs and their medians */
    trees: [] as TreeResult[],
    s3: null as (S3Result & { medians?: Partial<Record<string, Medians>> }) | null,
    problems,
  };
  const save = (): void => {
    results.finished = new Date().toISOString();
    fs.writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
  };
  const ctx: BenchContext = {
    env,
    timeoutMs: opts.timeoutSec * 1000,
    log,
    async waitQuiet() {
      if (opts.idleWaitSec === 0) return null;
      const busy = await waitForQuiet(opts.idleWaitSec * 1000);
      if (busy !== null && busy >= 0.25)
        log(`the machine stays busy (${Math.round(busy * 100)}% of the CPUs in use): timing anyway`);
      return busy;
    },
    trash,
  };
  const treeSpec = (tree: TreeName, s3: boolean): CorpusSpec =>
    tree === 'corpus'
      ? { kind: 'mixed', scale: s3 ? opts.s3Scale : opts.scale, seed: opts.seed }
      : { kind: 'small-files', files: s3 ? opts.s3SmallFiles : opts.smallFiles, seed: opts.seed };
  const tools = specs.map((s) => s.name);

  // 2. per tree: the pristine tree, a warm-up read, the read floor, local repositories (tools rotated
  // within each repetition)
  for (const tree of opts.trees) {
    if (abortReason()) break;
    const corpus = await ensureCorpus(opts.out, generator, treeSpec(tree, false), env, log);
    const floor = await readFloorProbe(corpus, ctx, problems, log);
    const entry: TreeResult = {
      name: tree,
      corpus,
      readFloor: floor.result,
      local: { runs: [], medians: {} },
    };
    results.trees.push(entry);
    const work = path.join(tmp, 'work', tree);
    const checked = new Set<ToolName>();
    for (let rep = 0; rep < opts.reps && !abortReason(); rep++) {
      await floor.measure();
      const order = specs.map((_, i) => specs[(i + rep) % specs.length] as ToolSpec);
      for (const [position, spec] of order.entries()) {
        if (abortReason()) break;
        const rec = await runLocalRep(ctx, {
          spec,
          rep,
          position,
          pristine: corpus.dir,
          work,
          dir: path.join(tmp, `${tree}-${spec.name}-r${rep}`),
          generator,
          mutateArgs: corpus.mutateArgs,
          check: !checked.has(spec.name),
        });
        if (rec.restoreCheck !== undefined) checked.add(spec.name);
        entry.local.runs.push(rec);
        save();
      }
    }
    trash.discard(path.dirname(work));
    floor.result.median = median(floor.result.runs.map((r) => r.seconds));
    floor.result.catMedian = median(floor.result.runs.map((r) => r.catSeconds));
    entry.local.medians = medians(entry.local.runs, localMetrics(corpus), tools);
    save();
  }

  // 3. S3: one RGW, every tree (smaller: the RGW keeps its data in RAM)
  if (opts.s3 && !abortReason()) {
    const s3Specs = specs.filter((s) => s.supportsS3);
    try {
      const s3Trees: { name: string; corpus: CorpusInfo }[] = [];
      for (const tree of opts.trees)
        s3Trees.push({
          name: tree,
          corpus: await ensureCorpus(opts.out, generator, treeSpec(tree, true), env, log),
        });
      const s3 = await runS3(ctx, { specs: s3Specs, trees: s3Trees, reps: opts.s3Reps, tmp, stamp });
      results.s3 = {
        ...s3,
        medians: Object.fromEntries(
          s3Trees.map((t) => [
            t.name,
            medians(
              s3.runs.filter((r) => r.tree === t.name),
              s3Metrics(t.corpus),
              s3Specs.map((s) => s.name),
            ),
          ]),
        ),
      };
    } catch (e) {
      results.s3 = { trees: [], runs: [], error: e instanceof Error ? e.message : String(e) };
    }
    save();
  }
  for (const r of [...results.trees.flatMap((t) => t.local.runs), ...(results.s3?.runs ?? [])]) {
    const pct = othersLoadPct(r.steps);
    if (pct !== null && pct >= 15)
      problems.push(
        `${'prefix' in r ? `s3 ${r.tree} ` : ''}${r.tool} rep ${r.rep + 1}: other processes used ${pct.toFixed(0)}% of the CPUs during its timed commands (times inflated)`,
      );
  }
  if (abortReason()) problems.push(`run cut short: ${abortReason()}`);
  save();

  // 4. report
  const gib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
  const out: string[] = [];
  out.push('');
  out.push(
    `Bulwark ${versions.bulwark ?? '-'} (${commit.slice(0, 10)}${dirty ? ', src-main modified' : ''}) vs ${specs
      .filter((s) => s.name !== 'bulwark')
      .map((s) => versions[s.name])
      .join(', ')}`,
  );
  out.push(
    `host: ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; ` +
      `${opts.reps} repetition(s), medians`,
  );
  for (const t of results.trees) {
    const { corpus, readFloor: floor } = t;
    out.push('');
    out.push(
      `${t.name}: ${corpus.label} seed ${corpus.seed}: ${corpus.files} files, ${gib(corpus.bytes)}; ${t.local.runs.length} runs`,
    );
    out.push('');
    out.push(toolTable(t.local.runs, localMetrics(corpus), t.local.medians, tools));
    const fm = floor.median;
    out.push(
      `read floor (tar cf - | sha256sum, warm cache): ${fm === null ? '-' : `${fm.toFixed(2)} s, ${(corpus.bytes / MiB / fm).toFixed(0)} MiB/s`}` +
        `; tar cf - | cat: ${floor.catMedian === null ? '-' : `${floor.catMedian.toFixed(2)} s`}` +
        ` (first, warm-up read: ${floor.warmupSeconds.toFixed(2)} s)`,
    );
    const errs = errorLines('', t.local.runs);
    if (errs.length) out.push('', 'errors:', ...errs.map((l) => `  ${l}`));
  }
  if (results.s3) {
    const s3 = results.s3;
    if (s3.error && s3.runs.length === 0) out.push('', `S3 (Ceph RGW): not run: ${s3.error}`);
    for (const t of s3.trees) {
      const runs = s3.runs.filter((r) => r.tree === t.name);
      const s3Tools = [...new Set(runs.map((r) => r.tool))];
      out.push('');
      out.push(
        `S3 ${t.name}: Ceph RGW on ${s3.endpoint ?? '-'} (memstore), bucket with Object Lock; ${t.corpus.label}: ` +
          `${t.corpus.files} files, ${gib(t.corpus.bytes)}`,
      );
      out.push('');
      out.push(toolTable(runs, s3Metrics(t.corpus), s3.medians?.[t.name] ?? {}, s3Tools));
      const e3 = errorLines('', runs);
      if (e3.length) out.push('', 'S3 errors:', ...e3.map((l) => `  ${l}`));
    }
    if (s3.error && s3.runs.length > 0) out.push('', `S3 part stopped: ${s3.error}`);
  }
  const targets = targetsTable(results.trees, results.s3, opts.reps);
  if (targets) out.push('', targets);
  if (problems.length) out.push('', 'problems:', ...problems.map((p) => `  ${p}`));
  out.push('', `raw results and medians: ${resultsPath}`);
  console.log(out.join('\n'));
  const anyFailed =
    results.trees.some((t) =>
      t.local.runs.some((r) => r.error || (r.restoreCheck && r.restoreCheck !== 'identical')),
    ) ||
    (results.s3?.runs ?? []).some((r) => r.error || (r.restoreCheck && r.restoreCheck !== 'identical')) ||
    results.s3?.error !== undefined ||
    abortReason() !== undefined;
  return anyFailed ? 1 : 0;
}

if (!haveGnuTime()) console.error('note: /usr/bin/time is missing; the benchmark will try to install it');
main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  },
);
