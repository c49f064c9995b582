/**
 * The real `bulwark` command as a child process, the way a person runs it: its own BULWARK_HOME (one per
 * "computer"), the campaign's password in BULWARK_PASSWORD, a cheap key derivation (BULWARK_KDF_N), no
 * inherited BULWARK_/AWS_ settings or proxies. Every command runs in its own process group with a time
 * limit; `start` hands back the running child so a fault (kill -9) can hit it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { readShebang, type Shebang } from '../shebang.ts';

export const PASSWORD = 'torture-password-not-secret';

/** The CLI run from the sources (Node 24 strips the types), as test/cli/helpers.ts does. */
export const DEFAULT_MAIN = path.resolve(import.meta.dirname, '../../src-main/cli/main.ts');

export interface CliResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  /** killed by us: the time limit ran out */
  timedOut: boolean;
  ms: number;
  stdout: string;
  stderr: string;
}

export interface Running {
  readonly pid: number | undefined;
  readonly done: Promise<CliResult>;
  /** true once the process has exited */
  readonly exited: boolean;
  /** SIGKILL to the whole process group (the command and anything it started) */
  kill(): void;
}

const live = new Set<number>();

/** Kills every command still running (exit handlers, interrupts). */
export function killAllCommands(): void {
  for (const pid of live) killGroup(pid);
  live.clear();
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The environment of every command: nothing inherited that could change what it does. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/proxy/i.test(k) || /^(BULWARK|AWS)_/.test(k) || k.startsWith('VITEST') || k === 'NODE_OPTIONS')
      continue;
    env[k] = v;
  }
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  return env;
}

export interface CliOptions {
  /** src-main/cli/main.ts (default) or a built dist/src-main/cli/main.js */
  main: string;
  /** BULWARK_HOME: this "computer"'s catalogs, caches, keys */
  home: string;
  /** Node's compile cache, shared by every command (each spawn after the first skips compiling) */
  compileCache: string;
  /** extra variables (S3 keys) */
  env?: Record<string, string>;
  /** default limit per command */
  timeoutMs?: number;
}

/** One "computer" running `bulwark`. */
export class Cli {
  readonly opts: CliOptions;
  private readonly shebang: Shebang;
  constructor(opts: CliOptions) {
    this.opts = opts;
    this.shebang = readShebang(opts.main);
  }

  /** The same program and settings with another BULWARK_HOME (another computer). */
  withHome(home: string): Cli {
    return new Cli({ ...this.opts, home });
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...cleanEnv(),
      ...this.shebang.env,
      BULWARK_HOME: this.opts.home,
      BULWARK_PASSWORD: PASSWORD,
      BULWARK_KDF_N: '1024',
      NODE_COMPILE_CACHE: this.opts.compileCache,
      ...this.opts.env,
    };
  }

  /** Starts `bulwark ARGS`; the result comes with `done` (never rejects: a failure to start is code null). */
  start(args: string[], timeoutMs = this.opts.timeoutMs ?? 300_000): Running {
    const t0 = performance.now();
    let out = '';
    let err = '';
    let timedOut = false;
    let exited = false;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...this.shebang.flags, this.opts.main, ...args], {
        env: this.env(),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (e) {
      const result: CliResult = {
        args,
        code: null,
        signal: null,
        timedOut: false,
        ms: 0,
        stdout: '',
        stderr: `could not start: ${String(e)}`,
      };
      return { pid: undefined, done: Promise.resolve(result), exited: true, kill() {} };
    }
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    child.stdout?.on('data', (d: Buffer) => {
      if (out.length < 4 << 20) out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (err.length < 4 << 20) err += d.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, timeoutMs);
    const done = new Promise<CliResult>((resolve) => {
      child.once('error', (e) => {
        err += `\n${String(e)}`;
      });
      child.once('close', (code, signal) => {
        exited = true;
        clearTimeout(timer);
        if (pid !== undefined) {
          live.delete(pid);
          killGroup(pid); // anything the command left behind in its group
        }
        resolve({
          args,
          code,
          signal,
          timedOut,
          ms: performance.now() - t0,
          stdout: out,
          stderr: timedOut
            ? `${err}\n[torture] no exit within ${Math.round(timeoutMs / 1000)} s: killed`
            : err,
        });
      });
    });
    return {
      pid,
      done,
      get exited() {
        return exited;
      },
      kill() {
        if (pid !== undefined && !exited) killGroup(pid);
      },
    };
  }

  run(args: string[], timeoutMs?: number): Promise<CliResult> {
    return this.start(args, timeoutMs).done;
  }
}

/** stdout and stderr together, for matching messages. */
export const said = (r: CliResult): string => `${r.stdout}\n${r.stderr}`;

/** A short description of a result for reports: exit status and the last meaningful lines. */
export function brief(r: CliResult, lines = 3): string {
  const status = r.timedOut
    ? 'timed out'
    : r.code !== null
      ? `exit ${r.code}`
      : `killed by ${r.signal ?? 'a signal'}`;
  const text = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, lines)
    .join(' | ');
  return `\`bulwark ${r.args[0] ?? ''}\` ${status}${text ? `: ${text.slice(0, 400)}` : ''}`;
}

/** Snapshot ids listed by `bulwark snapshots --json` (oldest first), or undefined when it failed. */
export async function snapshotIds(cli: Cli, repoArgs: string[]): Promise<string[] | undefined> {
  const r = await cli.run(['snapshots', ...repoArgs, '--json', '-q']);
  try {
    const list = JSON.parse(r.stdout) as { id: string; time: string }[];
    return [...list].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0)).map((s) => s.id);
  } catch {
    return undefined;
  }
}
