import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

import type { Page } from 'playwright-core';

// Shared by the e2e suites: a `bulwark serve` child, Debian's Chromium (installed by scripts/setup.sh; never
// `playwright install`) and screenshots (BULWARK_E2E_ARTIFACTS=<dir> keeps copies).

export const root = path.resolve(import.meta.dirname, '..', '..');
export const MAIN = path.join(root, 'src-main', 'cli', 'main.ts');
const RENDERER_INDEX = path.join(root, 'dist', 'renderer', 'index.html');
export const CHROMIUM = '/usr/bin/chromium';
// without the networking flags Chromium floods the closed network with refused connections (measured here)
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const st = fs.statSync(path.join(dir, rel));
    if (st.isFile()) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

/** `npm test` builds first; when run alone, build the renderer if it is missing or older than its sources. */
export function ensureRendererBuilt(): void {
  const built = fs.existsSync(RENDERER_INDEX) ? fs.statSync(RENDERER_INDEX).mtimeMs : 0;
  const sources = Math.max(
    newestMtime(path.join(root, 'src-renderer', 'src')),
    fs.statSync(path.join(root, 'src-renderer', 'index.html')).mtimeMs,
    newestMtime(path.join(root, 'src-main', 'contract')),
  );
  if (built >= sources) return;
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'src-renderer/vite.config.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`renderer build failed:\n${r.stdout}\n${r.stderr}`);
}

/** Runs the CLI to completion. */
export function bulwark(
  env: NodeJS.ProcessEnv,
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface ServeChild {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** the page URL with the token, as printed on the first start */
  pageUrl: string;
  stderr(): string;
  /** SIGTERM, then resolves with the exit code */
  stop(): Promise<number | null>;
}

/** Starts `bulwark serve --port 0` and resolves once it printed its URL (with the token: the first start). */
export function startServe(env: NodeJS.ProcessEnv, args: string[] = []): Promise<ServeChild> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /Bulwark service on (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43})\n/.exec(stdout);
      if (m?.[1])
        resolve({
          child,
          pageUrl: m[1],
          stderr: () => stderr,
          stop: () => {
            if (child.exitCode !== null) return Promise.resolve(child.exitCode);
            const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
            child.kill('SIGTERM');
            return exited;
          },
        });
    });
    child.once('exit', (code) =>
      reject(new Error(`bulwark serve exited with ${code}:\n${stdout}\n${stderr}`)),
    );
  });
}

export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await page.screenshot({ path: file, fullPage: true });
  const keep = process.env.BULWARK_E2E_ARTIFACTS;
  if (keep) {
    fs.mkdirSync(keep, { recursive: true });
    fs.copyFileSync(file, path.join(keep, name));
  }
  return file;
}

/** The env of a child: this one's without BULWARK_*, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BULWARK_')) env[k] = v;
  return Object.assign(env, extra);
}

/** Resident set size of a process now and at its peak, in MiB (Linux /proc; undefined elsewhere). */
export function rssOf(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Calls one contract channel of a running `bulwark serve` over its HTTP API with the token; the value of an
 * `{ ok: true }` envelope, else an Error naming the channel, the code and the message.
 */
export async function callApi<T>(
  origin: string,
  token: string,
  channel: string,
  body: unknown = {},
): Promise<T> {
  const res = await fetch(`${origin}/api/${channel}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${channel}: HTTP ${res.status}`);
  const result = (await res.json()) as
    { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
  if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/**
 * Asks `probe` every `intervalMs` until it answers something; after `timeoutMs` fails naming `what`, with
 * what the service wrote on stderr (its last words usually say why).
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  opts: { timeoutMs: number; intervalMs?: number; stderr?: () => string },
): Promise<T> {
  const end = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${opts.stderr?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
