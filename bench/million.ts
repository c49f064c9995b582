#!/usr/bin/env node
/**
 * The scale benchmark (issue "Performance", must-show 2): a generated tree of a million small files,
 * backed up once and then re-scanned with nothing changed, then re-scanned after touching 0.1 % of the
 * files, with wall time and peak RSS of every command (GNU time). Restic on the same tree with --restic.
 * Before each tool the tree is read once (tar), so each starts with it in the page cache.
 *
 *   node bench/million.ts [--files N] [--out DIR] [--restic] [--keep] [--no-build]
 *
 * The tree (N files in folders of 1 000, two levels, 0-4 KiB each, one in ten a copy of another) is kept in
 * <out>/tree-<N> and reused by later runs; the repositories live in a scratch folder that is removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { failure, haveGnuTime, run, tarThrough, type RunResult } from './proc.ts';
import { fmt, MB, table, type Row } from './report.ts';
import { buildBulwark, ensurePrograms } from './setup.ts';
import { bulwarkSpec, resticSpec, type ToolSpec } from './tools.ts';

const USAGE = `usage: node bench/million.ts [--files N] [--out DIR] [--restic] [--keep] [--no-build]

  --files N    files in the generated tree                   default 1000000
  --out DIR    where the tree, scratch space and results go  default <repo>/.bench
  --restic     run restic on the same tree too (apt-installed if absent)
  --keep       keep the scratch folder (repositories)
  --no-build   use dist/ as it is`;

const FILES_PER_DIR = 1000;
const DIRS_PER_GROUP = 100;

/** Deterministic content for file i: a few lines of text; every tenth file repeats file i - 7. */
function content(i: number): Buffer {
  const src = i % 10 === 9 ? i - 7 : i;
  const lines = 1 + (((src * 2654435761) >>> 0) % 60);
  let s = '';
  for (let l = 0; l < lines; l++)
    s += `record ${src} line ${l} ${((src * 31 + l * 17) >>> 0).toString(36)}\n`;
  return Buffer.from(s);
}

function filePath(root: string, i: number): string {
  const d = Math.floor(i / FILES_PER_DIR);
  const g = Math.floor(d / DIRS_PER_GROUP);
  return path.join(root, `g${String(g).padStart(3, '0')}`, `d${String(d).padStart(5, '0')}`, `f${i}.txt`);
}

/** Builds the tree once (a marker file records it is complete); returns its path and the seconds spent. */
function ensureTree(out: string, files: number, log: (s: string) => void): { root: string; seconds: number } {
  const root = path.join(out, `tree-${files}`);
  const marker = `${root}.done.json`;
  if (fs.existsSync(marker)) return { root, seconds: 0 };
  fs.rmSync(root, { recursive: true, force: true });
  log(`generating ${files} files in ${root} …`);
  const t0 = performance.now();
  let lastDir = '';
  for (let i = 0; i < files; i++) {
    const p = filePath(root, i);
    const dir = path.dirname(p);
    if (dir !== lastDir) {
      fs.mkdirSync(dir, { recursive: true });
      lastDir = dir;
    }
    fs.writeFileSync(p, content(i));
    if (i > 0 && i % 100_000 === 0) log(`  ${i} files`);
  }
  // fixed mtimes: re-runs see the same tree
  const seconds = (performance.now() - t0) / 1000;
  fs.writeFileSync(marker, JSON.stringify({ files, created: new Date().toISOString(), seconds }));
  return { root, seconds };
}

/** Changes `n` files spread over the tree (appends a line), as a day of edits would. */
function touchSome(root: string, files: number, n: number, round: number): void {
  const step = Math.floor(files / n);
  for (let k = 0; k < n; k++) fs.appendFileSync(filePath(root, k * step + (round % step)), `edit ${round}\n`);
}

interface Step {
  tool: string;
  step: string;
  r: RunResult;
}

