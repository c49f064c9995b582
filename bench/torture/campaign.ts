/**
 * The fault campaign: builds the corpus, runs each fault kind's trials against the real CLI and sums
 * them up per table line. Used by bench/torture.ts (`npm run torture`) and, bounded, by
 * test/engine/torture.test.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeCorpus, makeSmallFiles } from '../corpus.ts';
import { Cli, DEFAULT_MAIN } from './cli.ts';
import {
  copyTree,
  fmtMiB,
  KINDS,
  makeRand,
  rmTree,
  SOURCE_NAME,
  type Corpus,
  type KindContext,
  type KindName,
  type TrialResult,
} from './common.ts';
import { flipKind, FLIP_TARGETS } from './flip.ts';
import { frozenKind, type S3Access } from './frozen.ts';
import { fullRepoKind, fullTargetKind } from './full-disk.ts';
import { killKind, mutateSource } from './kill.ts';
import { cannotMount } from './mount.ts';
import { manifest, totalBytes } from './tree.ts';

export interface CampaignOptions {
  trials: number;
  kinds: readonly KindName[];
  seed: number;
  /** leave the scratch folder */
  keep: boolean;
  /** where the scratch folder torture-<stamp> is made */
  scratch: string;
  /** bench/corpus.ts makeCorpus scale, and the number of extra small files (makeSmallFiles) */
  corpus: { scale: number; smallFiles: number };
  /** the CLI entry point (default src-main/cli/main.ts) */
  main?: string;
  /**
   * S3 for the frozen kind: a bucket with Object Lock on a server; or a function that provides one (and a
   * release); undefined: skip the kind with `s3Missing` as the reason
   */
  s3?: () => Promise<{ access: S3Access; release(): Promise<void> }>;
  s3Missing?: string;
  /** run the frozen kind alongside the others (it mostly waits for the store's timeouts) */
  overlapFrozen?: boolean;
  log?: (s: string) => void;
}

export interface RowSummary {
  row: string;
  kind: KindName;
  trials: number;
  /** trials in which the fault happened */
  triggered: number;
  /** of those, where detection applies */
  detectable: number;
  detected: number;
  named: number;
  recovered: number;
  lost: number;
  namedLoss: number;
  harmless: number;
  /** trials with at least one problem */
  unclean: number;
}

export interface CampaignResult {
  started: string;
  seconds: number;
  seed: number;
  options: Omit<CampaignOptions, 's3' | 'log'>;
  corpus?: { files: number; bytes: number; filesV2: number };
  /** kinds not run, and why (no root for mount, no S3 server) */
  skipped: Partial<Record<KindName, string>>;
  /** kinds that could not run their trials (the setup failed): a finding too */
  errors: Partial<Record<KindName, string>>;
  trials: TrialResult[];
  rows: RowSummary[];
  /** data lost where it must not be, a fault not detected, a kind that broke: `npm run torture` exits 1 */
  failures: string[];
}

const ROW_ORDER = [
  'kill -9 mid-backup',
  ...FLIP_TARGETS.map((t) => `flip ${t}`),
  'full disk: repository',
  'full disk: restore target',
  'frozen S3 server',
];

function makeCorpusPair(dir: string, o: CampaignOptions, log: (s: string) => void): Corpus {
  const v1 = path.join(dir, 'v1', SOURCE_NAME);
  const v2 = path.join(dir, 'v2', SOURCE_NAME);
  makeCorpus(v1, { scale: o.corpus.scale, seed: o.seed });
  if (o.corpus.smallFiles > 0)
    makeSmallFiles(path.join(v1, 'small'), { files: o.corpus.smallFiles, seed: o.seed });
  else fs.mkdirSync(path.join(v1, 'small'), { recursive: true });
  copyTree(v1, v2);
  mutateSource(v2, o.seed);
  // the references are never written again
  const m1 = manifest(v1);
  const m2 = manifest(v2);
  const bytes1 = totalBytes(m1);
  log(`corpus: v1 ${m1.size} files, ${fmtMiB(bytes1)}; v2 ${m2.size} files, ${fmtMiB(totalBytes(m2))}`);
  return { v1, v2, m1, m2, bytes1, files1: m1.size };
}

