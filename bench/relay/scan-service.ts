/**
 * The desktop app's service process with a simulated million-file scan: the real service entry's parts
 * (openDesktopService + runServiceProcess, as src-main/app/service/main.ts runs them) and, in the same
 * process and event loop, a scan of BENCH_SCAN_ENTRIES entries by the engine's own folder lister (listDir:
 * readdir, then lstat of every entry) over BENCH_SCAN_DIR, one folder of ~1 000 files listed again and
 * again (no million files on disk needed; the page cache is warm, as for a rescan), each listing turned
 * into a tree record and hashed, as the backup coordinator does per folder. With BENCH_SCAN_MIN_MS, the
 * listing goes on until that long has passed too (a fast computer lists 100 000 entries in 0.4 s, too short
 * to be pinged a few times). Writes {entries, folders, startedAt, finishedAt} to BENCH_SCAN_RESULT when
 * done. Started by bench/relay/measure.ts.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

import { openDesktopService } from '../../src-main/app/service/open.ts';
import { connectToParent } from '../../src-main/app/service/parent-port.ts';
import { runServiceProcess } from '../../src-main/app/service/serve.ts';
import { listDir } from '../../src-main/engine/backup/entry.ts';

const log = (message: string, detail?: unknown): void =>
  console.error(`[bulwark service] ${message}`, detail ?? '');

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

async function simulatedScan(dir: string, entries: number, minMs: number, resultFile: string): Promise<void> {
  const startedAt = Date.now();
  let listed = 0;
  let folders = 0;
  let digest = '';
  while (listed < entries || Date.now() - startedAt < minMs) {
    const listing = listDir(dir, () => true);
    if (listing.error !== undefined) throw new Error(`cannot list ${dir}: ${listing.error}`);
    digest = createHash('sha256').update(digest).update(JSON.stringify(listing.entries)).digest('hex');
    listed += listing.entries.length;
    folders++;
    // the next folder's listing arrives as the next message: other work (relayed requests) runs between
    await new Promise((resolve) => setImmediate(resolve));
  }
  writeFileSync(
    resultFile,
    JSON.stringify({ entries: listed, folders, startedAt, finishedAt: Date.now(), digest }),
  );
}

runServiceProcess({
  port: connectToParent(),
  log,
  open(init) {
    const service = openDesktopService(init, log);
    setImmediate(() => {
      simulatedScan(
        need('BENCH_SCAN_DIR'),
        Number(need('BENCH_SCAN_ENTRIES')),
        Number(process.env['BENCH_SCAN_MIN_MS'] ?? 0),
        need('BENCH_SCAN_RESULT'),
      ).catch((e: unknown) => {
        log('the simulated scan failed', e);
        process.exit(2);
      });
    });
    return service;
  },
});
