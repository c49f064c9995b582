/**
 * Two simulated years of daily backups into a MemoryStore that enforces Object Lock by the same FakeClock
 * the repository uses as its server clock, with forget + prune every week: forget keeps exactly the
 * policy's set (once the locks of the rest have ended), never deletes a locked object, promotes keepers to
 * their tier's lock (verify --locks holds), prune frees the space, and every kept snapshot restores byte
 * for byte.
 */
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { verifyLocks } from '../../../src-main/engine/locks/verify-locks.ts';
import { restoreSnapshot } from '../../../src-main/engine/ops/restore.ts';
import { verifyRepository } from '../../../src-main/engine/ops/verify.ts';
import type { SnapshotManifest } from '../../../src-main/engine/repo/format.ts';
import { readAuditLog } from '../../../src-main/engine/audit/audit.ts';
import { forget } from '../../../src-main/engine/retention/forget.ts';
import { setRetentionPolicy } from '../../../src-main/engine/retention/policies.ts';
import { applyPolicy, type RetentionPolicy } from '../../../src-main/engine/retention/policy.ts';
import { prune } from '../../../src-main/engine/retention/prune.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import { tempDir } from '../helpers/repo.ts';
import {
  content,
  countLockedDeletes,
  DAY,
  HOUR,
  initLocked,
  openRepo,
  setLink,
  storedBytes,
} from './helpers.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const START = Date.UTC(2025, 0, 1, 17); // 18:00 in Berlin
const DAYS = 730;
const POLICY: RetentionPolicy = {
  keepDaily: 14,
  // weekly keepers drop out after 4 weeks but stay locked for 35 days: forget must wait for them
  keepWeekly: 4,
  keepMonthly: 12,
  keepYearly: 3,
  lockDays: { daily: 7, weekly: 35, monthly: 120, yearly: 400 },
  timeZone: 'Europe/Berlin',
};

/** What the source holds on day `d`: a file changed weekly, one changed monthly, a link changed daily. */
function expected(d: number): { weekly: Buffer; monthly: Buffer; today: string } {
  const date = new Date(START + d * DAY);
  const month = date.getUTCFullYear() * 12 + date.getUTCMonth();
  return {
    weekly: content(1000 + Math.floor(d / 7), 150 * 1024),
    monthly: content(month, 100 * 1024),
    today: `day-${d}`,
  };
}

