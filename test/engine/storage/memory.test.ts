import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FakeClock } from '../../../src-main/engine/clock.ts';
import { isBulwarkError, type ErrorCode } from '../../../src-main/engine/errors.ts';
import { PinnedStore, type VersionBook } from '../../../src-main/engine/repo/pinned-store.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import type { BlobStore } from '../../../src-main/engine/storage/types.ts';
import { describeBlobStoreConformance } from '../../conformance/storage-suite.ts';

const forgeVersion = async (store: BlobStore, name: string, data: Buffer): Promise<void> => {
  (store as MemoryStore).forgeVersion(name, data);
};

describeBlobStoreConformance(
  'MemoryStore (system clock)',
  async () => ({ store: new MemoryStore(), cleanup: async () => {} }),
  { enforcesRetention: true, forgeVersion },
);

describeBlobStoreConformance(
  'MemoryStore (FakeClock)',
  async () => ({ store: new MemoryStore({ clock: new FakeClock() }), cleanup: async () => {} }),
  { enforcesRetention: true, forgeVersion },
);

/** The version-pinning layer keeps the whole BlobStore contract (on top of the in-memory Object Lock model). */
describeBlobStoreConformance(
  'PinnedStore(MemoryStore)',
  async () => {
    const pins = new Map<string, string>();
    const book: VersionBook = {
      get: (n) => pins.get(n),
      set: (n, v) => void pins.set(n, v),
      delete: (n) => void pins.delete(n),
      isForeign: () => false,
    };
    const store = new PinnedStore(new MemoryStore(), book, {
      authenticate: async () => true,
      onTamper: () => undefined,
    });
    return { store, cleanup: async () => {} };
  },
  { enforcesRetention: true },
);

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'ok' | 'not a BulwarkError'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isBulwarkError(e) ? e.code : 'not a BulwarkError';
  }
}

