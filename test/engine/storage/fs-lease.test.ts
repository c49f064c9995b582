/**
 * The folder lease (storage/fs.ts FolderLease) that lets a prune and a backup on two computers sharing one
 * folder take turns: exclusive, taken over when its holder is gone (dead process on this computer, or no
 * refresh for a lease period on any computer, measured by the waiter), never while the holder refreshes it,
 * and a holder that lost it knows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { folderLease, FsStore, type LeaseHolder } from '../../../src-main/engine/storage/fs.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import { tempDir } from '../helpers/repo.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(): { store: FsStore; file: string } {
  const dir = tempDir('lease');
  dirs.push(dir);
  const store = new FsStore({ root: join(dir, 'repo') });
  return { store, file: join(dir, 'repo', 'locks', 'commit.lease') };
}

/** A lease file as another process (here, or on another computer) would have left it. */
function foreignLease(file: string, holder: Partial<LeaseHolder>): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const full: LeaseHolder = {
    id: 'f'.repeat(32),
    host: 'other-computer',
    pid: 4242,
    purpose: 'prune',
    acquired: '2025-03-03T09:00:00.000Z',
    leaseMs: 200,
    ...holder,
  };
  writeFileSync(file, JSON.stringify(full));
}

const deadPid = (): number => {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
};

describe('folder lease', () => {
  it('is exclusive: a second taker waits until the first releases it; not an object', async () => {
    const { store, file } = folder();
    await store.put('data/x', Buffer.from('x'));
    const first = await store.lease('commit', { purpose: 'backup' });
    first.assertHeld();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ purpose: 'backup', pid: process.pid });
    const waitedFor: LeaseHolder[] = [];
    let second: Promise<unknown> | undefined;
    const got = new Promise<void>((resolve) => {
      second = store
        .lease('commit', { purpose: 'prune', onWait: (h) => waitedFor.push(h) })
        .then(async (l) => {
          resolve();
          return l;
        });
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(waitedFor.map((h) => h.purpose)).toEqual(['backup']); // still waiting, told once
    // the lease folder holds no objects
    const list = async (prefix: string): Promise<string[]> => {
      const names: string[] = [];
      for await (const o of store.list(prefix)) names.push(o.name);
      return names;
    };
    expect(await list('')).toEqual(['data/x']);
    expect(await list('locks/')).toEqual([]);
    expect(await list('locks')).toEqual([]);
    await first.release();
    await got;
    const l2 = (await second) as Awaited<ReturnType<FsStore['lease']>>;
    l2.assertHeld();
    expect(() => first.assertHeld()).toThrow(/released/);
    await l2.release();
    expect(existsSync(file)).toBe(false);
  });

  it('takes over at once a lease whose process on this computer is gone', async () => {
    const { store, file } = folder();
    foreignLease(file, { host: hostname(), pid: deadPid(), leaseMs: 3_600_000 });
    const started = performance.now();
    const l = await store.lease('commit', { purpose: 'backup', waitMs: 5_000 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(JSON.parse(readFileSync(file, 'utf8')).id).toBe(l.holder.id);
    await l.release();
  });

  it("takes over another computer's lease only after it stayed unchanged for a lease period", async () => {
    const { store, file } = folder();
    // another computer whose clock is far ahead: its times say nothing, only changes count
    foreignLease(file, { leaseMs: 400 });
    utimesSync(file, new Date('2099-01-01'), new Date('2099-01-01'));
    const waited: string[] = [];
    const started = performance.now();
    const l = await store.lease('commit', {
      purpose: 'backup',
      leaseMs: 400,
      waitMs: 10_000,
      onWait: (h) => waited.push(h.host),
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    expect(waited).toEqual(['other-computer']);
    await l.release();
  });

  it('never takes over a lease its holder keeps refreshing; gives up with LOCKED', async () => {
    const { store, file } = folder();
    foreignLease(file, { leaseMs: 300 });
    let t = Date.UTC(2025, 2, 3);
    const beat = setInterval(() => {
      t += 1000;
      utimesSync(file, new Date(t), new Date(t));
    }, 50);
    try {
      const e = await store
        .lease('commit', { purpose: 'backup', leaseMs: 300, waitMs: 1_500 })
        .catch((x: unknown) => x);
      expect(isBulwarkError(e, 'LOCKED')).toBe(true);
      expect((e as Error).message).toContain('prune (process 4242 on other-computer');
    } finally {
      clearInterval(beat);
    }
    expect(JSON.parse(readFileSync(file, 'utf8')).id).toBe('f'.repeat(32));
  });

  it('a holder that was taken over knows it, and its release leaves the new holder alone', async () => {
    const { store, file } = folder();
    const mine = await store.lease('commit', { purpose: 'prune', leaseMs: 200 });
    // another process judged it stale (say this one was suspended) and took it
    rmSync(file);
    foreignLease(file, { id: 'a'.repeat(32), leaseMs: 200 });
    await mine.refresh();
    expect(() => mine.assertHeld()).toThrow(/took it over/);
    await mine.release();
    expect(JSON.parse(readFileSync(file, 'utf8')).id).toBe('a'.repeat(32));
  });

  it('a holder that could not refresh for half a period stops trusting its lease', async () => {
    const { store } = folder();
    let now = 0;
    const l = await store.lease('commit', { purpose: 'prune', leaseMs: 60_000, now: () => now });
    l.assertHeld();
    now += 31_000; // suspended: no refresh ran
    expect(() => l.assertHeld()).toThrow(/could not be refreshed/);
    await l.refresh();
    l.assertHeld();
    await l.release();
  });

  it('exists only for folders', async () => {
    expect(await folderLease(new MemoryStore(), 'commit', { purpose: 'x' })).toBeUndefined();
    const { store } = folder();
    const wrapped = Object.create(store) as FsStore; // a wrapper (test hooks) over a folder store
    const viaInner = { inner: store } as unknown as FsStore; // a wrapper that keeps its store in `inner`
    for (const s of [store, wrapped, viaInner]) {
      const l = await folderLease(s, 'commit', { purpose: 'x' });
      expect(l).toBeDefined();
      await l!.release();
    }
  });
});
