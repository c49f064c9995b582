/**
 * Conformance suite for BlobStore adapters: every guarantee documented in
 * src-main/engine/storage/types.ts, checked against a real adapter. Each test uses its own random name
 * prefix and never assumes a fake clock, so the suite also runs against a shared real bucket (e.g. Ceph
 * RGW with Object Lock): retention tests lock objects for about a day from the server's "now".
 *
 * Usage (in a *.test.ts file):
 *   describeBlobStoreConformance('MemoryStore', async () => ({ store: new MemoryStore(), cleanup: async () => {} }),
 *     { enforcesRetention: true });
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { isBulwarkError, type ErrorCode } from '../../src-main/engine/errors.ts';
import type { BlobStore, ObjectInfo } from '../../src-main/engine/storage/types.ts';

export interface ConformanceOptions {
  /** the adapter enforces retention itself (S3 Object Lock, MemoryStore): delete before retainUntil → LOCKED */
  enforcesRetention?: boolean;
  /**
   * concurrent puts of one name: exactly one wins, the others get ALREADY_EXISTS (default true). An S3
   * adapter on a server without conditional writes (If-None-Match) may turn this off.
   */
  concurrentWriteOnce?: boolean;
  /** timeout for the tests that move many MiB (default 120 s) */
  slowTimeoutMs?: number;
  /**
   * For stores with `versions`: what a raw PutObject by whoever holds the keys does (a new current version
   * over an existing name). With it the suite checks that versions stay readable by id.
   */
  forgeVersion?: (store: BlobStore, name: string, data: Buffer) => Promise<void>;
}

export interface StoreUnderTest {
  store: BlobStore;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;
const DAY = 24 * 60 * 60 * 1000;

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected BulwarkError ${code}, but the call succeeded`);
  if (!isBulwarkError(error, code)) {
    throw new Error(`expected BulwarkError ${code}, got ${describeError(error)}`, { cause: error });
  }
}

function describeError(e: unknown): string {
  if (isBulwarkError(e)) return `BulwarkError ${e.code}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of it) out.push(info);
  return out;
}

