import { rmSync, symlinkSync } from 'node:fs';
import type { Clock } from '../../../src-main/engine/clock.ts';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { initRepository, Repository } from '../../../src-main/engine/repo/repository.ts';
import type { BlobStore, ObjectInfo } from '../../../src-main/engine/storage/types.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** Deterministic pseudo-random bytes (xorshift32), so every day's expected content can be recomputed. */
export function content(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export async function openRepo(store: BlobStore, catalogPath: string, clock: Clock): Promise<Repository> {
  return Repository.open(store, PASSWORD, Catalog.open(catalogPath, { clock }), { clock });
}

export async function initLocked(store: BlobStore, days: number, paddingDays: number): Promise<void> {
  await initRepository(store, PASSWORD, { kdf: TEST_KDF, lock: { mode: 'COMPLIANCE', days, paddingDays } });
}

/** Sum of the sizes of every object in the store under `prefix`. */
export async function storedBytes(store: BlobStore, prefix = ''): Promise<number> {
  let n = 0;
  for await (const o of store.list(prefix)) n += o.size;
  return n;
}

/**
 * Counts deletes sent for objects still under retention (by `clock`), which Bulwark must never send:
 * wraps `store.delete` in place.
 */
export function countLockedDeletes(store: BlobStore, clock: Clock): { locked: number; sent: number } {
  const counts = { locked: 0, sent: 0 };
  const isLocked = (info: ObjectInfo | undefined): boolean =>
    info?.retainUntil !== undefined && info.retainUntil.getTime() > clock.now().getTime();
  const original = store.delete.bind(store);
  store.delete = async (name: string): Promise<void> => {
    counts.sent++;
    let info: ObjectInfo | undefined;
    try {
      info = await store.head(name);
    } catch {
      info = undefined;
    }
    if (isLocked(info)) counts.locked++;
    return original(name);
  };
  // A repository on a versioned store deletes by version id (repo/pinned-store.ts): count those too.
  const v = store.versions;
  if (v) {
    const deleteVersion = v.deleteVersion.bind(v);
    v.deleteVersion = async (name: string, versionId: string): Promise<void> => {
      counts.sent++;
      let info: ObjectInfo | undefined;
      try {
        info = await v.headVersion(name, versionId);
      } catch {
        info = undefined; // a delete marker has no head
      }
      if (isLocked(info)) counts.locked++;
      return deleteVersion(name, versionId);
    };
  }
  return counts;
}

/** Points a symlink at `target` (replacing what was there). */
export function setLink(path: string, target: string): void {
  rmSync(path, { force: true });
  symlinkSync(target, path);
}
