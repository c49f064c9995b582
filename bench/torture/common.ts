/** What every fault kind of the campaign shares: results, the seeded randomness, the corpus, helpers. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rng } from '../corpus.ts';
import type { Cli, CliResult } from './cli.ts';
import type { Manifest } from './tree.ts';

export const KINDS = ['kill', 'flip', 'full-repo', 'full-target', 'frozen'] as const;
export type KindName = (typeof KINDS)[number];

/** One fault, injected once, and everything that was checked afterwards. */
export interface TrialResult {
  kind: KindName;
  /** the table line it counts in: the kind, for flips the kind of object ("flip packs (data blob)") */
  row: string;
  trial: number;
  /** what exactly was done (delay, object and byte, disk size, when the server froze) */
  variant: string;
  /** false when the fault did not happen (the backup finished before the kill, ...) */
  triggered: boolean;
  /** the product noticed and said so in plain words; null where nobody is left to say it (kill -9) */
  detected: boolean | null;
  /** ...and named what is affected (the object, the files, how much space, which server) */
  named: boolean | null;
  /** the next normal command succeeded (after the documented step, if one) and the repository verifies */
  recovered: boolean;
  /**
   * files lost where they must not be: not restorable, or restored with other bytes, without having been
   * named as damaged; any file with wrong bytes under its real name counts here
   */
  lost: number;
  /** files named as damaged (verify, restore) and not restorable: the expected cost of a flipped object */
  namedLoss: number;
  /** undetected, but nothing changed that matters (whitespace, unauthenticated fields of a key) */
  harmless?: boolean;
  /** everything that was not clean: each one a finding */
  problems: string[];
  /** observations that are no failure (documented steps taken, messages that could be plainer) */
  notes: string[];
  seconds: number;
}

export function newTrial(kind: KindName, row: string, trial: number, variant: string): TrialResult {
  return {
    kind,
    row,
    trial,
    variant,
    triggered: true,
    detected: null,
    named: null,
    recovered: false,
    lost: 0,
    namedLoss: 0,
    problems: [],
    notes: [],
    seconds: 0,
  };
}

/** Seeded choices (mulberry32 of bench/corpus.ts): the same seed gives the same faults. */
export interface Rand {
  /** [0, 1) */
  float(): number;
  /** an integer in [0, n) */
  int(n: number): number;
  /** an integer in [lo, hi] */
  between(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
}

export function makeRand(seed: number, label: string): Rand {
  const r = rng(seed, `torture-${label}`);
  const float = (): number => r.u32() / 2 ** 32;
  return {
    float,
    int: (n) => Math.floor(float() * n),
    between: (lo, hi) => lo + Math.floor(float() * (hi - lo + 1)),
    pick<T>(xs: readonly T[]): T {
      if (xs.length === 0) throw new Error('pick from an empty list');
      return xs[Math.floor(float() * xs.length)] as T;
    },
  };
}

/**
 * The source in its two states, kept read-only as references: v1 (bench/corpus.ts makeCorpus plus a tree
 * of small files) and v2 (the same after a working day: mutateCorpus, mutateSmallFiles). Each lives in a
 * folder called `data`, so a restore of any backup of it lands in TARGET/data.
 */
export interface Corpus {
  v1: string;
  v2: string;
  m1: Manifest;
  m2: Manifest;
  bytes1: number;
  files1: number;
}

/** The folder name every backed-up source has (a restore puts it in TARGET/<this>). */
export const SOURCE_NAME = 'data';

export interface KindContext {
  /** a `bulwark` for a given BULWARK_HOME (and extra environment: S3 keys) */
  cli(home: string, env?: Record<string, string>): Cli;
  rand: Rand;
  /** this kind's scratch folder */
  work: string;
  corpus: Corpus;
  trials: number;
  keep: boolean;
  log(s: string): void;
}

/** `cp -a` (keeps modes and times; reflinks where the file system can). */
export function copyTree(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const r = spawnSync('cp', ['-a', '--reflink=auto', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to} failed: ${r.stderr || r.error?.message}`);
}

export function rmTree(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Whether a failed command said what went wrong in plain words: an exit status other than 0, a
 * `bulwark: ...` line, no "unexpected error", no stack trace, no bare errno code as the whole story.
 */
export function plainFailure(r: CliResult): { plain: boolean; why?: string } {
  const text = `${r.stderr}\n${r.stdout}`;
  if (r.timedOut) return { plain: false, why: 'it did not exit within its time limit' };
  if (r.code === 0) return { plain: false, why: 'it exited 0' };
  if (r.code === null) return { plain: false, why: `it died (${r.signal ?? 'signal'})` };
  if (/unexpected error/i.test(text)) return { plain: false, why: 'it reported an unexpected error' };
  if (/^\s+at .+\(.+:\d+:\d+\)$/m.test(text) || /node:internal/.test(text))
    return { plain: false, why: 'it printed a stack trace' };
  if (!/^bulwark: /m.test(text)) return { plain: false, why: 'it printed no `bulwark: ...` message' };
  return { plain: true };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const fmtMiB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