describe('MemoryStore', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let dir: string;

  beforeEach(() => {
    clock = new FakeClock(Date.UTC(2026, 0, 1));
    store = new MemoryStore({ clock, location: 'memory://test' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports its location, capabilities and the injected clock as server time', async () => {
    expect(store.location).toBe('memory://test');
    expect(store.capabilities).toEqual({ enforcedLocks: true, extendRetention: true, legalHold: true });
    expect((await store.serverTime()).getTime()).toBe(Date.UTC(2026, 0, 1));
    clock.advance(5000);
    expect((await store.serverTime()).getTime()).toBe(Date.UTC(2026, 0, 1) + 5000);
    expect(new MemoryStore().location).not.toBe(new MemoryStore().location);
  });

  it('records modified from the clock', async () => {
    clock.advance(HOUR);
    await store.put('a', Buffer.from('x'));
    expect((await store.head('a')).modified?.getTime()).toBe(Date.UTC(2026, 0, 1) + HOUR);
  });

  it('allows delete once the clock passes retainUntil', async () => {
    const until = new Date(clock.now().getTime() + DAY);
    await store.put('locked', Buffer.from('data'), { retainUntil: until, lockMode: 'COMPLIANCE' });
    await expect(store.delete('locked')).rejects.toMatchObject({ code: 'LOCKED' });
    const err = await store.delete('locked').catch((e: unknown) => e);
    expect(String((err as Error).message)).toContain(until.toISOString());

    clock.advance(DAY - 1); // one millisecond before: still locked
    expect(await codeOf(store.delete('locked'))).toBe('LOCKED');
    clock.advance(1); // exactly at retainUntil: expired
    await store.delete('locked');
    expect(await codeOf(store.head('locked'))).toBe('NOT_FOUND');
    expect(store.stats.deletes).toBe(1);
  });

  it('head reports retention; a missing lock mode means COMPLIANCE', async () => {
    const until = new Date(clock.now().getTime() + DAY);
    await store.put('g', Buffer.from('1'), { retainUntil: until, lockMode: 'GOVERNANCE' });
    await store.put('c', Buffer.from('2'), { retainUntil: until });
    await store.put('plain', Buffer.from('3'));
    expect(await store.head('g')).toMatchObject({ retainUntil: until, lockMode: 'GOVERNANCE' });
    expect(await store.head('c')).toMatchObject({ retainUntil: until, lockMode: 'COMPLIANCE' });
    const plain = await store.head('plain');
    expect(plain.retainUntil).toBeUndefined();
    expect(plain.lockMode).toBeUndefined();
    // GOVERNANCE also refuses a plain delete (no bypass is modelled)
    expect(await codeOf(store.delete('g'))).toBe('LOCKED');
  });

  it('refuses a retention date that is not in the future', async () => {
    expect(await codeOf(store.put('p', Buffer.from('x'), { retainUntil: clock.now() }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(store.head('p'))).toBe('NOT_FOUND');
    await store.put('q', Buffer.from('x'));
    expect(await codeOf(store.extendRetention('q', new Date(clock.now().getTime() - 1), 'COMPLIANCE'))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('extendRetention lengthens, refuses to shorten or weaken an active lock', async () => {
    const t0 = clock.now().getTime();
    await store.put('o', Buffer.from('x'), { retainUntil: new Date(t0 + DAY), lockMode: 'COMPLIANCE' });
    await store.extendRetention('o', new Date(t0 + 2 * DAY), 'COMPLIANCE');
    expect((await store.head('o')).retainUntil?.getTime()).toBe(t0 + 2 * DAY);
    expect(store.stats.extends).toBe(1);

    expect(await codeOf(store.extendRetention('o', new Date(t0 + DAY), 'COMPLIANCE'))).toBe('LOCKED');
    expect(await codeOf(store.extendRetention('o', new Date(t0 + 3 * DAY), 'GOVERNANCE'))).toBe('LOCKED');
    expect(await store.head('o')).toMatchObject({
      retainUntil: new Date(t0 + 2 * DAY),
      lockMode: 'COMPLIANCE',
    });
    // the same date again is a no-op
    await store.extendRetention('o', new Date(t0 + 2 * DAY), 'COMPLIANCE');
    expect((await store.head('o')).retainUntil?.getTime()).toBe(t0 + 2 * DAY);

    clock.advance(DAY + HOUR);
    expect(await codeOf(store.delete('o'))).toBe('LOCKED'); // extended: still locked after the first date
    clock.advance(DAY);
    await store.delete('o');
    expect(store.size).toBe(0);
  });

  it('GOVERNANCE may be tightened to COMPLIANCE but not shortened', async () => {
    const t0 = clock.now().getTime();
    await store.put('o', Buffer.from('x'), { retainUntil: new Date(t0 + DAY), lockMode: 'GOVERNANCE' });
    expect(await codeOf(store.extendRetention('o', new Date(t0 + HOUR), 'GOVERNANCE'))).toBe('LOCKED');
    await store.extendRetention('o', new Date(t0 + DAY), 'COMPLIANCE');
    expect(await store.head('o')).toMatchObject({ lockMode: 'COMPLIANCE' });
  });

  it('extendRetention locks an unlocked or expired object, NOT_FOUND for a missing one', async () => {
    const t0 = clock.now().getTime();
    await store.put('plain', Buffer.from('x'));
    await store.extendRetention('plain', new Date(t0 + DAY), 'GOVERNANCE');
    expect(await codeOf(store.delete('plain'))).toBe('LOCKED');
    clock.advance(2 * DAY);
    // expired: a new, shorter-than-before-relative lock is fine and mode may change
    await store.extendRetention('plain', new Date(clock.now().getTime() + HOUR), 'GOVERNANCE');
    expect(await codeOf(store.delete('plain'))).toBe('LOCKED');
    expect(await codeOf(store.extendRetention('missing', new Date(t0 + 9 * DAY), 'COMPLIANCE'))).toBe(
      'NOT_FOUND',
    );
  });

  it('reads a file body and checks its declared size', async () => {
    const file = path.join(dir, 'body');
    fs.writeFileSync(file, 'hello file');
    await store.put('f', { path: file, size: 10 });
    fs.writeFileSync(file, 'changed after put');
    expect((await store.get('f')).toString()).toBe('hello file');
    expect(await codeOf(store.put('g', { path: file, size: 3 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(store.put('h', { path: path.join(dir, 'missing'), size: 1 }))).toBe('NOT_FOUND');
    expect(await codeOf(store.head('g'))).toBe('NOT_FOUND');
  });

  it('verifies contentMd5 when given', async () => {
    const data = Buffer.from('checked');
    const md5 = createHash('md5').update(data).digest('base64');
    await store.put('ok', data, { contentMd5: md5 });
    expect(await codeOf(store.put('bad', Buffer.from('other'), { contentMd5: md5 }))).toBe('CORRUPT');
    expect(await codeOf(store.head('bad'))).toBe('NOT_FOUND');
  });

  it('counts successful operations in stats', async () => {
    await store.put('a/1', Buffer.alloc(10));
    await store.put('a/2', Buffer.alloc(5));
    expect(await codeOf(store.put('a/1', Buffer.alloc(10)))).toBe('ALREADY_EXISTS');
    await store.get('a/1');
    await store.get('a/2', { offset: 1, length: 3 });
    expect(await codeOf(store.get('nope'))).toBe('NOT_FOUND');
    for await (const _ of store.list('a/')) void _;
    await store.delete('a/2');
    await store.delete('a/2'); // idempotent, not counted
    expect(store.stats).toEqual({
      puts: 2,
      gets: 2,
      heads: 0,
      deletes: 1,
      lists: 1,
      extends: 0,
      bytesPut: 15,
      bytesGot: 13,
    });
  });

  it('list is a snapshot: deleting and adding while iterating yields each name once', async () => {
    for (const n of ['p/1', 'p/2', 'p/3']) await store.put(n, Buffer.from(n));
    const seen: string[] = [];
    for await (const info of store.list('p/')) {
      seen.push(info.name);
      await store.put(`p/new-${seen.length}`, Buffer.from('x'));
    }
    expect(seen.sort()).toEqual(['p/1', 'p/2', 'p/3']);
  });

  it('put with an aborted signal stores nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(store.put('x', Buffer.from('1'), { signal: ac.signal }))).toBe('CANCELED');
    expect(await codeOf(store.get('x'))).toBe('NOT_FOUND');
  });
});
