/**
 * Prune's safety rules on a MemoryStore that enforces Object Lock (FakeClock as server clock) and on a
 * folder (locks recorded and honoured by Bulwark itself): never a delete for a locked object, two phases,
 * a concurrent backup on another computer that reused a pack being deleted still commits a restorable
 * snapshot, prune pauses on the flag, dry runs change nothing, and a lost catalog gets policies, tier
 * promotions and the audit log back from the repository.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../../src-main/engine/audit/audit.ts';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { verifyLocks } from '../../../src-main/engine/locks/verify-locks.ts';
import { rebuildCatalog } from '../../../src-main/engine/ops/rebuild.ts';
import { restoreSnapshot } from '../../../src-main/engine/ops/restore.ts';
import { verifyRepository } from '../../../src-main/engine/ops/verify.ts';
import { initRepository, type Repository } from '../../../src-main/engine/repo/repository.ts';
import { forget } from '../../../src-main/engine/retention/forget.ts';
import { prunePausedReason, setPrunePaused } from '../../../src-main/engine/retention/marks.ts';
import { getRetentionPolicy, setRetentionPolicy } from '../../../src-main/engine/retention/policies.ts';
import type { RetentionPolicy } from '../../../src-main/engine/retention/policy.ts';
import { prune } from '../../../src-main/engine/retention/prune.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import type { BlobStore, PutBody, PutOptions, PutResult } from '../../../src-main/engine/storage/types.ts';
import { PASSWORD, TEST_KDF, tempDir } from '../helpers/repo.ts';
import { content, countLockedDeletes, DAY, HOUR, initLocked, openRepo, storedBytes } from './helpers.ts';

const dirs: string[] = [];
const repos: Repository[] = [];
afterAll(() => {
  for (const r of repos) r.catalog.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const KEEP_LAST: RetentionPolicy = {
  keepLast: 1,
  lockDays: { daily: 1, weekly: 1, monthly: 1, yearly: 1 },
  timeZone: 'UTC',
};

interface Target {
  kind: 'memory' | 'folder';
  clock: FakeClock;
  store: BlobStore;
  dir: string;
  open(name: string): Promise<Repository>;
}

async function target(kind: 'memory' | 'folder'): Promise<Target> {
  const dir = tempDir(`prune-${kind}`);
  dirs.push(dir);
  const clock = new FakeClock(Date.UTC(2025, 2, 3, 9));
  let store: BlobStore;
  if (kind === 'memory') {
    store = new MemoryStore({ clock });
    await initLocked(store, 1, 1);
  } else {
    store = new FsStore({ root: join(dir, 'repo'), clock });
    await initRepository(store, PASSWORD, { kdf: TEST_KDF });
  }
  return {
    kind,
    clock,
    store,
    dir,
    async open(name) {
      const r = await openRepo(store, join(dir, `${name}.db`), clock);
      repos.push(r);
      return r;
    },
  };
}

/** The same store, calling `hook` (once) before the first put whose name starts with `prefix`. */
function withHook(store: BlobStore, prefix: string, hook: () => Promise<void>): BlobStore {
  let fired = false;
  const wrapped = Object.create(store) as BlobStore;
  wrapped.put = async (name: string, body: PutBody, opts?: PutOptions): Promise<PutResult> => {
    if (!fired && name.startsWith(prefix)) {
      fired = true;
      await hook();
    }
    return store.put(name, body, opts);
  };
  return wrapped;
}

function source(dir: string, name: string, files: Record<string, Buffer | string>): string {
  const p = join(dir, name);
  rmSync(p, { recursive: true, force: true });
  mkdirSync(p, { recursive: true });
  for (const [f, data] of Object.entries(files)) writeFileSync(join(p, f), data);
  return p;
}

async function restoresAs(
  repo: Repository,
  id: string,
  dir: string,
  files: Record<string, Buffer | string>,
): Promise<void> {
  const out = join(dir, `restore-${id}-${Math.random().toString(36).slice(2)}`);
  const r = await restoreSnapshot(repo, { snapshot: id, target: out });
  expect(r.errors).toEqual([]);
  for (const [f, data] of Object.entries(files))
    expect(readFileSync(join(out, f)).equals(Buffer.from(data)), f).toBe(true);
}

