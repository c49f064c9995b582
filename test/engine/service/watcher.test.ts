import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import {
  SourceWatcher,
  type ChangeBatch,
  type WatchCallbacks,
  type WatchFactory,
  type WatchStatus,
} from '../../../src-main/engine/service/watcher.ts';
import type { ChokidarOptions } from 'chokidar';
import { ManualTimers, tempDir, until } from './helpers/util.ts';

/** A fake chokidar: records each start; the test drives its callbacks. */
function fakeFactory(onStart: (call: { opts: ChokidarOptions; cb: WatchCallbacks; n: number }) => void): {
  factory: WatchFactory;
  calls: { opts: ChokidarOptions; cb: WatchCallbacks; closed: boolean }[];
} {
  const calls: { opts: ChokidarOptions; cb: WatchCallbacks; closed: boolean }[] = [];
  const factory: WatchFactory = (_paths, opts, cb) => {
    const call = { opts, cb, closed: false };
    calls.push(call);
    onStart({ opts, cb, n: calls.length });
    return {
      close: async () => {
        call.closed = true;
      },
    };
  };
  return { factory, calls };
}

const enospc = (): Error =>
  Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });

describe('SourceWatcher', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  function watched() {
    const t = tempDir('watch');
    cleanups.push(() => t.cleanup());
    const root = join(t.dir, 'src');
    mkdirSync(root);
    return { dir: t.dir, root };
  }

  it('batches a burst of real events over the quiet period into one batch', async () => {
    const { root } = watched();
    const batches: ChangeBatch[] = [];
    const w = new SourceWatcher(
      { sourceId: 's', roots: [root], quietMs: 300 },
      { onBatch: (b) => batches.push(b) },
    );
    cleanups.push(() => w.stop());
    await w.start();
    expect(w.status().mode).toBe('native');
    mkdirSync(join(root, 'sub'));
    for (let i = 0; i < 300; i++) writeFileSync(join(root, 'sub', `f${i}.txt`), `x${i}`);
    await until(() => batches.length > 0, 'a batch');
    await new Promise((r) => setTimeout(r, 800));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.count).toBeGreaterThanOrEqual(300);
    expect(batches[0]!.sample).toContain(join(root, 'sub', 'f299.txt'));
    expect(batches[0]!.resync).toBe(false);
  });

  it('ignored paths never make a batch', async () => {
    const { root } = watched();
    const batches: ChangeBatch[] = [];
    const w = new SourceWatcher(
      { sourceId: 's', roots: [root], quietMs: 100, ignore: (p) => p.endsWith('.tmp') },
      { onBatch: (b) => batches.push(b) },
    );
    cleanups.push(() => w.stop());
    await w.start();
    for (let i = 0; i < 20; i++) writeFileSync(join(root, `f${i}.tmp`), 'x');
    await new Promise((r) => setTimeout(r, 600));
    expect(batches).toHaveLength(0);
    writeFileSync(join(root, 'real.txt'), 'x');
    await until(() => batches.length === 1, 'a batch for real.txt');
    expect(batches[0]!.sample).toEqual([join(root, 'real.txt')]);
  });

  it('ENOSPC (inotify limit) switches to polling, reports it as degraded, and asks for a resync', async () => {
    const { root } = watched();
    const { factory, calls } = fakeFactory(({ opts, cb }) => {
      if (opts.backend !== 'polling') queueMicrotask(() => cb.onError(enospc()));
      else queueMicrotask(() => cb.onReady());
    });
    const statuses: WatchStatus[] = [];
    const batches: ChangeBatch[] = [];
    const w = new SourceWatcher(
      { sourceId: 's', roots: [root], quietMs: 100 },
      { onBatch: (b) => batches.push(b), onStatus: (s) => statuses.push(s) },
      { factory },
    );
    cleanups.push(() => w.stop());
    await w.start();
    await until(() => w.status().mode === 'polling', 'polling mode');
    expect(calls.map((c) => c.opts.backend)).toEqual(['auto', 'polling']);
    expect(calls[0]!.closed).toBe(true);
    const st = w.status();
    expect(st.degraded).toBe(true);
    expect(st.lastError?.code).toBe('ENOSPC');
    expect(statuses.at(-1)?.mode).toBe('polling');
    // what changed while no watcher ran is found by a rescan
    expect(batches).toEqual([expect.objectContaining({ resync: true, count: 0 })]);
    // polling events are batched like native ones
    calls[1]!.cb.onEvent('change', join(root, 'a.txt'));
    await until(() => batches.length === 2, 'a batch from polling');
  });

  it('a watcher that keeps failing restarts with exponential backoff, never in a loop', () => {
    const { root } = watched();
    const clock = new FakeClock();
    const timers = new ManualTimers(clock);
    let starts = 0;
    const factory: WatchFactory = () => {
      starts++;
      throw Object.assign(new Error('watch failed'), { code: 'EIO' });
    };
    const statuses: WatchStatus[] = [];
    const w = new SourceWatcher(
      { sourceId: 's', roots: [root], quietMs: 100 },
      { onBatch: () => undefined, onStatus: (s) => statuses.push(s) },
      { factory, clock, timers, backoffInitialMs: 1000, backoffMaxMs: 60_000 },
    );
    void w.start();
    expect(starts).toBe(1);
    expect(w.status()).toMatchObject({ mode: 'rescan-only', degraded: true, failures: 1 });
    expect(w.status().nextRetryAt).toBe(clock.now().getTime() + 1000);
    // 10 minutes of fake time: 1+2+4+8+16+32 s, then every 60 s
    timers.advance(600_000);
    expect(starts).toBeGreaterThan(8);
    expect(starts).toBeLessThan(16);
    const delays = timers.requested.slice(0, 9);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    void w.stop();
    const after = starts;
    timers.advance(600_000);
    expect(starts).toBe(after);
  });

  it('a removed root switches to rescan-only; when it is back, watching resumes with a resync', async () => {
    const { dir, root } = watched();
    const statuses: WatchStatus[] = [];
    const batches: ChangeBatch[] = [];
    const w = new SourceWatcher(
      { sourceId: 's', roots: [root], quietMs: 100 },
      { onBatch: (b) => batches.push(b), onStatus: (s) => statuses.push(s) },
      { backoffInitialMs: 200, backoffMaxMs: 400 },
    );
    cleanups.push(() => w.stop());
    await w.start();
    writeFileSync(join(root, 'a.txt'), 'a');
    await until(() => batches.length === 1, 'first batch');
    renameSync(root, join(dir, 'moved-away'));
    await until(() => w.status().mode === 'rescan-only', 'rescan-only mode');
    expect(w.status().missingRoots).toEqual([root]);
    expect(w.status().lastError?.code).toBe('ENOENT');
    await new Promise((r) => setTimeout(r, 1000)); // several retries while it is missing
    expect(w.status().mode).toBe('rescan-only');
    expect(w.status().failures).toBeGreaterThan(1);
    expect(batches).toHaveLength(1); // the deletion of the folder is not a change to back up
    renameSync(join(dir, 'moved-away'), root);
    await until(() => w.status().mode === 'native', 'native mode again', 5000);
    expect(w.status().degraded).toBe(false);
    await until(() => batches.length === 2, 'resync batch');
    expect(batches[1]!.resync).toBe(true);
    writeFileSync(join(root, 'b.txt'), 'b');
    await until(() => batches.length === 3, 'a batch after recovery');
  });
});