export function summarize(trials: readonly TrialResult[]): RowSummary[] {
  const rows = new Map<string, RowSummary>();
  for (const t of trials) {
    let r = rows.get(t.row);
    if (!r) {
      r = {
        row: t.row,
        kind: t.kind,
        trials: 0,
        triggered: 0,
        detectable: 0,
        detected: 0,
        named: 0,
        recovered: 0,
        lost: 0,
        namedLoss: 0,
        harmless: 0,
        unclean: 0,
      };
      rows.set(t.row, r);
    }
    r.trials++;
    if (t.triggered) r.triggered++;
    if (t.triggered && t.detected !== null) {
      r.detectable++;
      if (t.detected) r.detected++;
      if (t.named) r.named++;
    }
    if (t.recovered) r.recovered++;
    r.lost += t.lost;
    r.namedLoss += t.namedLoss;
    if (t.harmless) r.harmless++;
    if (t.problems.length > 0) r.unclean++;
  }
  const rank = (row: string): number => {
    const i = ROW_ORDER.indexOf(row);
    return i < 0 ? ROW_ORDER.length : i;
  };
  return [...rows.values()].sort((a, b) => rank(a.row) - rank(b.row));
}

export function failuresOf(trials: readonly TrialResult[], errors: CampaignResult['errors']): string[] {
  const out: string[] = [];
  for (const t of trials) {
    if (t.lost > 0) out.push(`${t.row} trial ${t.trial}: ${t.lost} files lost (${t.variant})`);
    if (t.triggered && t.detected === false && !t.harmless)
      out.push(`${t.row} trial ${t.trial}: the fault went undetected (${t.variant})`);
  }
  for (const [kind, e] of Object.entries(errors)) out.push(`${kind}: could not run: ${e}`);
  return out;
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, '-').toLowerCase();
  const work = path.join(o.scratch, `torture-${stamp}`);
  fs.mkdirSync(work, { recursive: true });
  const { s3: _s3, log: _log, ...options } = o;
  const result: CampaignResult = {
    started: started.toISOString(),
    seconds: 0,
    seed: o.seed,
    options,
    skipped: {},
    errors: {},
    trials: [],
    rows: [],
    failures: [],
  };
  try {
    const corpus = makeCorpusPair(path.join(work, 'corpus'), o, log);
    result.corpus = { files: corpus.files1, bytes: corpus.bytes1, filesV2: corpus.m2.size };
    const main = o.main ?? DEFAULT_MAIN;
    const compileCache = path.join(work, 'node-compile-cache');
    const ctxFor = (kind: KindName): KindContext => {
      const dir = path.join(work, kind);
      fs.mkdirSync(dir, { recursive: true });
      return {
        cli: (home, env) => new Cli({ main, home, compileCache, ...(env ? { env } : {}) }),
        rand: makeRand(o.seed, kind),
        work: dir,
        corpus,
        trials: o.trials,
        keep: o.keep,
        log,
      };
    };
    const mountProblem = o.kinds.some((k) => k === 'full-repo' || k === 'full-target')
      ? cannotMount()
      : undefined;
    const runKind = async (kind: KindName): Promise<void> => {
      const ctx = ctxFor(kind);
      const k0 = performance.now();
      log(`${kind}: ${o.trials} trial${o.trials === 1 ? '' : 's'} …`);
      try {
        let trials: TrialResult[];
        switch (kind) {
          case 'kill':
            trials = await killKind(ctx, o.seed);
            break;
          case 'flip':
            trials = await flipKind(ctx, o.seed);
            break;
          case 'full-repo':
          case 'full-target':
            if (mountProblem) {
              result.skipped[kind] = mountProblem;
              log(`${kind}: SKIPPED: ${mountProblem}`);
              return;
            }
            trials = kind === 'full-repo' ? await fullRepoKind(ctx, o.seed) : await fullTargetKind(ctx);
            break;
          case 'frozen': {
            if (!o.s3) {
              result.skipped.frozen = o.s3Missing ?? 'no S3 server';
              log(`frozen: SKIPPED: ${result.skipped.frozen}`);
              return;
            }
            const s3 = await o.s3();
            try {
              trials = await frozenKind(ctx, s3.access, stamp);
            } finally {
              await s3.release();
            }
            break;
          }
        }
        result.trials.push(...trials);
      } catch (e) {
        result.errors[kind] = e instanceof Error ? e.message : String(e);
        log(`${kind}: ERROR: ${result.errors[kind]}`);
      } finally {
        if (!o.keep) rmTree(ctx.work);
        log(`${kind}: done in ${((performance.now() - k0) / 1000).toFixed(0)} s`);
      }
    };
    const kinds = KINDS.filter((k) => o.kinds.includes(k));
    const overlapped = o.overlapFrozen !== false && kinds.includes('frozen') ? runKind('frozen') : undefined;
    for (const k of kinds) if (!(overlapped && k === 'frozen')) await runKind(k);
    await overlapped;
  } finally {
    if (!o.keep) rmTree(work);
    else log(`scratch folder kept: ${work}`);
  }
  result.trials.sort((a, b) => ROW_ORDER.indexOf(a.row) - ROW_ORDER.indexOf(b.row) || a.trial - b.trial);
  result.rows = summarize(result.trials);
  result.failures = failuresOf(result.trials, result.errors);
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