describe.each(['memory', 'folder'] as const)('prune on a %s target', (kind) => {
  it('a concurrent backup that reused a pack prune deletes still commits a restorable snapshot', async () => {
    const t = await target(kind);
    const a = await t.open('a');
    const shared = content(7, 300 * 1024);
    // Computer A: a snapshot with a big file, then one without it; the policy keeps only the last.
    const x1 = source(t.dir, 'x', { 'shared.bin': shared, 'x.txt': 'one' });
    await backup(a, { paths: [x1], source: 'x', readers: 1 });
    t.clock.advance(HOUR);
    const x2 = source(t.dir, 'x', { 'x.txt': 'two' });
    const s2 = await backup(a, { paths: [x2], source: 'x', readers: 1 });
    await setRetentionPolicy(a, 'x', KEEP_LAST);
    t.clock.advance(5 * DAY);
    const f = await forget(a);
    expect(f.forgotten).toBe(1);
    const p1 = await prune(a);
    expect(p1.deleted).toEqual([]);
    expect(p1.marked.length).toBeGreaterThanOrEqual(2); // the data pack with shared.bin and a tree pack
    t.clock.advance(2 * HOUR);

    // Computer B knows that pack (its catalog synced before the prune) and backs up the same content. While
    // it uploads its index, just before its commit step, A's second prune deletes the pack.
    const bStore = withHook(t.store, 'index/', async () => {
      const p2 = await prune(a);
      expect(p2.deleted.length).toBe(p1.marked.length);
    });
    const b = await openRepo(bStore, join(t.dir, 'b.db'), t.clock);
    repos.push(b);
    await b.syncIndexes();
    const y = source(t.dir, 'y', { 'shared.bin': shared, 'y.txt': 'why' });
    const sy = await backup(b, { paths: [y], source: 'y', readers: 1 });
    // it noticed, and stored the blobs again: they are in the repository, not only in the deleted pack
    expect(sy.stats.bytesAdded).toBeGreaterThan(300 * 1024);

    // Every snapshot restores, from either computer's catalog and from a rebuilt one.
    await restoresAs(b, sy.id, t.dir, { 'y/shared.bin': shared, 'y/y.txt': 'why' });
    await a.syncIndexes();
    await a.syncSnapshots();
    await restoresAs(a, sy.id, t.dir, { 'y/shared.bin': shared, 'y/y.txt': 'why' });
    await restoresAs(a, s2.id, t.dir, { 'x/x.txt': 'two' });
    const c = await t.open('c');
    await rebuildCatalog(c);
    await restoresAs(c, sy.id, t.dir, { 'y/shared.bin': shared });
    expect((await verifyRepository(c)).problems).toEqual([]);

    // Every mutating operation is in the repository's audit log, with time and origin.
    const log = await readAuditLog(c);
    const actions = log.entries.map((e) => e.action);
    for (const act of ['backup', 'policy-set', 'forget', 'prune', 'restore', 'rebuild-catalog'])
      expect(actions, act).toContain(act);
    expect(actions.filter((x) => x === 'backup').length).toBe(3);
    for (const e of log.entries) {
      expect(Date.parse(e.time)).toBeGreaterThan(0);
      expect(e.host.length).toBeGreaterThan(0);
      expect(e.user.length).toBeGreaterThan(0);
    }
  });

  it('never deletes before the recorded date: forget and prune say until when', async () => {
    const t = await target(kind);
    const deletes = countLockedDeletes(t.store, t.clock);
    const a = await t.open('a');
    const src = source(t.dir, 's', { 'a.bin': content(1, 200 * 1024) });
    const first = await backup(a, { paths: [src], source: 's', lockDays: 1, readers: 1 });
    source(t.dir, 's', { 'b.bin': content(2, 200 * 1024) });
    t.clock.advance(HOUR);
    await backup(a, { paths: [src], source: 's', lockDays: 1, readers: 1 });
    // The policy locks dailies for 3 days: the first snapshot cannot go before then, on either target.
    await setRetentionPolicy(a, 's', {
      ...KEEP_LAST,
      lockDays: { daily: 3, weekly: 3, monthly: 3, yearly: 3 },
    });
    const f1 = await forget(a);
    expect(f1.forgotten).toBe(0);
    const locked = f1.sources[0]!.locked;
    expect(locked.map((l) => l.id)).toEqual([first.id]);
    expect(Date.parse(locked[0]!.lockedUntil!)).toBeGreaterThanOrEqual(Date.parse(first.time) + 3 * DAY);
    expect(locked[0]!.reasons).toContain('daily lock of the policy');

    // A run killed before its commit leaves packs and an index nobody needs, locked on the memory target.
    const killed = withHook(t.store, 'snapshots/', () => Promise.reject(new Error('killed')));
    const k = await openRepo(killed, join(t.dir, 'k.db'), t.clock);
    repos.push(k);
    source(t.dir, 's', { 'c.bin': content(3, 400 * 1024) });
    await expect(backup(k, { paths: [src], source: 's', lockDays: 20, readers: 1 })).rejects.toThrow(
      'killed',
    );
    const p1 = await prune(a, { orphanGraceMs: 0 });
    expect(p1.deleted).toEqual([]);
    expect(p1.marked.length).toBeGreaterThanOrEqual(2);
    t.clock.advance(DAY);
    const bytes = await storedBytes(t.store);
    const p2 = await prune(a, { orphanGraceMs: 0 });
    if (kind === 'memory') {
      // still locked by the server: kept, no delete sent, and it says until when
      expect(p2.deleted).toEqual([]);
      expect(p2.deleteCalls).toBe(0);
      expect(p2.locked.filter((l) => l.why === 'unreferenced').length).toBe(p1.marked.length);
      for (const l of p2.locked) expect(Date.parse(l.until!)).toBeGreaterThan(t.clock.now().getTime());
      t.clock.advance(25 * DAY);
      const p3 = await prune(a, { orphanGraceMs: 0 });
      expect(p3.deleted.length).toBe(p1.marked.length);
      expect(p3.indexesDeleted.length).toBe(1);
    } else {
      // a folder keeps no locks on data nobody needs: it goes once marked long enough
      expect(p2.deleted.length).toBe(p1.marked.length);
    }
    expect(await storedBytes(t.store)).toBeLessThan(bytes);
    expect(deletes.locked).toBe(0);

    // The first snapshot goes once its recorded date has passed.
    t.clock.set(Math.max(t.clock.now().getTime(), Date.parse(first.time) + 6 * DAY));
    const f2 = await forget(a);
    expect(f2.sources[0]!.forgotten.map((x) => x.id)).toEqual([first.id]);
    expect(deletes.locked).toBe(0);
    expect((await verifyRepository(a)).problems).toEqual([]);
  });

  it('pauses on the flag, and a dry run changes nothing', async () => {
    const t = await target(kind);
    const a = await t.open('a');
    const src = source(t.dir, 's', { 'a.bin': content(1, 100 * 1024) });
    await backup(a, { paths: [src], source: 's', readers: 1 });
    source(t.dir, 's', { 'b.bin': content(2, 100 * 1024) });
    t.clock.advance(HOUR);
    await backup(a, { paths: [src], source: 's', readers: 1 });
    await setRetentionPolicy(a, 's', KEEP_LAST);
    t.clock.advance(5 * DAY);

    setPrunePaused(a.catalog, 'ransomware suspected on PC-3', t.clock.now());
    expect(prunePausedReason(a.catalog)).toContain('PC-3');
    const paused = await prune(a).catch((e: unknown) => e);
    expect(isBulwarkError(paused, 'LOCKED')).toBe(true);
    expect((paused as Error).message).toContain('ransomware suspected on PC-3');
    setPrunePaused(a.catalog, null, t.clock.now());

    const objects = async (): Promise<string[]> => {
      const names: string[] = [];
      for await (const o of t.store.list('')) names.push(o.name);
      return names.sort();
    };
    const before = await objects();
    const fd = await forget(a, { dryRun: true });
    expect(fd.forgotten).toBe(1);
    const pd = await prune(a, { dryRun: true });
    expect(pd.marked.length).toBe(0); // nothing forgotten yet
    expect(await objects()).toEqual(before);
    await forget(a);
    const pd2 = await prune(a, { dryRun: true });
    expect(pd2.marked.length).toBeGreaterThan(0);
    const after = await objects();
    await prune(a);
    t.clock.advance(2 * HOUR);
    const pd3 = await prune(a, { dryRun: true });
    expect(pd3.deleted.length).toBe(pd2.marked.length);
    const marked = await objects();
    expect(marked.filter((n) => n.startsWith('packs/'))).toEqual(after.filter((n) => n.startsWith('packs/')));
  });
});