async function listNames(store: BlobStore, prefix: string): Promise<string[]> {
  return (await collect(store.list(prefix))).map((i) => i.name);
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** whole seconds, so servers that keep retention dates at second precision report them unchanged */
function wholeSeconds(ms: number): Date {
  return new Date(Math.ceil(ms / 1000) * 1000);
}

export function describeBlobStoreConformance(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  opts: ConformanceOptions = {},
): void {
  const slow = opts.slowTimeoutMs ?? 120_000;

  describe(`BlobStore conformance: ${name}`, () => {
    let sut: StoreUnderTest | undefined;
    let bodyDir = '';
    let prefixCounter = 0;

    const store = (): BlobStore => {
      if (!sut) throw new Error('store not created');
      return sut.store;
    };
    /** a name prefix no other test (or earlier run against the same bucket) uses */
    const fresh = (): string => `conf-${randomBytes(6).toString('hex')}-${++prefixCounter}`;

    /** writes `size` random bytes to a file (in 1 MiB pieces) and returns its path and sha256 */
    const makeBodyFile = (size: number): { path: string; size: number; sha: string } => {
      const file = path.join(bodyDir, `body-${randomBytes(6).toString('hex')}`);
      const hash = createHash('sha256');
      const fd = fs.openSync(file, 'w');
      try {
        for (let done = 0; done < size;) {
          const piece = randomBytes(Math.min(MiB, size - done));
          hash.update(piece);
          fs.writeSync(fd, piece);
          done += piece.length;
        }
      } finally {
        fs.closeSync(fd);
      }
      return { path: file, size, sha: hash.digest('hex') };
    };

    beforeAll(() => {
      bodyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-conformance-'));
    });
    afterAll(() => {
      fs.rmSync(bodyDir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      sut = await makeStore();
    });
    afterEach(async () => {
      const current = sut;
      sut = undefined;
      await current?.store.close?.();
      await current?.cleanup();
    });

    it('describes itself', async () => {
      const s = store();
      expect(typeof s.location).toBe('string');
      expect(s.location.length).toBeGreaterThan(0);
      for (const key of ['enforcedLocks', 'extendRetention', 'legalHold'] as const) {
        expect(typeof s.capabilities[key]).toBe('boolean');
      }
      if (opts.enforcesRetention) expect(s.capabilities.enforcedLocks).toBe(true);
      const t = await s.serverTime();
      expect(t).toBeInstanceOf(Date);
      expect(Number.isFinite(t.getTime())).toBe(true);
    });

    it('reports NOT_FOUND for a name never written', async () => {
      const p = fresh();
      await expectCode(store().get(`${p}/missing`), 'NOT_FOUND');
      await expectCode(store().get(`${p}/missing`, { offset: 0, length: 1 }), 'NOT_FOUND');
      await expectCode(store().head(`${p}/missing`), 'NOT_FOUND');
      expect(await listNames(store(), `${p}/`)).toEqual([]);
    });

    it('round-trips bytes, and copies them in and out', async () => {
      const name = `${fresh()}/bytes`;
      const data = randomBytes(1000);
      const original = Buffer.from(data);
      await store().put(name, data);
      data.fill(0); // the caller reusing its buffer must not change the object
      const got = await store().get(name);
      expect(Buffer.isBuffer(got)).toBe(true);
      expect(got.equals(original)).toBe(true);
      got.fill(1); // nor may the reader's copy
      expect((await store().get(name)).equals(original)).toBe(true);
      const info = await store().head(name);
      expect(info.name).toBe(name);
      expect(info.size).toBe(1000);
      if (info.modified !== undefined) {
        expect(info.modified).toBeInstanceOf(Date);
        expect(Number.isFinite(info.modified.getTime())).toBe(true);
      }
    });

    it('round-trips an empty object', async () => {
      const name = `${fresh()}/empty`;
      await store().put(name, new Uint8Array(0));
      expect((await store().get(name)).length).toBe(0);
      expect((await store().head(name)).size).toBe(0);
    });

    it('round-trips a file body of a few MiB', { timeout: slow }, async () => {
      const name = `${fresh()}/file`;
      const body = makeBodyFile(3 * MiB + 12345);
      await store().put(name, { path: body.path, size: body.size });
      const got = await store().get(name);
      expect(got.length).toBe(body.size);
      expect(sha256(got)).toBe(body.sha);
      expect((await store().head(name)).size).toBe(body.size);
    });

    it('reads byte ranges', { timeout: slow }, async () => {
      const p = fresh();
      const small = randomBytes(100);
      await store().put(`${p}/small`, small);
      expect((await store().get(`${p}/small`, { offset: 0, length: 10 })).equals(small.subarray(0, 10))).toBe(
        true,
      );
      expect(
        (await store().get(`${p}/small`, { offset: 37, length: 20 })).equals(small.subarray(37, 57)),
      ).toBe(true);
      // the last byte, and the whole object as a range
      expect((await store().get(`${p}/small`, { offset: 99, length: 1 })).equals(small.subarray(99))).toBe(
        true,
      );
      expect((await store().get(`${p}/small`, { offset: 0, length: 100 })).equals(small)).toBe(true);

      // a range across MiB boundaries of a file body
      const body = makeBodyFile(5 * MiB + 3);
      await store().put(`${p}/big`, { path: body.path, size: body.size });
      const whole = fs.readFileSync(body.path);
      const offset = MiB - 17;
      const length = 2 * MiB + 100;
      const got = await store().get(`${p}/big`, { offset, length });
      expect(got.length).toBe(length);
      expect(got.equals(whole.subarray(offset, offset + length))).toBe(true);
      const tail = await store().get(`${p}/big`, { offset: body.size - 5, length: 5 });
      expect(tail.equals(whole.subarray(body.size - 5))).toBe(true);
    });

    it('refuses a range past the end with INVALID_ARGUMENT', async () => {
      const name = `${fresh()}/r`;
      await store().put(name, randomBytes(100));
      await expectCode(store().get(name, { offset: 100, length: 1 }), 'INVALID_ARGUMENT');
      await expectCode(store().get(name, { offset: 500, length: 10 }), 'INVALID_ARGUMENT');
      await expectCode(store().get(name, { offset: 90, length: 11 }), 'INVALID_ARGUMENT');
      await expectCode(store().get(name, { offset: -1, length: 5 }), 'INVALID_ARGUMENT');
      // the object is untouched
      expect((await store().head(name)).size).toBe(100);
    });

    it('is write-once: a second put fails with ALREADY_EXISTS and keeps the first content', async () => {
      const name = `${fresh()}/once`;
      const first = randomBytes(64);
      await store().put(name, first);
      await expectCode(store().put(name, randomBytes(64)), 'ALREADY_EXISTS');
      await expectCode(store().put(name, randomBytes(10)), 'ALREADY_EXISTS');
      const body = makeBodyFile(1000);
      await expectCode(store().put(name, { path: body.path, size: body.size }), 'ALREADY_EXISTS');
      expect((await store().get(name)).equals(first)).toBe(true);
      expect((await store().head(name)).size).toBe(64);
      expect(await listNames(store(), name)).toEqual([name]);
    });

    if (opts.concurrentWriteOnce !== false) {
      it('lets exactly one of several concurrent puts of a name win', async () => {
        const name = `${fresh()}/race`;
        const bodies = Array.from({ length: 8 }, () => randomBytes(4096));
        const results = await Promise.allSettled(bodies.map((b) => store().put(name, b)));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(isBulwarkError(r.reason, 'ALREADY_EXISTS')).toBe(true);
        }
        const winner = bodies[won[0] ?? -1];
        expect(winner).toBeDefined();
        expect((await store().get(name)).equals(winner ?? Buffer.alloc(0))).toBe(true);
      });
    }

    it('lists by prefix: exactly the matching names, each once, nested ones included', async () => {
      const p = fresh();
      const sizes: Record<string, number> = {
        [`${p}/a`]: 1,
        [`${p}/b.idx`]: 2,
        [`${p}/sub/c`]: 3,
        [`${p}/sub/deeper/d`]: 4,
        [`${p}/sub/deeper/e-1_x`]: 5,
        [`${p}/subway`]: 6,
        [`${p}x/f`]: 7, // shares the string prefix, not the folder
      };
      await Promise.all(Object.entries(sizes).map(([n, size]) => store().put(n, randomBytes(size))));

      const check = async (prefix: string, expected: string[]): Promise<void> => {
        const infos = await collect(store().list(prefix));
        const names = infos.map((i) => i.name);
        expect(names.length, `list(${prefix}) yields each name once`).toBe(new Set(names).size);
        expect([...names].sort(), `list(${prefix})`).toEqual([...expected].sort());
        for (const info of infos) expect(info.size, info.name).toBe(sizes[info.name]);
      };
      const all = Object.keys(sizes);
      await check(
        `${p}/`,
        all.filter((n) => n.startsWith(`${p}/`)),
      );
      await check(p, all);
      await check(`${p}/sub/`, [`${p}/sub/c`, `${p}/sub/deeper/d`, `${p}/sub/deeper/e-1_x`]);
      await check(`${p}/sub`, [`${p}/sub/c`, `${p}/sub/deeper/d`, `${p}/sub/deeper/e-1_x`, `${p}/subway`]);
      await check(`${p}/sub/deeper/e`, [`${p}/sub/deeper/e-1_x`]);
      await check(`${p}/b`, [`${p}/b.idx`]);
      await check(`${p}/a`, [`${p}/a`]);
      await check(`${p}/nothing/`, []);
      await check(`${p}/nothing`, []);
    });

    it('lists all of 50 objects put in parallel (read-after-write)', { timeout: slow }, async () => {
      const p = fresh();
      const bodies = new Map<string, Buffer>();
      for (let i = 0; i < 50; i++) {
        bodies.set(`${p}/${(i % 5).toString()}/obj-${i.toString().padStart(3, '0')}`, randomBytes(100 + i));
      }
      await Promise.all([...bodies].map(([n, b]) => store().put(n, b)));
      const infos = await collect(store().list(`${p}/`));
      const names = infos.map((i) => i.name);
      expect(names.length).toBe(50);
      expect(new Set(names)).toEqual(new Set(bodies.keys()));
      for (const info of infos) expect(info.size).toBe(bodies.get(info.name)?.length);
      const gets = await Promise.all([...bodies.keys()].map(async (n) => [n, await store().get(n)] as const));
      for (const [n, got] of gets) expect(got.equals(bodies.get(n) ?? Buffer.alloc(0)), n).toBe(true);
    });

    it('deletes idempotently', async () => {
      const p = fresh();
      await store().delete(`${p}/never-existed`); // not an error
      const name = `${p}/gone`;
      await store().put(name, randomBytes(10));
      await store().put(`${p}/kept`, randomBytes(10));
      await store().delete(name);
      await expectCode(store().get(name), 'NOT_FOUND');
      await expectCode(store().head(name), 'NOT_FOUND');
      expect(await listNames(store(), `${p}/`)).toEqual([`${p}/kept`]);
      await store().delete(name); // again: still not an error
      // the name can be written again once deleted
      const again = randomBytes(20);
      await store().put(name, again);
      expect((await store().get(name)).equals(again)).toBe(true);
      expect((await store().get(`${p}/kept`)).length).toBe(10);
    });

    it('rejects invalid names with INVALID_ARGUMENT', async () => {
      const p = fresh();
      const bad = [
        '',
        '../x',
        `${p}/../x`,
        '/abs',
        `/${p}/abs`,
        `${p}//b`,
        `${p}/`,
        `${p}/./b`,
        '.',
        '..',
        `${p}\\b`,
        `${p}/with space`,
        `${p}/a:b`,
      ];
      for (const name of bad) {
        const label = JSON.stringify(name);
        await expectCode(store().put(name, randomBytes(3)), 'INVALID_ARGUMENT').catch((e: unknown) => {
          throw new Error(`put ${label}: ${describeError(e)}`);
        });
        await expectCode(store().get(name), 'INVALID_ARGUMENT').catch((e: unknown) => {
          throw new Error(`get ${label}: ${describeError(e)}`);
        });
        await expectCode(store().head(name), 'INVALID_ARGUMENT').catch((e: unknown) => {
          throw new Error(`head ${label}: ${describeError(e)}`);
        });
        await expectCode(store().delete(name), 'INVALID_ARGUMENT').catch((e: unknown) => {
          throw new Error(`delete ${label}: ${describeError(e)}`);
        });
      }
      // nothing was written under (or next to) this test's prefix
      expect(await listNames(store(), p)).toEqual([]);
    });

    it('round-trips a 20 MiB file body (sha256)', { timeout: slow }, async () => {
      const name = `${fresh()}/large`;
      const body = makeBodyFile(20 * MiB + 7);
      await store().put(name, { path: body.path, size: body.size });
      expect((await store().head(name)).size).toBe(body.size);
      const got = await store().get(name);
      expect(got.length).toBe(body.size);
      expect(sha256(got)).toBe(body.sha);
      const listed = await collect(store().list(name));
      expect(listed.map((i) => [i.name, i.size])).toEqual([[name, body.size]]);
    });

    it('never shows a partial object while a put is in flight', { timeout: slow }, async () => {
      const name = `${fresh()}/atomic`;
      const body = makeBodyFile(8 * MiB);
      let done = false;
      const put = store()
        .put(name, { path: body.path, size: body.size })
        .finally(() => {
          done = true;
        });
      while (!done) {
        try {
          const info = await store().head(name);
          expect(info.size).toBe(body.size);
          const got = await store().get(name);
          expect(sha256(got)).toBe(body.sha);
        } catch (e) {
          if (!isBulwarkError(e, 'NOT_FOUND')) throw e;
        }
        for (const info of await collect(store().list(name))) expect(info.size).toBe(body.size);
        // let I/O run: an in-memory store answers from microtasks only, which would starve the put
        await new Promise((resolve) => setImmediate(resolve));
      }
      await put;
      expect(sha256(await store().get(name))).toBe(body.sha);
    });

    it('refuses a put whose signal is already aborted (CANCELED) and stores nothing', async () => {
      const name = `${fresh()}/canceled`;
      const ac = new AbortController();
      ac.abort();
      await expectCode(store().put(name, randomBytes(10), { signal: ac.signal }), 'CANCELED');
      await expectCode(store().head(name), 'NOT_FOUND');
    });

    it('accepts retention options on put', async () => {
      const name = `${fresh()}/retained`;
      const now = await store().serverTime();
      const data = randomBytes(50);
      await store().put(name, data, {
        retainUntil: wholeSeconds(now.getTime() + DAY),
        lockMode: 'GOVERNANCE',
      });
      expect((await store().get(name)).equals(data)).toBe(true);
    });

    it('offers extendRetention exactly as its capabilities say', async () => {
      const s = store();
      if (s.capabilities.extendRetention) {
        expect(typeof s.extendRetention).toBe('function');
        return;
      }
      if (!s.extendRetention) return; // optional method left out: nothing to call
      // defined although unsupported (e.g. a wrapper): it must refuse with UNSUPPORTED
      const name = `${fresh()}/no-extend`;
      await s.put(name, randomBytes(5));
      const until = new Date((await s.serverTime()).getTime() + DAY);
      await expectCode(s.extendRetention(name, until, 'GOVERNANCE'), 'UNSUPPORTED');
    });

    it('versions (where kept): put returns the version id; each version reads back by it', async () => {
      const s = store();
      const v = s.versions;
      if (!v) return; // a folder keeps no versions: nothing to check
      const name = `${fresh()}/versioned`;
      const data = randomBytes(300);
      const put = await s.put(name, data);
      const listed = [];
      for await (const x of v.listVersions(name)) listed.push(x);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ name, deleteMarker: false, isLatest: true, size: 300 });
      if (put.versionId !== undefined) expect(listed[0]!.versionId).toBe(put.versionId);
      const id = listed[0]!.versionId;
      expect((await v.getVersion(name, id)).equals(data)).toBe(true);
      expect((await v.getVersion(name, id, { offset: 10, length: 20 })).equals(data.subarray(10, 30))).toBe(
        true,
      );
      expect((await v.headVersion(name, id)).size).toBe(300);
      if (!opts.forgeVersion) return;
      const forged = randomBytes(77);
      await opts.forgeVersion(s, name, forged);
      expect((await s.get(name)).equals(forged)).toBe(true); // "the latest" is someone else's now
      expect((await v.getVersion(name, id)).equals(data)).toBe(true); // the version by id is not
      const both = [];
      for await (const x of v.listVersions(name)) both.push(x);
      expect(both.map((x) => x.size)).toEqual([77, 300]); // newest first
      expect(both.map((x) => x.isLatest)).toEqual([true, false]);
      await v.deleteVersion(name, both[0]!.versionId);
      expect((await s.get(name)).equals(data)).toBe(true);
      await expectCode(v.getVersion(name, both[0]!.versionId), 'NOT_FOUND');
      await v.deleteVersion(name, both[0]!.versionId); // idempotent
    });

    if (opts.enforcesRetention) {
      it('refuses to delete a locked version by id (LOCKED); lock changes apply to that version only', async () => {
        const s = store();
        const v = s.versions;
        if (!v || !opts.forgeVersion) return;
        const name = `${fresh()}/locked-version`;
        const now = await s.serverTime();
        const until = wholeSeconds(now.getTime() + DAY);
        await s.put(name, randomBytes(40), { retainUntil: until, lockMode: 'GOVERNANCE' });
        let ours = '';
        for await (const x of v.listVersions(name)) ours = x.versionId;
        await opts.forgeVersion(s, name, randomBytes(10));
        await expectCode(v.deleteVersion(name, ours), 'LOCKED');
        if (v.extendRetentionVersion) {
          const later = wholeSeconds(now.getTime() + 2 * DAY);
          await v.extendRetentionVersion(name, ours, later, 'GOVERNANCE');
          expect((await v.headVersion(name, ours)).retainUntil?.getTime()).toBe(later.getTime());
          expect((await s.head(name)).retainUntil).toBeUndefined(); // the forged current version: untouched
        }
      });

      it('refuses to delete an object before its retention date (LOCKED), and keeps it', async () => {
        const name = `${fresh()}/locked`;
        const now = await store().serverTime();
        const retainUntil = wholeSeconds(now.getTime() + DAY);
        const data = randomBytes(50);
        await store().put(name, data, { retainUntil, lockMode: 'GOVERNANCE' });
        const info = await store().head(name);
        expect(info.retainUntil?.getTime()).toBe(retainUntil.getTime());
        expect(info.lockMode).toBe('GOVERNANCE');
        await expectCode(store().delete(name), 'LOCKED');
        expect((await store().get(name)).equals(data)).toBe(true);
        expect((await store().head(name)).size).toBe(50);
        expect(await listNames(store(), name)).toEqual([name]);
      });

      it('extends retention (head reports it) and never shortens it', async () => {
        const s = store();
        expect(s.capabilities.extendRetention).toBe(true);
        if (!s.extendRetention)
          throw new Error('capabilities.extendRetention is true but extendRetention is missing');
        const name = `${fresh()}/extended`;
        const now = await s.serverTime();
        const first = wholeSeconds(now.getTime() + DAY);
        const later = wholeSeconds(now.getTime() + 2 * DAY);
        await s.put(name, randomBytes(20), { retainUntil: first, lockMode: 'GOVERNANCE' });
        await s.extendRetention(name, later, 'GOVERNANCE');
        let info = await s.head(name);
        expect(info.retainUntil?.getTime()).toBe(later.getTime());
        expect(info.lockMode).toBe('GOVERNANCE');
        // shortening is refused or ignored, never applied
        await s.extendRetention(name, first, 'GOVERNANCE').catch(() => undefined);
        info = await s.head(name);
        expect(info.retainUntil?.getTime()).toBe(later.getTime());
        await expectCode(s.delete(name), 'LOCKED');
        await expectCode(s.extendRetention(`${fresh()}/missing`, later, 'GOVERNANCE'), 'NOT_FOUND');
      });
    }
  });
}
