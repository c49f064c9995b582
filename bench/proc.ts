/**
 * Child processes for the benchmark: every command runs in its own process group with a timeout, its
 * wall time measured here and its peak RSS by GNU time (`/usr/bin/time -f %M -o FILE`). A global abort
 * (deadline, Ctrl-C) kills whatever is running.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface RunResult {
  /** the command line as run (without the time wrapper) */
  argv: string[];
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  /** wall time in milliseconds */
  ms: number;
  /** peak resident set size of the command in KiB (GNU time %M), null when not measured */
  rssKiB: number | null;
  /** CPU seconds (user + system) of the command and its waited-for children (GNU time %U + %S) */
  cpuSeconds: number | null;
  /**
   * CPU seconds the whole machine was busy meanwhile (/proc/stat) minus the command's own: other
   * processes competing for the CPUs (this machine may be shared)
   */
  othersCpuSeconds: number | null;
  /** CPU seconds of the server daemons set with attributeServerPids() (Ceph RGW, OSD, monitor) */
  serverCpuSeconds: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** wrap with GNU time to get the peak RSS (default true when /usr/bin/time exists) */
  rss?: boolean;
  /** keep at most this many bytes of stdout (the tail beyond it is dropped; default 32 MiB) */
  stdoutLimit?: number;
}

const active = new Set<number>();
let aborted: string | undefined;
let rssDir: string | undefined;

export function haveGnuTime(): boolean {
  try {
    fs.accessSync(GNU_TIME, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills every running child (by process group) and makes later run() calls fail at once. */
export function abortAll(reason: string): void {
  aborted ??= reason;
  for (const pid of active) killGroup(pid);
}

export function abortReason(): string | undefined {
  return aborted;
}

/** Synchronous cleanup for exit handlers. */
export function killAllSync(): void {
  for (const pid of active) killGroup(pid);
  active.clear();
  if (rssDir) fs.rmSync(rssDir, { recursive: true, force: true });
}

class Tail {
  private parts: Buffer[] = [];
  private size = 0;
  private readonly limit: number;
  dropped = 0;
  constructor(limit: number) {
    this.limit = limit;
  }
  push(b: Buffer): void {
    if (this.size + b.length <= this.limit) {
      this.parts.push(b);
      this.size += b.length;
      return;
    }
    // keep the tail: the interesting part (restic's summary, an error) comes last
    const all = Buffer.concat([...this.parts, b]);
    const keep = all.subarray(all.length - this.limit);
    this.dropped += all.length - keep.length;
    this.parts = [Buffer.from(keep)];
    this.size = keep.length;
  }
  text(): string {
    return Buffer.concat(this.parts).toString('utf8');
  }
}

/** Runs a command; resolves with its result whatever the exit code (rejects only if it cannot start). */
export function run(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const argv = [cmd, ...args];
  if (aborted) {
    return Promise.resolve({
      argv,
      code: null,
      signal: null,
      timedOut: false,
      ms: 0,
      rssKiB: null,
      cpuSeconds: null,
      othersCpuSeconds: null,
      serverCpuSeconds: null,
      stdout: '',
      stderr: `not run: ${aborted}`,
    });
  }
  const measureRss = opts.rss ?? haveGnuTime();
  let rssFile: string | undefined;
  let spawnCmd = cmd;
  let spawnArgs = args;
  if (measureRss) {
    rssDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-rss-'));
    rssFile = path.join(rssDir, `${process.pid}-${Math.random().toString(36).slice(2)}`);
    spawnCmd = GNU_TIME;
    spawnArgs = ['-f', '%M %U %S', '-o', rssFile, '--', cmd, ...args];
  }
  return new Promise((resolve, reject) => {
    const busy0 = machineBusySeconds();
    const server0 = serverCpu();
    const t0 = performance.now();
    const child = spawn(spawnCmd, spawnArgs, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: a timeout kills the command and everything it started
    });
    const out = new Tail(opts.stdoutLimit ?? 32 << 20);
    const err = new Tail(64 << 10);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const pid = child.pid;
    if (pid !== undefined) active.add(pid);
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, opts.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      if (pid !== undefined) active.delete(pid);
      reject(e);
    });
    child.once('close', (code, signal) => {
      const ms = performance.now() - t0;
      const busy1 = machineBusySeconds();
      const server1 = serverCpu();
      clearTimeout(timer);
      if (pid !== undefined) active.delete(pid);
      let rssKiB: number | null = null;
      let cpuSeconds: number | null = null;
      let stderr = err.text();
      if (rssFile) {
        try {
          // "Command exited with non-zero status N" may come first
          const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n');
          const [m, u, sy] = (lines[lines.length - 1] ?? '').trim().split(/\s+/).map(Number);
          if (Number.isFinite(m)) rssKiB = m ?? null;
          if (Number.isFinite(u) && Number.isFinite(sy)) cpuSeconds = (u ?? 0) + (sy ?? 0);
          fs.rmSync(rssFile, { force: true });
        } catch {
          // killed before GNU time wrote it
        }
      }
      const serverCpuSeconds = server0 !== null && server1 !== null ? Math.max(0, server1 - server0) : null;
      const othersCpuSeconds =
        busy0 !== null && busy1 !== null && cpuSeconds !== null
          ? Math.max(0, busy1 - busy0 - cpuSeconds - (serverCpuSeconds ?? 0))
          : null;
      // GNU time reports a killed command as "Command terminated by signal 9" with its own exit code
      let exitCode = code;
      const sig = signal ?? (timedOut || aborted ? 'SIGKILL' : null);
      if (timedOut) stderr += `\n[bench] timed out after ${Math.round(opts.timeoutMs / 1000)} s: killed`;
      else if (aborted && code !== 0) stderr += `\n[bench] aborted: ${aborted}`;
      if (timedOut || (aborted && code !== 0)) exitCode = null;
      resolve({
        argv,
        code: exitCode,
        signal: exitCode === null ? sig : null,
        timedOut,
        ms,
        rssKiB,
        cpuSeconds,
        othersCpuSeconds,
        serverCpuSeconds,
        stdout: out.text(),
        stderr,
      });
    });
  });
}