describe('a lost catalog', () => {
  it('gets policies, tier promotions and the audit log back from the repository', async () => {
    const t = await target('memory');
    const a = await t.open('a');
    const src = source(t.dir, 's', { 'a.bin': content(1, 50 * 1024) });
    const snap = await backup(a, { paths: [src], source: 's', lockDays: 1, readers: 1 });
    const policy: RetentionPolicy = {
      keepLast: 1,
      keepYearly: 1,
      lockDays: { daily: 1, weekly: 2, monthly: 3, yearly: 5 },
      timeZone: 'UTC',
    };
    await setRetentionPolicy(a, 's', policy, { template: 'custom' });
    // Evaluated a year later, the snapshot is the keeper of a finished year: promoted to the yearly lock.
    const f = await forget(a, { now: new Date(t.clock.now().getTime() + 366 * DAY) });
    const kept = f.sources[0]!.keep[0]!;
    expect(kept.promoted).toMatchObject({ tier: 'yearly' });
    expect(Date.parse(kept.promoted!.until)).toBe(Date.parse(snap.time) + 5 * DAY);

    const c = await t.open('lost');
    expect((await getRetentionPolicy(c, 's'))?.policy).toEqual(policy);
    const report = await verifyLocks(c);
    expect(report.violations).toEqual([]);
    const st = report.snapshots.find((s) => s.id === snap.id)!;
    expect(st.tier).toBe('yearly');
    expect(Date.parse(st.protectedUntil!)).toBeGreaterThanOrEqual(Date.parse(snap.time) + 5 * DAY);
    const log = await readAuditLog(c);
    expect(log.entries.map((e) => e.action).sort()).toEqual(['backup', 'forget', 'policy-set']);
  });
});