describe('retention over two simulated years (MemoryStore with Object Lock, FakeClock)', () => {
  it('forget keeps exactly the policy set, prune frees space, every kept snapshot restores', async () => {
    const dir = tempDir('retention-sim');
    dirs.push(dir);
    const src = join(dir, 'src');
    mkdirSync(src);
    const clock = new FakeClock(START);
    const store = new MemoryStore({ clock });
    const deletes = countLockedDeletes(store, clock);
    await initLocked(store, 7, 2);
    const repo = await openRepo(store, join(dir, 'catalog.db'), clock);
    await setRetentionPolicy(repo, 'office', POLICY);

    const made: (SnapshotManifest & { day: number })[] = [];
    const paths = ['weekly.bin', 'monthly.bin', 'today'].map((n) => join(src, n));
    let lastWeekly = -1;
    let lastMonthly = '';
    let promoted = 0;
    let lockedSeen = 0;
    let bytesFreed = 0;
    for (let d = 0; d < DAYS; d++) {
      clock.set(START + d * DAY);
      const e = expected(d);
      if (Math.floor(d / 7) !== lastWeekly) {
        writeFileSync(paths[0]!, e.weekly);
        lastWeekly = Math.floor(d / 7);
      }
      const monthKey = e.monthly.subarray(0, 8).toString('hex');
      if (monthKey !== lastMonthly) {
        writeFileSync(paths[1]!, e.monthly);
        lastMonthly = monthKey;
      }
      setLink(paths[2]!, e.today);
      const m = await backup(repo, { paths, source: 'office', lockDays: POLICY.lockDays.daily, readers: 1 });
      made.push({ ...m, day: d });
      if (d % 7 === 6) {
        clock.advance(HOUR);
        const f = await forget(repo);
        promoted += f.promoted;
        lockedSeen += f.locked;
        for (const s of f.sources) {
          // a snapshot the policy keeps is never forgotten
          const keep = new Set(s.keep.map((k) => k.id));
          for (const g of s.forgotten) expect(keep.has(g.id)).toBe(false);
          for (const l of s.locked) expect(Date.parse(l.lockedUntil!)).toBeGreaterThan(clock.now().getTime());
        }
        const p = await prune(repo);
        bytesFreed += p.bytesFreed;
      }
    }
    expect(promoted).toBeGreaterThan(20); // weekly, monthly and the first yearly keeper
    expect(lockedSeen).toBeGreaterThan(0); // weekly keepers past their 4 weeks, still locked
    expect(bytesFreed).toBeGreaterThan(10 * 150 * 1024);

    // After the last backup, wait until every lock of a snapshot the policy drops has ended.
    clock.advance(40 * DAY);
    const final = await forget(repo);
    expect(final.locked).toBe(0);
    const want = applyPolicy(made, POLICY, clock.now());
    const remaining = repo.catalog.snapshots(repo.rid).map((s) => s.id);
    expect(new Set(remaining)).toEqual(new Set(want.keep.map((k) => k.id)));
    expect(remaining.length).toBe(14 + 4 + 12 + 2 - overlap(want.keep));

    // Prune: a run deletes only what an earlier run marked; what the last forget released is marked now
    // and deleted by a later run; the bytes go down.
    const before = await storedBytes(store, 'packs/');
    const p1 = await prune(repo);
    expect(p1.marked.length).toBeGreaterThan(0);
    const early = await prune(repo); // the marks are from this very hour: too recent, nothing deleted
    expect(early.deleted).toEqual([]);
    expect(early.deleteCalls).toBe(0);
    expect(early.waiting.map((w) => w.pack).sort()).toEqual([...p1.marked].sort());
    clock.advance(2 * HOUR);
    const beforeP2 = await storedBytes(store, 'packs/');
    const p2 = await prune(repo);
    expect(p2.deleted.map((x) => x.object).sort()).toEqual(
      p1.marked.map((id) => `packs/${id.slice(0, 2)}/${id}`).sort(),
    );
    expect(p2.deleteCalls).toBeGreaterThanOrEqual(p2.deleted.length);
    const after = await storedBytes(store, 'packs/');
    expect(beforeP2 - after).toBe(p2.deleted.reduce((n, x) => n + x.size, 0));
    expect(after).toBeLessThan(before);
    expect(deletes.locked).toBe(0); // never a delete for a locked object
    expect(deletes.sent).toBeGreaterThan(100);

    // The repository is whole: the hash chain holds across forgotten snapshots, every lock promise holds.
    const v = await verifyRepository(repo);
    expect(v.problems).toEqual([]);
    const locks = await verifyLocks(repo);
    expect(locks.violations).toEqual([]);
    const yearly = locks.snapshots.filter((s) => s.tier === 'yearly');
    expect(yearly.length).toBeGreaterThan(0);
    for (const s of yearly) {
      expect(Date.parse(s.tierUntil!)).toBe(Date.parse(s.time) + 400 * DAY);
      expect(Date.parse(s.protectedUntil!)).toBeGreaterThanOrEqual(Date.parse(s.tierUntil!));
    }

    // Every kept snapshot restores byte for byte.
    const byId = new Map(made.map((m) => [m.id, m]));
    for (const id of remaining) {
      const day = byId.get(id)!.day;
      const out = join(dir, `restore-${day}`);
      const r = await restoreSnapshot(repo, { snapshot: id, target: out });
      expect(r.errors).toEqual([]);
      const e = expected(day);
      expect(readFileSync(join(out, 'weekly.bin')).equals(e.weekly), `day ${day} weekly`).toBe(true);
      expect(readFileSync(join(out, 'monthly.bin')).equals(e.monthly), `day ${day} monthly`).toBe(true);
      expect(readlinkSync(join(out, 'today'))).toBe(e.today);
      rmSync(out, { recursive: true });
    }

    // The audit log in the repository has every operation, with time and origin.
    const log = await readAuditLog(repo);
    expect(log.damaged).toEqual([]);
    const count = (a: string): number => log.entries.filter((x) => x.action === a).length;
    expect(count('backup')).toBe(DAYS);
    expect(count('forget')).toBe(Math.floor(DAYS / 7) + 1);
    expect(count('prune')).toBe(Math.floor(DAYS / 7) + 3);
    expect(count('policy-set')).toBe(1);
    expect(count('restore')).toBe(remaining.length);
    for (const x of log.entries) {
      expect(Number.isFinite(Date.parse(x.time))).toBe(true);
      expect(x.host).not.toBe('');
      expect(x.user).not.toBe('');
    }
    repo.catalog.close();
  }, 900_000);
});

/** Snapshots kept by several rules are counted once: how many double counts the expected total has. */
function overlap(keep: readonly { reasons: string[] }[]): number {
  return keep.reduce((n, k) => n + k.reasons.length - 1, 0);
}