/** Seconds of CPU time the machine has spent busy (all CPUs) since boot, from /proc/stat; null if unknown. */
export function machineBusySeconds(): number | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / CLK_TCK;
  } catch {
    return null;
  }
}
/** USER_HZ: 100 on every Linux architecture this runs on */
const CLK_TCK = 100;

let serverPids: number[] = [];
/** Daemons serving the commands (the S3 server): their CPU is reported apart, not as competing load. */
export function attributeServerPids(pids: number[]): void {
  serverPids = pids;
}
/** utime + stime of the server daemons in seconds; null when none are set. */
function serverCpu(): number | null {
  if (serverPids.length === 0) return null;
  let ticks = 0;
  for (const pid of serverPids) {
    try {
      // after "pid (comm) ": state is field 3 of the line, utime 14, stime 15
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLK_TCK;
}

/**
 * Waits (at most maxMs) until the machine's CPUs have been mostly idle for a 2-second window (busy less
 * than `threshold` of all CPUs); returns the busy fraction of the last window.
 */
export async function waitForQuiet(maxMs: number, threshold = 0.25): Promise<number | null> {
  const cpus = os.cpus().length || 1;
  const deadline = performance.now() + maxMs;
  for (;;) {
    const b0 = machineBusySeconds();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    const b1 = machineBusySeconds();
    if (b0 === null || b1 === null) return null;
    const frac = (b1 - b0) / (((performance.now() - t0) / 1000) * cpus);
    if (frac < threshold || performance.now() > deadline || aborted) return frac;
  }
}

/** A one-line description of a failed run, for the report. */
export function failure(r: RunResult): string | undefined {
  if (r.code === 0) return undefined;
  const last = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join(' | ');
  const how = r.timedOut ? 'timed out' : r.code === null ? `killed (${r.signal ?? '?'})` : `exit ${r.code}`;
  return `${path.basename(r.argv[0] ?? '?')} ${r.argv.slice(1, 3).join(' ')}: ${how}${last ? `: ${last.slice(0, 400)}` : ''}`;
}

/** Runs a command that must succeed; returns its stdout. */
export async function mustRun(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const r = await run(cmd, args, { rss: false, ...opts });
  const f = failure(r);
  if (f) throw new Error(f);
  return r;
}

/** `du -sb PATH` in bytes (0 if it does not exist). */
export async function duBytes(p: string, env: NodeJS.ProcessEnv): Promise<number> {
  if (!fs.existsSync(p)) return 0;
  const r = await mustRun('du', ['-sb', p], { env, timeoutMs: 120_000 });
  return Number(r.stdout.split(/\s/)[0]);
}

/**
 * Streams the tree `dir` as `tar cf -` into `sink` (a shell command: `cat > /dev/null`, `sha256sum`):
 * a warm-up read that leaves the tree in the page cache, and the benchmark's read floor.
 */
export function tarThrough(
  dir: string,
  sink: string,
  opts: { env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  return run(
    'bash',
    ['-c', `set -o pipefail; tar cf - -C "$1" "$2" | ${sink}`, '_', path.dirname(dir), path.basename(dir)],
    { ...opts, rss: false },
  );
}
