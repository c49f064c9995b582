import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FakeClock } from '../../../src-main/engine/clock.ts';
import {
  BulwarkError,
  fromSystemError,
  isBulwarkError,
  type ErrorCode,
} from '../../../src-main/engine/errors.ts';
import { FaultyStore, type FaultyMethod } from '../../../src-main/engine/storage/faulty.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import type { ObjectInfo } from '../../../src-main/engine/storage/types.ts';
import { describeBlobStoreConformance } from '../../conformance/storage-suite.ts';

// without faults the wrapper is transparent
describeBlobStoreConformance(
  'FaultyStore(MemoryStore) without faults',
  async () => ({ store: new FaultyStore(new MemoryStore(), { delayMs: 1 }), cleanup: async () => {} }),
  { enforcesRetention: true },
);

describeBlobStoreConformance('FaultyStore(FsStore) without faults', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  return {
    store: new FaultyStore(new FsStore({ root: dir })),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'ok' | 'not a BulwarkError'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isBulwarkError(e) ? e.code : 'not a BulwarkError';
  }
}

async function names(it: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const out: string[] = [];
  for await (const info of it) out.push(info.name);
  return out.sort();
}

const network = (): BulwarkError => new BulwarkError('NETWORK', 'connection reset (injected)');

describe('FaultyStore', () => {
  let inner: MemoryStore;
  let store: FaultyStore;

  beforeEach(async () => {
    inner = new MemoryStore({ clock: new FakeClock() });
    store = new FaultyStore(inner, { seed: 42 });
    await inner.put('seed/a', Buffer.from('a'));
  });

  it('passes location, capabilities and server time through', async () => {
    expect(store.location).toBe(inner.location);
    expect(store.capabilities).toEqual(inner.capabilities);
    expect((await store.serverTime()).getTime()).toBe((await inner.serverTime()).getTime());
  });

  it('failNext fails the next call(s) of one method only, then recovers', async () => {
    store.failNext('get', network(), 2);
    expect(store.pendingFaults('get')).toBe(2);
    expect(await codeOf(store.head('seed/a'))).toBe('ok'); // other methods unaffected
    expect(await codeOf(store.get('seed/a'))).toBe('NETWORK');
    expect(await codeOf(store.get('seed/a'))).toBe('NETWORK');
    expect((await store.get('seed/a')).toString()).toBe('a');
    expect(store.calls.get).toBe(3);
    expect(store.faults.get).toBe(2);
    expect(store.pendingFaults('get')).toBe(0);
    expect(inner.stats.gets).toBe(1); // the failed calls never reached the wrapped store
  });

  it('failNext queues faults in order, and accepts an error factory', async () => {
    store
      .failNext('head', new BulwarkError('NETWORK', 'first'))
      .failNext('head', () => new BulwarkError('IO', 'second'));
    expect(await codeOf(store.head('seed/a'))).toBe('NETWORK');
    expect(await codeOf(store.head('seed/a'))).toBe('IO');
    expect(await codeOf(store.head('seed/a'))).toBe('ok');
    expect(() => store.failNext('head', network(), 0)).toThrow(BulwarkError);
  });

  it.each<FaultyMethod>(['put', 'get', 'head', 'list', 'delete', 'extendRetention'])(
    'can fail %s before it reaches the wrapped store',
    async (method) => {
      store.failNext(method, network());
      const until = new Date(Date.UTC(2027, 0, 1));
      const call: Record<FaultyMethod, () => Promise<unknown>> = {
        put: () => store.put('new', Buffer.from('n')),
        get: () => store.get('seed/a'),
        head: () => store.head('seed/a'),
        list: () => names(store.list('')),
        delete: () => store.delete('seed/a'),
        extendRetention: () => store.extendRetention('seed/a', until, 'COMPLIANCE'),
      };
      expect(await codeOf(call[method]())).toBe('NETWORK');
      // nothing changed underneath
      expect(await names(inner.list(''))).toEqual(['seed/a']);
      expect((await inner.head('seed/a')).retainUntil).toBeUndefined();
      expect(await codeOf(call[method]())).toBe('ok');
    },
  );

  it("an 'after' fault performs the call, then fails: a retried put meets ALREADY_EXISTS", async () => {
    store.failNext('put', network(), 1, 'after');
    expect(await codeOf(store.put('packs/p1', Buffer.from('pack')))).toBe('NETWORK');
    expect((await inner.get('packs/p1')).toString()).toBe('pack'); // it was stored
    expect(await codeOf(store.put('packs/p1', Buffer.from('pack')))).toBe('ALREADY_EXISTS');
    expect(store.faults.put).toBe(1);
  });

  it("an 'after' fault on list yields the listing, then fails", async () => {
    await inner.put('seed/b', Buffer.from('b'));
    store.failNext('list', network(), 1, 'after');
    const seen: string[] = [];
    const err = await (async () => {
      for await (const info of store.list('seed/')) seen.push(info.name);
    })().catch((e: unknown) => e);
    expect(isBulwarkError(err, 'NETWORK')).toBe(true);
    expect(seen.sort()).toEqual(['seed/a', 'seed/b']);
  });

  it('failRandomly is deterministic for a seed, honours rate and methods', async () => {
    const pattern = async (seed: number): Promise<string> => {
      const s = new FaultyStore(inner, { seed });
      s.failRandomly(0.3, network, ['get']);
      let out = '';
      for (let i = 0; i < 200; i++) out += (await codeOf(s.get('seed/a'))) === 'ok' ? '.' : 'x';
      expect(await codeOf(s.head('seed/a'))).toBe('ok'); // not in methods: never fails
      return out;
    };
    const a = await pattern(7);
    expect(await pattern(7)).toBe(a);
    expect(await pattern(8)).not.toBe(a);
    const failures = [...a].filter((c) => c === 'x').length;
    expect(failures).toBeGreaterThan(30);
    expect(failures).toBeLessThan(90);

    store.failRandomly(1, network);
    for (const m of ['get', 'head', 'delete'] as const) {
      expect(
        await codeOf(
          m === 'get' ? store.get('seed/a') : m === 'head' ? store.head('seed/a') : store.delete('seed/a'),
        ),
      ).toBe('NETWORK');
    }
    store.failRandomly(0, network);
    expect(await codeOf(store.get('seed/a'))).toBe('ok');
    expect(() => store.failRandomly(1.5, network)).toThrow(BulwarkError);
  });

  it('planned faults take precedence; clearFaults drops all', async () => {
    store.failRandomly(1, () => new BulwarkError('IO', 'random'), ['get']);
    store.failNext('get', network());
    expect(await codeOf(store.get('seed/a'))).toBe('NETWORK');
    expect(await codeOf(store.get('seed/a'))).toBe('IO');
    store.failNext('get', network(), 5);
    store.clearFaults();
    expect(await codeOf(store.get('seed/a'))).toBe('ok');
  });

  it('delays every call by delayMs', async () => {
    store.delayMs = 40;
    const t0 = performance.now();
    await store.head('seed/a');
    await store.get('seed/a');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
  });

  it('extendRetention on a store without it is UNSUPPORTED', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
    try {
      const f = new FaultyStore(new FsStore({ root: dir }));
      await f.put('x', Buffer.from('x'));
      expect(f.capabilities.extendRetention).toBe(false);
      expect(await codeOf(f.extendRetention('x', new Date(Date.UTC(2099, 0, 1)), 'COMPLIANCE'))).toBe(
        'UNSUPPORTED',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FaultyStore simulating a full disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ENOSPC surfaces as NO_SPACE with a hint, and nothing is stored', async () => {
    const store = new FaultyStore(new FsStore({ root: dir }));
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    store.failNext('put', () => fromSystemError(enospc, 'storing packs/p'));
    const err = await store.put('packs/p', Buffer.from('data')).catch((e: unknown) => e);
    expect(isBulwarkError(err, 'NO_SPACE')).toBe(true);
    expect((err as BulwarkError).hint).toMatch(/space/i);
    expect(await codeOf(store.head('packs/p'))).toBe('NOT_FOUND');
    await store.put('packs/p', Buffer.from('data'));
    expect((await store.get('packs/p')).toString()).toBe('data');
  });
});
