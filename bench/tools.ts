/**
 * The three backup programs behind one interface: the command lines for init, backup, list and restore,
 * their environment (password, state folders), how many bytes a backup added, and where a restore puts
 * the backed-up folder.
 */
import * as path from 'node:path';
import { readShebang } from './shebang.ts';

export type ToolName = 'bulwark' | 'restic' | 'borg';
export const TOOL_NAMES: readonly ToolName[] = ['bulwark', 'restic', 'borg'];

/** Where a repository lives. */
export type Target =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      endpoint: string;
      bucket: string;
      prefix: string;
      accessKeyId: string;
      secretAccessKey: string;
      region: string;
    };

export interface Cmd {
  cmd: string;
  args: string[];
  cwd?: string;
}

export interface ToolSession {
  /** environment additions for every command of this repository */
  env: Record<string, string>;
  init(): Cmd;
  /** n: 1-based number of the backup in this repository */
  backup(src: string, n: number): Cmd;
  /** bytes the backup added to the repository, from its stdout */
  bytesAdded(stdout: string): number | null;
  list(): Cmd;
  /** restores the latest snapshot into target (an empty folder) */
  restore(target: string, lastN: number): Cmd;
  /** where src ends up inside the restore target */
  restoredPath(target: string, src: string): string;
  /** local folders this tool keeps besides the repository (caches, catalogs), for `du` */
  stateDirs: string[];
}

export interface ToolSpec {
  name: ToolName;
  /** programs to look for / apt packages that provide them */
  programs: { program: string; pkg: string }[];
  versionCmd: Cmd;
  supportsS3: boolean;
  /** a session on a fresh repository; stateDir: an empty folder for this tool's local state */
  session(target: Target, stateDir: string): ToolSession;
}

export const PASSWORD = 'bench-password-not-secret';

const lastJsonLine = (stdout: string, pred: (o: Record<string, unknown>) => boolean) => {
  const lines = stdout.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]?.trim();
    if (!l?.startsWith('{')) continue;
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (pred(o)) return o;
    } catch {
      // a partial line
    }
  }
  return undefined;
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function bulwarkSpec(cliJs: string): ToolSpec {
  const { env: shebangEnv, flags: nodeArgs } = readShebang(cliJs);
  return {
    name: 'bulwark',
    programs: [],
    versionCmd: { cmd: process.execPath, args: [...nodeArgs, cliJs, '--version'] },
    supportsS3: true,
    session(target, stateDir) {
      const home = path.join(stateDir, 'home');
      const repoArgs =
        target.kind === 'local'
          ? ['--repo', target.dir]
          : [
              '--repo',
              `s3://${target.bucket}/${target.prefix}`,
              '--endpoint',
              target.endpoint,
              '--region',
              target.region,
            ];
      const env: Record<string, string> = { ...shebangEnv, BULWARK_HOME: home, BULWARK_PASSWORD: PASSWORD };
      if (target.kind === 's3') {
        env.AWS_ACCESS_KEY_ID = target.accessKeyId;
        env.AWS_SECRET_ACCESS_KEY = target.secretAccessKey;
        env.AWS_REGION = target.region;
      }
      const b = (...args: string[]): Cmd => ({ cmd: process.execPath, args: [...nodeArgs, cliJs, ...args] });
      return {
        env,
        init: () =>
          b(
            'init',
            ...repoArgs,
            // the way Bulwark is meant to be used on S3: every object locked (governance: no admin needed)
            ...(target.kind === 's3' ? ['--lock-days', '1', '--lock-mode', 'governance'] : []),
            '-q',
            '--json',
          ),
        backup: (src) => b('backup', ...repoArgs, '-q', '--json', src),
        bytesAdded(stdout) {
          try {
            const m = JSON.parse(stdout) as { stats?: { bytesAdded?: unknown } };
            return num(m.stats?.bytesAdded);
          } catch {
            return null;
          }
        },
        list: () => b('snapshots', ...repoArgs, '-q', '--json'),
        restore: (dir) => b('restore', ...repoArgs, '-q', '--json', 'latest', '--target', dir),
        restoredPath: (dir, src) => path.join(dir, path.basename(src)),
        stateDirs: [home],
      };
    },
  };
}

export const resticSpec: ToolSpec = {
  name: 'restic',
  programs: [{ program: 'restic', pkg: 'restic' }],
  versionCmd: { cmd: 'restic', args: ['version'] },
  supportsS3: true,
  session(target, stateDir) {
    const cache = path.join(stateDir, 'restic-cache');
    const env: Record<string, string> = {
      RESTIC_PASSWORD: PASSWORD,
      RESTIC_CACHE_DIR: cache,
      RESTIC_REPOSITORY:
        target.kind === 'local' ? target.dir : `s3:${target.endpoint}/${target.bucket}/${target.prefix}`,
    };
    if (target.kind === 's3') {
      env.AWS_ACCESS_KEY_ID = target.accessKeyId;
      env.AWS_SECRET_ACCESS_KEY = target.secretAccessKey;
      env.AWS_DEFAULT_REGION = target.region;
      env.AWS_REGION = target.region;
    }
    const r = (...args: string[]): Cmd => ({ cmd: 'restic', args });
    return {
      env,
      init: () => r('init'),
      backup: (src) => r('backup', '--json', src),
      bytesAdded(stdout) {
        const s = lastJsonLine(stdout, (o) => o.message_type === 'summary');
        return num(s?.data_added);
      },
      list: () => r('snapshots', '--json'),
      restore: (dir) => r('restore', 'latest', '--target', dir),
      restoredPath: (dir, src) => path.join(dir, path.resolve(src)),
      stateDirs: [cache],
    };
  },
};

export const borgSpec: ToolSpec = {
  name: 'borg',
  programs: [{ program: 'borg', pkg: 'borgbackup' }],
  versionCmd: { cmd: 'borg', args: ['--version'] },
  supportsS3: false,
  session(target, stateDir) {
    if (target.kind !== 'local') throw new Error('borg has no S3 backend');
    const base = path.join(stateDir, 'borg-base');
    const repo = target.dir;
    const env: Record<string, string> = {
      BORG_PASSPHRASE: PASSWORD,
      BORG_BASE_DIR: base,
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    };
    const g = (...args: string[]): Cmd => ({ cmd: 'borg', args });
    return {
      env,
      init: () => g('init', '--encryption=repokey-blake2', repo),
      backup: (src, n) => g('create', '--stats', '--json', `${repo}::bench-${n}`, src),
      bytesAdded(stdout) {
        try {
          const o = JSON.parse(stdout) as { archive?: { stats?: { deduplicated_size?: unknown } } };
          return num(o.archive?.stats?.deduplicated_size);
        } catch {
          return null;
        }
      },
      list: () => g('list', '--json', repo),
      // borg extracts into the current folder, paths without their leading '/'
      restore: (dir, lastN) => ({ ...g('extract', `${repo}::bench-${lastN}`), cwd: dir }),
      restoredPath: (dir, src) => path.join(dir, path.resolve(src).replace(/^\/+/, '')),
      stateDirs: [base],
    };
  },
};
