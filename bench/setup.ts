/** Benchmark prerequisites: Debian packages, the bulwark build, the bench/corpus.ts corpus (built once, reused). */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mustRun, run } from './proc.ts';

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  if (program.includes('/')) return fs.existsSync(program);
  return (env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .some((d) => {
      try {
        fs.accessSync(path.join(d, program), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/**
 * Installs the Debian packages whose programs are missing (as root, or with `sudo -n`). Returns the
 * programs still missing afterwards, each with the reason.
 */
export async function ensurePrograms(
  wanted: { program: string; pkg: string }[],
  env: NodeJS.ProcessEnv,
  log: (s: string) => void,
): Promise<Map<string, string>> {
  const missing = wanted.filter((w) => !onPath(w.program, env));
  const result = new Map<string, string>();
  if (missing.length === 0) return result;
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  const isRoot = process.getuid?.() === 0;
  const prefix: string[] = isRoot ? [] : ['sudo', '-n'];
  if (!isRoot) {
    const probe = await run('sudo', ['-n', 'true'], { env, timeoutMs: 10_000, rss: false }).catch(() => null);
    if (probe?.code !== 0) {
      for (const m of missing)
        result.set(m.program, `not installed (apt-get install ${m.pkg}: need root or sudo)`);
      return result;
    }
  }
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  const [aptCmd = 'apt-get', ...aptPre] = [...prefix, 'apt-get'];
  const apt = (args: string[]) =>
    run(aptCmd, [...aptPre, ...args], { env: aptEnv, timeoutMs: 600_000, rss: false });
  log(`installing ${pkgs.join(' ')} with apt-get …`);
  let r = await apt(['install', '-y', '--no-install-recommends', ...pkgs]);
  if (r.code !== 0) {
    log('apt-get install failed; running apt-get update and retrying');
    await apt(['update']);
    r = await apt(['install', '-y', '--no-install-recommends', ...pkgs]);
  }
  for (const m of missing) {
    if (!onPath(m.program, env))
      result.set(m.program, `not installed: apt-get install ${m.pkg} failed: ${r.stderr.trim().slice(-300)}`);
  }
  return result;
}

/** `npm run build:main`; throws with tsc's output on failure. */
export async function buildBulwark(repoRoot: string, env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const r = await run('npm', ['run', '--silent', 'build:main'], {
    cwd: repoRoot,
    env,
    timeoutMs: 300_000,
    rss: false,
  });
  if (r.code !== 0)
    throw new Error(`npm run build:main failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-3000)}`);
  return performance.now() - t0;
}

/**
 * Which tree to build with bench/corpus.ts: the mixed corpus (office files, media, VM images, a mailbox) at
 * a scale, or the small-files tree (a deep tree of 0-64 KiB files, like a source checkout or an office share).
 */
export type CorpusSpec =
  { kind: 'mixed'; scale: number; seed: number } | { kind: 'small-files'; files: number; seed: number };

export interface CorpusInfo {
  dir: string;
  kind: CorpusSpec['kind'];
  /** the mixed corpus's scale; for the small-files tree its number of files / 80 000 (to size timeouts) */
  scale: number;
  seed: number;
  files: number;
  bytes: number;
  /** how the tree was made, in words: "corpus scale 0.2" or "small files (80000 asked)" */
  label: string;
  /** bench/corpus.ts arguments (after the folder) that make a working day's changes to a copy */
  mutateArgs: string[];
  generatorSha256: string;
  /** true when an existing corpus was reused */
  reused: boolean;
  /** seconds the generator took (when generated now) */
  generateSeconds?: number;
}

interface Marker {
  kind?: CorpusSpec['kind'];
  scale: number;
  seed: number;
  files: number;
  bytes: number;
  generatorSha256: string;
  created: string;
}

/** Number of regular files and their bytes under dir. */
export function countTree(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, e.name);
      if (e.isDirectory()) walk(q);
      else if (e.isFile()) {
        files++;
        bytes += fs.lstatSync(q).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/** Where a tree lives in outDir, the generator's arguments for it, and how it is named in the report. */
function corpusLayout(outDir: string, spec: CorpusSpec) {
  if (spec.kind === 'mixed')
    return {
      dir: path.join(outDir, `corpus-s${spec.scale}-seed${spec.seed}`),
      scale: spec.scale,
      makeArgs: ['--scale', String(spec.scale), '--seed', String(spec.seed)],
      mutateArgs: ['--mutate', '--seed', String(spec.seed)],
      label: `corpus scale ${spec.scale}`,
      // a folder every complete mixed corpus has
      probe: 'office',
    };
  return {
    dir: path.join(outDir, `small-files-n${spec.files}-seed${spec.seed}`),
    scale: spec.files / 80_000,
    makeArgs: ['--kind', 'small-files', '--files', String(spec.files), '--seed', String(spec.seed)],
    mutateArgs: ['--kind', 'small-files', '--mutate', '--seed', String(spec.seed)],
    label: `small files (${spec.files} asked)`,
    probe: '.',
  };
}

/**
 * The pristine tree for `spec` in outDir: reused when its marker file (written after a complete
 * generation, next to the folder so no tool ever backs it up) matches, else (re)generated by running
 * `generator` (bench/corpus.ts) in a child process. The marker holds the generator's SHA-256: editing the
 * generator makes every cached corpus stale.
 */
export async function ensureCorpus(
  outDir: string,
  generator: string,
  spec: CorpusSpec,
  env: NodeJS.ProcessEnv,
  log: (s: string) => void,
): Promise<CorpusInfo> {
  const generatorSha256 = createHash('sha256').update(fs.readFileSync(generator)).digest('hex');
  const { dir, scale, makeArgs, mutateArgs, label, probe } = corpusLayout(outDir, spec);
  const { seed } = spec;
  const info = { dir, kind: spec.kind, scale, seed, label, mutateArgs, generatorSha256 };
  const markerPath = `${dir}.done.json`;
  try {
    const m = JSON.parse(fs.readFileSync(markerPath, 'utf8')) as Marker;
    if (
      (m.kind ?? 'mixed') === spec.kind &&
      m.scale === scale &&
      m.seed === seed &&
      m.generatorSha256 === generatorSha256 &&
      fs.existsSync(path.join(dir, probe))
    ) {
      const now = countTree(dir);
      if (now.files === m.files && now.bytes === m.bytes) {
        log(`reusing ${label} in ${dir} (${m.files} files, ${(m.bytes / 2 ** 20).toFixed(1)} MiB)`);
        return { ...info, files: m.files, bytes: m.bytes, reused: true };
      }
      log(`corpus ${dir} differs from its marker: regenerating`);
    } else if (m.generatorSha256 !== generatorSha256) {
      log(`${path.basename(generator)} changed since the corpus was built: regenerating`);
    }
  } catch {
    // no marker: build it
  }
  fs.rmSync(markerPath, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`generating ${label} seed ${seed} in ${dir} …`);
  const t0 = performance.now();
  await mustRun(process.execPath, [generator, dir, ...makeArgs], {
    env,
    timeoutMs: Math.max(120_000, 900_000 * scale),
  });
  const generateSeconds = (performance.now() - t0) / 1000;
  const { files, bytes } = countTree(dir);
  const marker: Marker = {
    kind: spec.kind,
    scale,
    seed,
    files,
    bytes,
    generatorSha256,
    created: new Date().toISOString(),
  };
  fs.writeFileSync(markerPath, JSON.stringify(marker, null, 2) + '\n');
  log(`corpus ready: ${files} files, ${(bytes / 2 ** 20).toFixed(1)} MiB in ${generateSeconds.toFixed(1)} s`);
  return { ...info, files, bytes, reused: false, generateSeconds };
}
