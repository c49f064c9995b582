/**
 * Must-show of the desktop app: a simulated million-file scan in the service process while the main
 * process pings through the relay every 100 ms. Measures each ping's round trip (main → service → main)
 * and the main process's own event-loop delay (how late each 100 ms tick fired: what a window would feel),
 * counting only the pings sent while the scan ran.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { forkedChild } from '../../src-main/app/service/children.ts';
import { ServiceRelay } from '../../src-main/app/service/relay.ts';

export interface RelayLatency {
  entries: number;
  folders: number;
  scanSeconds: number;
  /** pings sent while the scan ran */
  pings: number;
  maxPingMs: number;
  p50PingMs: number;
  p99PingMs: number;
  /** how late the main process's 100 ms timer fired, at worst */
  maxMainDelayMs: number;
}

const FILES_IN_FOLDER = 1000;
const CHILD = path.join(import.meta.dirname, 'scan-service.ts');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * `entries`: at least that many are listed; `minScanMs`: and the scan lasts at least that long (so that
 * a fast computer is pinged during it as often as a slow one).
 */
export async function measureRelayLatency(
  entries: number,
  opts: { intervalMs?: number; minScanMs?: number } = {},
): Promise<RelayLatency> {
  const intervalMs = opts.intervalMs ?? 100;
  const scratch = mkdtempSync(path.join(tmpdir(), 'bulwark-relay-bench-'));
  const folder = path.join(scratch, 'folder');
  mkdirSync(folder);
  for (let i = 0; i < FILES_IN_FOLDER; i++) writeFileSync(path.join(folder, `f${i}.txt`), `file ${i}\n`);
  const resultFile = path.join(scratch, 'scan.json');
  const relay = new ServiceRelay({
    spawn: () =>
      forkedChild(CHILD, {
        env: {
          ...process.env,
          BULWARK_HOME: path.join(scratch, 'home'),
          BULWARK_KDF_N: '16',
          BENCH_SCAN_DIR: folder,
          BENCH_SCAN_ENTRIES: String(entries),
          BENCH_SCAN_MIN_MS: String(opts.minScanMs ?? 0),
          BENCH_SCAN_RESULT: resultFile,
        },
      }),
    init: () => ({ type: 'init' }),
  });
  const pings: { sentAt: number; ms: number }[] = [];
  const mainDelays: { at: number; ms: number }[] = [];
  const failures: unknown[] = [];
  try {
    relay.start();
    let expected = performance.now() + intervalMs;
    const timer = setInterval(() => {
      const now = performance.now();
      mainDelays.push({ at: Date.now(), ms: Math.max(0, now - expected) });
      expected = now + intervalMs;
      const sentAt = Date.now();
      relay.ping().then(
        (ms) => void pings.push({ sentAt, ms }),
        (e: unknown) => void failures.push(e),
      );
    }, intervalMs);
    try {
      const deadline = Date.now() + 10 * 60_000;
      while (!existsSync(resultFile)) {
        if (Date.now() > deadline) throw new Error('the simulated scan did not finish in 10 minutes');
        if (relay.status.state === 'crashed')
          throw new Error(`the service process crashed: ${relay.status.reason}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 2 * intervalMs)); // the last pings come back
    } finally {
      clearInterval(timer);
    }
    if (failures.length > 0) throw new Error(`${failures.length} pings failed: ${String(failures[0])}`);
    const scan = JSON.parse(readFileSync(resultFile, 'utf8')) as {
      entries: number;
      folders: number;
      startedAt: number;
      finishedAt: number;
    };
    const during = pings
      .filter((p) => p.sentAt >= scan.startedAt && p.sentAt <= scan.finishedAt)
      .map((p) => p.ms);
    const delays = mainDelays
      .filter((d) => d.at >= scan.startedAt && d.at <= scan.finishedAt)
      .map((d) => d.ms);
    const sorted = [...during].sort((a, b) => a - b);
    return {
      entries: scan.entries,
      folders: scan.folders,
      scanSeconds: (scan.finishedAt - scan.startedAt) / 1000,
      pings: during.length,
      maxPingMs: sorted.at(-1) ?? 0,
      p50PingMs: percentile(sorted, 50),
      p99PingMs: percentile(sorted, 99),
      maxMainDelayMs: Math.max(0, ...delays),
    };
  } finally {
    await relay.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