/** The table (one line per kind; flips one line per kind of object) and the details of what was not clean. */
export function formatReport(r: CampaignResult, verbose = false): string {
  const frac = (n: number, of: number): string => (of === 0 ? '-' : `${n}/${of}`);
  const rows: string[][] = r.rows.map((s) => [
    s.row,
    String(s.trials),
    s.detectable === 0 ? 'n/a' : frac(s.detected, s.detectable),
    s.detectable === 0 ? 'n/a' : frac(s.named, s.detectable),
    frac(s.recovered, s.trials),
    String(s.lost),
    String(s.namedLoss),
    [
      s.triggered < s.trials ? `${s.trials - s.triggered} not triggered` : '',
      s.harmless > 0 ? `${s.harmless} harmless` : '',
      s.unclean > 0 ? `${s.unclean} not clean` : '',
    ]
      .filter(Boolean)
      .join(', '),
  ]);
  for (const [kind, why] of Object.entries(r.skipped))
    rows.push([kind, '0', '', '', '', '', '', `SKIPPED: ${why}`]);
  for (const [kind, why] of Object.entries(r.errors))
    rows.push([kind, '', '', '', '', '', '', `ERROR: ${why.slice(0, 300)}`]);
  const lines = [
    textTable(['kind', 'trials', 'detected', 'named', 'recovered', 'lost', 'named loss', ''], rows),
    '',
    'detected: the product said so in plain words; named: ...and named the object, the files, the room needed or',
    'the server; recovered: the next normal command worked and the repository verifies; lost: files not restorable',
    'or with other bytes that nothing named (must be 0); named loss: files verify named as damaged that stayed lost.',
  ];
  const unclean = r.trials.filter((t) => t.problems.length > 0 || (verbose && t.notes.length > 0));
  if (unclean.length > 0) {
    lines.push('', 'details:');
    for (const t of unclean) {
      lines.push(`  ${t.row}, trial ${t.trial}: ${t.variant}`);
      for (const p of t.problems) lines.push(`    ! ${p}`);
      for (const n of t.notes) lines.push(`    - ${n}`);
    }
  }
  if (!verbose) {
    // notes of clean trials, once each: what the product asked for, what it said
    const seen = new Map<string, number>();
    for (const t of r.trials)
      if (t.problems.length === 0)
        for (const n of t.notes) seen.set(`${t.row}: ${n}`, (seen.get(`${t.row}: ${n}`) ?? 0) + 1);
    if (seen.size > 0) {
      lines.push('', 'notes (clean trials):');
      for (const [n, count] of seen) lines.push(`  - ${n}${count > 1 ? ` (${count}x)` : ''}`);
    }
  }
  lines.push(
    '',
    r.failures.length === 0
      ? `no data lost, every fault detected (${r.trials.length} trials, ${r.seconds.toFixed(0)} s)`
      : `FAILED:\n${r.failures.map((f) => `  ${f}`).join('\n')}`,
  );
  return lines.join('\n');
}

/** First and last columns left-aligned, the numbers between right-aligned. */
function textTable(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const last = headers.length - 1;
  const widths = headers.map((_, i) => (i === last ? 0 : Math.max(...all.map((c) => (c[i] ?? '').length))));
  const line = (c: string[]): string =>
    c
      .map((x, i) => (i === 0 ? x.padEnd(widths[i] ?? 0) : i === last ? x : x.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    widths
      .slice(0, last)
      .map((w) => '-'.repeat(w))
      .join('  '),
    ...rows.map(line),
  ].join('\n');
}
