/**
 * A real S3 server with Object Lock for tests: a throw-away single-node Ceph (monitor + memstore OSD)
 * and its RGW S3 gateway on 127.0.0.1, started by ./rgw/start-rgw.sh (Ceph 16.2.15 from Debian:
 * `apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common uuid-runtime curl`).
 *
 * Usage from a test file (one instance per test run when the globalSetup ./rgw-global-setup.ts is
 * configured, else one per test file):
 *
 *   import { inject } from 'vitest';
 *   import { acquireRgw, uniqueBucketName, type RgwHandle } from '../harness/rgw.ts';
 *   let rgw: RgwHandle;
 *   beforeAll(async () => { rgw = await acquireRgw(inject('rgw')); }, 120_000);
 *   afterAll(() => rgw?.release());
 *   // rgw.endpoint, rgw.accessKeyId, rgw.secretAccessKey, rgw.region,
 *   // await rgw.createBucket(uniqueBucketName('x'), { objectLock: true }), await rgw.createUser('writer')
 *
 * Daemons never outlive the test run: stop() kills them by pid file; an exit/signal handler kills any
 * still running when this process ends; a detached watchdog (started by start-rgw.sh, watching this
 * process's pid) stops them if this process is SIGKILLed or crashes; and startRgw() reaps instances
 * left by dead owners in os.tmpdir() (bulwark-rgw-*).
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

const SCRIPTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rgw');
const START_SCRIPT = path.join(SCRIPTS, 'start-rgw.sh');
const STOP_SCRIPT = path.join(SCRIPTS, 'stop-rgw.sh');
const DIR_PREFIX = 'bulwark-rgw-';
/**
 * Where instance folders go: os.tmpdir(), unless it is too long for Ceph's admin sockets (Unix socket
 * paths are limited to 107 bytes; start-rgw.sh refuses a CEPH_DIR over 70 characters).
 */
function baseTmp(): string {
  const t = os.tmpdir();
  return t.length <= 40 ? t : '/tmp';
}
/** Env var through which the global setup also hands the connection to child processes. */
export const RGW_ENV = 'BULWARK_TEST_RGW';

export const RGW_INSTALL_HINT =
  'run .ci/run or apt-get install radosgw ceph-mon ceph-osd ceph-common (plus uuid-runtime curl)';
const REQUIRED_PROGRAMS = [
  'radosgw',
  'radosgw-admin',
  'ceph-mon',
  'ceph-osd',
  'ceph',
  'ceph-authtool',
  'monmaptool',
  'uuidgen',
  'curl',
  'timeout',
];

/** Everything a test needs to talk to one instance; plain data (crosses vitest's provide/inject). */
export interface RgwConnection {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: 'us-east-1';
  /** ceph.conf of this instance: `CEPH_CONF=... radosgw-admin ...` */
  cephConf: string;
  /** milliseconds start-rgw.sh + the readiness check took */
  startupMs: number;
}

export interface RgwHelpers extends RgwConnection {
  /** Creates a bucket owned by the test user (Object Lock also switches versioning on). */
  createBucket(name: string, opts?: { objectLock?: boolean }): Promise<void>;
  /** Creates an RGW user with fresh keys (radosgw-admin, with this instance's CEPH_CONF). */
  createUser(uid: string): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  /** Runs radosgw-admin against this instance; returns stdout. */
  radosgwAdmin(args: string[]): Promise<string>;
  /** An S3 client for this instance with the project's client settings (test user, or given keys). */
  client(credentials?: { accessKeyId: string; secretAccessKey: string }): S3Client;
}

export interface RgwInstance extends RgwHelpers {
  /** the connection as plain data (for provide/inject or an env var) */
  readonly connection: RgwConnection;
  /** Kills the daemons and removes the instance folder. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRgwOptions {
  /** default: a free port picked here */
  rgwPort?: number;
  monPort?: number;
  /** RAM the OSD may hold (default 2 GiB, used only as data arrives); writes fail near 95% full */
  memstoreBytes?: number;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** whole startup budget (default 120 s) */
  timeoutMs?: number;
  /** process whose death stops the instance (default: this process) */
  watchPid?: number;
}

