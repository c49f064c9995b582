import { describe, expect, it } from 'vitest';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { ThrottledStore, TokenBucket } from '../../../src-main/engine/service/throttled-store.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';

const KiB = 1024;

describe('TokenBucket', () => {
  it('lets a burst pass at once, then holds the rate', async () => {
    const b = new TokenBucket(1024 * KiB, { burstBytes: 256 * KiB });
    const t0 = performance.now();
    await b.take(256 * KiB); // the burst
    expect(performance.now() - t0).toBeLessThan(50);
    for (let i = 0; i < 4; i++) await b.take(256 * KiB); // 1 MiB more at 1 MiB/s
    const s = (performance.now() - t0) / 1000;
    expect(s).toBeGreaterThan(0.9);
    expect(s).toBeLessThan(1.6);
  });

  it('serves concurrent takers in order and shares the rate between them', async () => {
    const b = new TokenBucket(2048 * KiB, { burstBytes: 64 * KiB });
    const t0 = performance.now();
    const finished: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => b.take(256 * KiB).then(() => finished.push(i))));
    const s = (performance.now() - t0) / 1000;
    // 1 MiB - 64 KiB burst at 2 MiB/s ≈ 0.47 s
    expect(s).toBeGreaterThan(0.4);
    expect(s).toBeLessThan(1.0);
    expect(finished).toEqual([0, 1, 2, 3]);
  });

  it('gives the tokens back when the waiter is canceled, and can become unlimited', async () => {
    const b = new TokenBucket(100 * KiB, { burstBytes: 64 * KiB });
    await b.take(64 * KiB);
    const ac = new AbortController();
    const p = b.take(1000 * KiB, ac.signal); // would wait 10 s
    setTimeout(() => ac.abort(), 50);
    const err = await p.catch((e: unknown) => e);
    expect(isBulwarkError(err, 'CANCELED')).toBe(true);
    b.setRate(null);
    expect(b.unlimited).toBe(true);
    const t0 = performance.now();
    await b.take(100_000 * KiB);
    expect(performance.now() - t0).toBeLessThan(20);
    expect(() => b.setRate(0)).toThrow(/positive/);
  });
});

describe('ThrottledStore', () => {
  it('limits puts and gets of a BlobStore to the bucket rate and passes everything else through', async () => {
    const inner = new MemoryStore();
    const store = new ThrottledStore(inner, new TokenBucket(1024 * KiB, { burstBytes: 128 * KiB }));
    const body = Buffer.alloc(128 * KiB, 7);
    const t0 = performance.now();
    for (let i = 0; i < 8; i++) await store.put(`data/obj${i}`, body); // 1 MiB, 896 KiB over the burst
    const putS = (performance.now() - t0) / 1000;
    expect(putS).toBeGreaterThan(0.8);
    expect(putS).toBeLessThan(1.5);
    const bytesPerS = (8 * body.length) / putS;
    expect(bytesPerS).toBeLessThan(1.3 * 1024 * KiB);

    const t1 = performance.now();
    for (let i = 0; i < 4; i++) expect((await store.get(`data/obj${i}`)).equals(body)).toBe(true);
    const getS = (performance.now() - t1) / 1000;
    expect(getS).toBeGreaterThan(0.4); // 512 KiB at 1 MiB/s, no burst left
    expect(getS).toBeLessThan(1.0);

    // metadata is not limited and comes from the inner store
    const names: string[] = [];
    for await (const o of store.list('data/')) names.push(o.name);
    expect(names.sort()).toHaveLength(8);
    expect((await store.head('data/obj0')).size).toBe(body.length);
    expect(store.location).toBe(inner.location);
    expect(store.capabilities).toEqual(inner.capabilities);
    expect(typeof store.extendRetention).toBe('function');
    expect(store.prefetchListings).toBeUndefined(); // the memory store lists locally: nothing to start early
  });

  it("hands listings to start early to a store that can (S3), at no cost to the bucket's bytes", () => {
    const asked: (readonly string[])[] = [];
    const inner = Object.assign(new MemoryStore(), {
      prefetchListings: (prefixes: readonly string[]) => void asked.push(prefixes),
    });
    const bucket = new TokenBucket(1, { burstBytes: 1 });
    const store = new ThrottledStore(inner, bucket);
    store.prefetchListings?.(['index/', 'snapshots/']);
    expect(asked).toEqual([['index/', 'snapshots/']]);
  });

  it('reports the inner store failures to onError (and still throws them)', async () => {
    const seen: unknown[] = [];
    const store = new ThrottledStore(new MemoryStore(), new TokenBucket(null), {
      onError: (e) => seen.push(e),
    });
    const err = await store.get('missing').catch((e: unknown) => e);
    expect(isBulwarkError(err, 'NOT_FOUND')).toBe(true);
    expect(seen).toEqual([err]);
  });

  it('a canceled put does not reach the inner store', async () => {
    const inner = new MemoryStore();
    const store = new ThrottledStore(inner, new TokenBucket(64 * KiB, { burstBytes: 64 * KiB }));
    await store.put('a', Buffer.alloc(64 * KiB));
    const ac = new AbortController();
    const p = store.put('b', Buffer.alloc(1024 * KiB), { signal: ac.signal });
    ac.abort();
    expect(isBulwarkError(await p.catch((e: unknown) => e), 'CANCELED')).toBe(true);
    expect(inner.size).toBe(1);
  });
});