async function main(): Promise<void> {
  const repoRoot = path.resolve(import.meta.dirname, '..');
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      files: { type: 'string' },
      out: { type: 'string' },
      restic: { type: 'boolean' },
      keep: { type: 'boolean' },
      'no-build': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const files = Number(values.files ?? 1_000_000);
  if (!Number.isInteger(files) || files < 1000) throw new Error(`--files must be an integer ≥ 1000`);
  const out = path.resolve(values.out ?? path.join(repoRoot, '.bench'));
  fs.mkdirSync(out, { recursive: true });
  const log = (s: string): void => console.error(`[million] ${s}`);
  const env = { ...process.env };
  if (!haveGnuTime()) log('GNU time (/usr/bin/time) is missing: peak RSS will not be reported');

  if (!values['no-build']) await buildBulwark(repoRoot, env);
  const tools: ToolSpec[] = [bulwarkSpec(path.join(repoRoot, 'dist/src-main/cli/main.js'))];
  if (values.restic) {
    const missing = await ensurePrograms(resticSpec.programs, env, log);
    if (missing.size > 0) log(`restic skipped: ${[...missing.values()].join('; ')}`);
    else tools.push(resticSpec);
  }

  const tree = ensureTree(out, files, log);
  const scratch = fs.mkdtempSync(path.join(out, 'million-'));
  const steps: Step[] = [];
  try {
    for (const [t, spec] of tools.entries()) {
      // Every tool starts with the tree in the page cache: whichever ran first read a million files from
      // the disk while the other found them cached (after the main bench: 63 s against 26 s warm).
      const warm = await tarThrough(tree.root, 'cat > /dev/null', { env, timeoutMs: 3600_000 });
      if (warm.code !== 0) throw new Error(`warm-up read of ${tree.root}: ${warm.stderr.trim().slice(-300)}`);
      log(`warm-up read of the tree before ${spec.name}: ${(warm.ms / 1000).toFixed(1)} s`);
      const dir = path.join(scratch, spec.name);
      fs.mkdirSync(dir);
      const s = spec.session({ kind: 'local', dir: path.join(dir, 'repo') }, dir);
      const cmdEnv = { ...env, ...s.env };
      const go = async (step: string, c: { cmd: string; args: string[] }): Promise<void> => {
        log(`${spec.name}: ${step} …`);
        const r = await run(c.cmd, c.args, { env: cmdEnv, timeoutMs: 3 * 3600_000 });
        const f = failure(r);
        if (f) throw new Error(`${spec.name} ${step}: ${f}`);
        steps.push({ tool: spec.name, step, r });
        log(
          `${spec.name}: ${step} ${(r.ms / 1000).toFixed(1)} s, peak RSS ${fmt((r.rssKiB ?? 0) / 1024, 0)} MiB`,
        );
      };
      await go('init', s.init());
      await go('initial backup', s.backup(tree.root, 1));
      await go('re-scan, nothing changed', s.backup(tree.root, 2));
      touchSome(tree.root, files, Math.max(1, Math.floor(files / 1000)), t + 1);
      await go('re-scan, 0.1 % changed', s.backup(tree.root, 3));
    }
  } finally {
    if (!values.keep) fs.rmSync(scratch, { recursive: true, force: true });
  }

  const rows: Row[] = steps
    .filter((s) => s.step !== 'init')
    .map((s) => ({
      label: `${s.tool}: ${s.step}`,
      values: [s.r.ms / 1000, s.r.cpuSeconds, s.r.rssKiB === null ? null : (s.r.rssKiB * 1024) / MB],
      digits: 1,
    }));
  console.log(
    `\n${files} files (${tree.root})${tree.seconds ? `, generated in ${tree.seconds.toFixed(0)} s` : ''}`,
  );
  console.log(table(['step', 'seconds', 'CPU s', 'peak RSS MB'], rows));
  const json = path.join(out, `million-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    json,
    JSON.stringify(
      {
        files,
        steps: steps.map((s) => ({
          tool: s.tool,
          step: s.step,
          seconds: s.r.ms / 1000,
          cpuSeconds: s.r.cpuSeconds,
          peakRssBytes: s.r.rssKiB === null ? null : s.r.rssKiB * 1024,
        })),
      },
      null,
      2,
    ),
  );
  console.log(`results: ${json}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
