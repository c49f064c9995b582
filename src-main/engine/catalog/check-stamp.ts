/**
 * When the catalog's integrity check (SQLite quick_check, ~4 ms per MB: half a second for a 40 000-file
 * catalog, paid by every command) can be skipped. After a clean close Bulwark writes `<catalog>.checked`:
 * the file's size, mtime and inode as it left them, and when quick_check last passed. The next open skips
 * the check only when the file is exactly as left (nothing else wrote it: no copy, no byte flip through
 * the file system, no crash — a crash leaves a WAL behind), and the last check is less than a day old. A
 * damaged page that slips through (a bit flipped by the disk under an unchanged mtime) is still met by
 * SQLite when it is read: the callers turn that into the same rebuild (isCatalogDamaged).
 */
import { existsSync, readFileSync, statSync, writeFileSync, type BigIntStats } from 'node:fs';

/** how long a passed check is trusted for a file nobody else touched */
export const CHECK_TRUSTED_MS = 24 * 60 * 60 * 1000;

interface Stamp {
  size: string;
  mtimeNs: string;
  ino: string;
  checkedAt: number;
}

const stampPath = (db: string): string => `${db}.checked`;

function fileState(st: BigIntStats): Omit<Stamp, 'checkedAt'> {
  return { size: st.size.toString(), mtimeNs: st.mtimeNs.toString(), ino: st.ino.toString() };
}

/**
 * When the last check passed, if it may stand for this open; undefined: run the check. Anything odd (no
 * stamp, unreadable stamp, a WAL left behind, a changed file) means undefined.
 */
export function trustedCheck(db: string, now: number): number | undefined {
  const wal = statSync(`${db}-wal`, { throwIfNoEntry: false });
  // a WAL with frames: a crash, or another process has it open (its writes are not checked by us)
  if (wal && wal.size > 0) return undefined;
  const st = statSync(db, { bigint: true, throwIfNoEntry: false });
  if (!st || !existsSync(stampPath(db))) return undefined;
  let stamp: Partial<Stamp>;
  try {
    stamp = JSON.parse(readFileSync(stampPath(db), 'utf8')) as Partial<Stamp>;
  } catch {
    return undefined; // an unreadable stamp only costs the check it would have saved
  }
  const state = fileState(st);
  if (stamp.size !== state.size || stamp.mtimeNs !== state.mtimeNs || stamp.ino !== state.ino)
    return undefined;
  const at = stamp.checkedAt;
  if (typeof at !== 'number' || !(now - at < CHECK_TRUSTED_MS) || at > now) return undefined;
  return at;
}

/**
 * Records the file as this process left it (call after the database is closed). Written only when the
 * close left no WAL (the last connection: the file holds everything). Returns why no stamp was written
 * (the next open then runs the check), or undefined.
 */
export function writeCheckStamp(db: string, checkedAt: number): string | undefined {
  const wal = statSync(`${db}-wal`, { throwIfNoEntry: false });
  if (wal && wal.size > 0) return 'another connection has the catalog open';
  try {
    const st = statSync(db, { bigint: true });
    const stamp: Stamp = { ...fileState(st), checkedAt };
    writeFileSync(stampPath(db), JSON.stringify(stamp), { mode: 0o600 });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