/** Programs start-rgw.sh needs that are not on PATH. */
export function missingRgwPrograms(): string[] {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  return REQUIRED_PROGRAMS.filter(
    (p) =>
      !dirs.some((d) => {
        try {
          fs.accessSync(path.join(d, p), fs.constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
}

/** A bucket name unique within a test run (S3 rules: 3-63 chars, lowercase, digits, '-'). */
export function uniqueBucketName(prefix = 't'): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 30);
  return `${clean}-${process.pid.toString(36)}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

// --- process-exit safety net ------------------------------------------------------------------------

interface Live {
  instDir: string;
  cephDir: string;
}
const live = new Map<string, Live>();
let handlersInstalled = false;

/** Synchronously SIGKILLs an instance's daemons (by pid file, command line checked) and removes its folder. */
function killInstanceSync(inst: Live): void {
  for (const [name, prog] of [
    ['watchdog', 'rgw-watchdog'],
    ['ceph-client.rgw.gw', 'radosgw'],
    ['ceph-osd.0', 'ceph-osd'],
    ['ceph-mon.a', 'ceph-mon'],
  ] as const) {
    try {
      const pid = Number(fs.readFileSync(path.join(inst.cephDir, 'run', `${name}.pid`), 'utf8').trim());
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (pid > 1 && cmd.includes(prog)) process.kill(pid, 'SIGKILL');
    } catch {
      // no pid file / already gone
    }
  }
  fs.rmSync(inst.instDir, { recursive: true, force: true });
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const inst of live.values()) killInstanceSync(inst);
    live.clear();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const inst of live.values()) killInstanceSync(inst);
      live.clear();
      process.removeListener(sig, onSignal);
      // Nobody else handles this signal: die of it as we would have without our handler.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops instances in os.tmpdir() whose owner process is gone (should the watchdog have died too). */
function reapOrphans(): void {
  const tmp = baseTmp();
  let entries: string[];
  try {
    entries = fs.readdirSync(tmp).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const instDir = path.join(tmp, e);
    try {
      if (fs.statSync(instDir).uid !== process.getuid?.()) continue;
      const owner = JSON.parse(fs.readFileSync(path.join(instDir, 'owner.json'), 'utf8')) as { pid: number };
      if (live.has(instDir) || pidAlive(owner.pid)) continue;
      killInstanceSync({ instDir, cephDir: path.join(instDir, 'ceph') });
    } catch {
      // not ours, or being created right now: leave it
    }
  }
}

// --- ports ---------------------------------------------------------------------------------------------

/** Binds the port on 127.0.0.1 to check it is free (0: let the kernel pick one); returns it. */
function probePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

async function pickPorts(rgwPort?: number, monPort?: number): Promise<[number, number]> {
  const rgw = await probePort(rgwPort ?? 0).catch(() => {
    throw new Error(`RGW port ${rgwPort} on 127.0.0.1 is in use`);
  });
  let mon = await probePort(monPort ?? 0).catch(() => {
    throw new Error(`monitor port ${monPort} on 127.0.0.1 is in use`);
  });
  while (mon === rgw) mon = await probePort(0);
  return [rgw, mon];
}

// --- start/stop ----------------------------------------------------------------------------------------

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** Runs start-rgw.sh in its own process group; output goes to a log file (the daemons inherit no pipe). */
function runStartScript(env: NodeJS.ProcessEnv, logPath: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(logPath, 'a');
    const child = spawn('bash', [START_SCRIPT], { env, stdio: ['ignore', fd, fd], detached: true });
    fs.closeSync(fd);
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(new Error(signal ? `start-rgw.sh killed (${signal}) after ${timeoutMs} ms` : `exit ${code}`));
    });
  });
}

function makeClient(
  conn: RgwConnection,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): S3Client {
  return new S3Client({
    endpoint: conn.endpoint,
    region: conn.region,
    forcePathStyle: true,
    credentials: credentials ?? { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

/** Helpers for an instance started elsewhere (e.g. by the global setup, via inject('rgw')). */
export function connectRgw(conn: RgwConnection): RgwHelpers & { close(): void } {
  const clients: S3Client[] = [];
  const client = (credentials?: { accessKeyId: string; secretAccessKey: string }): S3Client => {
    const c = makeClient(conn, credentials);
    clients.push(c);
    return c;
  };
  const admin = client();
  const radosgwAdmin = async (args: string[]): Promise<string> => {
    const env = { ...process.env, CEPH_CONF: conn.cephConf };
    try {
      return (await run('radosgw-admin', ['-n', 'client.admin', ...args], env, 60_000)).stdout;
    } catch (e) {
      const stderr = (e as { stderr?: string }).stderr ?? '';
      throw new Error(`radosgw-admin ${args.join(' ')} failed: ${(e as Error).message}\n${stderr}`, {
        cause: e,
      });
    }
  };
  return {
    ...conn,
    client,
    radosgwAdmin,
    async createBucket(name, opts = {}) {
      await admin.send(
        new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: opts.objectLock === true }),
      );
    },
    async createUser(uid) {
      const out = await radosgwAdmin(['user', 'create', `--uid=${uid}`, `--display-name=${uid}`]);
      const user = JSON.parse(out) as { keys?: { access_key: string; secret_key: string }[] };
      const key = user.keys?.[0];
      if (!key) throw new Error(`radosgw-admin user create --uid=${uid}: no keys in ${out}`);
      return { accessKeyId: key.access_key, secretAccessKey: key.secret_key };
    },
    close() {
      for (const c of clients.splice(0)) c.destroy();
    },
  };
}

/**
 * Starts a fresh instance on free ports in a unique folder under os.tmpdir() and waits until the S3 API
 * answers signed requests. Throws (with the script's output) if it cannot.
 */
export async function startRgw(opts: StartRgwOptions = {}): Promise<RgwInstance> {
  const missing = missingRgwPrograms();
  if (missing.length > 0) {
    throw new Error(`Ceph RGW is not installed (missing: ${missing.join(', ')}): ${RGW_INSTALL_HINT}`);
  }
  installExitHandlers();
  reapOrphans();
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const accessKeyId = opts.accessKeyId ?? 'TESTACCESSKEY0000001';
  const secretAccessKey = opts.secretAccessKey ?? 'testsecretkey000000000000000000000000001';

  // A failed start is retried from scratch (new folder; new ports unless pinned): ports are checked free
  // here but bound by the daemons a moment later, and Ceph has startup races the script cannot retry.
  const pinned = opts.rgwPort !== undefined || opts.monPort !== undefined;
  const attempts = 3;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const [rgwPort, monPort] = await pickPorts(opts.rgwPort, opts.monPort);
    const instDir = fs.mkdtempSync(path.join(baseTmp(), DIR_PREFIX));
    const cephDir = path.join(instDir, 'ceph');
    const inst: Live = { instDir, cephDir };
    fs.writeFileSync(
      path.join(instDir, 'owner.json'),
      JSON.stringify({ pid: process.pid, rgwPort, monPort }),
    );
    live.set(instDir, inst);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CEPH_DIR: cephDir,
      RGW_PORT: String(rgwPort),
      MON_PORT: String(monPort),
      MEMSTORE_BYTES: String(opts.memstoreBytes ?? 2 ** 31),
      S3_ACCESS_KEY: accessKeyId,
      S3_SECRET_KEY: secretAccessKey,
      RGW_WATCH_PID: String(opts.watchPid ?? process.pid),
      RGW_WATCH_RMDIR: instDir,
    };
    const logPath = path.join(instDir, 'start.log');
    const conn: RgwConnection = {
      endpoint: `http://127.0.0.1:${rgwPort}`,
      accessKeyId,
      secretAccessKey,
      region: 'us-east-1',
      cephConf: path.join(cephDir, 'ceph.conf'),
      startupMs: 0,
    };
    const helpers = connectRgw(conn);
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        helpers.close();
        try {
          await run(
            'bash',
            [STOP_SCRIPT],
            { ...process.env, CEPH_DIR: cephDir, RGW_STOP_GRACE: '0' },
            30_000,
          );
        } finally {
          killInstanceSync(inst); // no-op when the script did its job; removes the folder
          live.delete(instDir);
        }
      })());
    try {
      await runStartScript(env, logPath, Math.max(1000, timeoutMs - (performance.now() - t0)));
      await waitUntilServing(helpers.client(), t0 + timeoutMs);
    } catch (e) {
      const log = readTail(logPath);
      await stop().catch(() => {});
      lastError = new Error(
        `could not start Ceph RGW (${(e as Error).message}); start-rgw.sh said:\n${log}`,
        {
          cause: e,
        },
      );
      const retry =
        attempt < attempts && !/exit 127/.test(String(e)) && !(pinned && /already in use/i.test(log));
      if (retry && performance.now() - t0 < timeoutMs) {
        console.warn(`[rgw] start attempt ${attempt} failed, retrying: ${lastError.message.slice(0, 2000)}`);
        continue;
      }
      throw lastError;
    }
    conn.startupMs = Math.round(performance.now() - t0);
    return { ...helpers, connection: { ...conn }, startupMs: conn.startupMs, stop };
  }
  throw lastError ?? new Error('could not start Ceph RGW');
}

function readTail(file: string, max = 6000): string {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.length > max ? '…' + s.slice(-max) : s;
  } catch {
    return '(no output)';
  }
}

/** start-rgw.sh returns once RGW listens and the user exists; wait until a signed request succeeds too. */
async function waitUntilServing(client: S3Client, deadline: number): Promise<void> {
  for (;;) {
    try {
      await client.send(new ListBucketsCommand({}));
      return;
    } catch (e) {
      if (performance.now() > deadline)
        throw new Error(`RGW never answered ListBuckets: ${String(e)}`, { cause: e });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

// --- for test files --------------------------------------------------------------------------------------

export interface RgwHandle extends RgwHelpers {
  /** Stops the instance if this handle started it; closes clients otherwise. */
  release(): Promise<void>;
}

/** The connection the global setup put in the environment (for child processes), if any. */
export function rgwFromEnv(): RgwConnection | undefined {
  const raw = process.env[RGW_ENV];
  return raw ? (JSON.parse(raw) as RgwConnection) : undefined;
}

/**
 * The run's shared instance when the global setup provided one (pass `inject('rgw')`), else a new one
 * for this file (stopped by release()).
 */
export async function acquireRgw(provided?: RgwConnection): Promise<RgwHandle> {
  const conn = provided ?? rgwFromEnv();
  if (conn) {
    const h = connectRgw(conn);
    return {
      ...h,
      async release() {
        h.close();
      },
    };
  }
  const inst = await startRgw();
  return { ...inst, release: () => inst.stop() };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** set by test/harness/rgw-global-setup.ts */
    rgw: RgwConnection | undefined;
  }
}
