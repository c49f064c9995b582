/**
 * Catalog.lookupBlobs answers many blob lookups in a few queries: in the order asked, an id asked twice
 * answered twice, an unknown id (or another repository's) undefined, across batch boundaries, the same
 * locations as lookupBlob one by one. And the blob rows addPack and addPackInSlices write.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog, idPrefixOrder } from '../../src-main/engine/catalog/catalog.ts';
import type { PackedBlob } from '../../src-main/engine/repo/format.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-lookup-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const blobId = (i: number): string => createHash('sha256').update(`blob ${i}`).digest('hex');

/**
 * 700 blobs in 7 packs of repository 1 (blob 0 of each a tree), one in repository 2; returns 650 ids to ask:
 * shuffled known ones, duplicates, unknown ones and another repository's, one in upper case.
 */
function fillAndAsk(c: Catalog): string[] {
  for (let p = 0; p < 7; p++)
    c.addPack(
      1,
      {
        id: `pack${p}`.padEnd(64, '0'),
        size: 100 * 1000,
        blobs: Array.from({ length: 100 }, (_, k) => ({
          id: blobId(p * 100 + k),
          kind: k === 0 ? ('tree' as const) : ('data' as const),
          offset: k * 1000,
          length: 900 + k,
          rawLength: 2000 + k,
        })),
      },
      null,
      null,
    );
  c.addPack(
    2,
    {
      id: 'other'.padEnd(64, '0'),
      size: 10,
      blobs: [{ id: blobId(1000), kind: 'data', offset: 0, length: 10, rawLength: 10 }],
    },
    null,
    null,
  );
  // 650 ids: shuffled known ones, duplicates, unknown ones and another repository's, in upper case too
  const asked: string[] = [];
  for (let i = 0; i < 600; i++) asked.push(blobId((i * 37) % 700));
  asked.push(blobId(5), blobId(5), blobId(9999), blobId(1000), blobId(42).toUpperCase());
  for (let i = 0; i < 45; i++) asked.push(blobId(700 + i)); // not stored
  return asked;
}

describe('Catalog.lookupBlobs', () => {
  it('answers in the order asked, like lookupBlob one by one, across batches', () => {
    const c = Catalog.open(path.join(tmp, 'catalog.db'));
    try {
      const asked = fillAndAsk(c);
      const many = c.lookupBlobs(1, asked);
      expect(many).toHaveLength(asked.length);
      expect(many).toEqual(asked.map((id) => c.lookupBlob(1, id)));
      expect(many[600]).toEqual({
        pack: 'pack0'.padEnd(64, '0'),
        offset: 5000,
        length: 905,
        rawLength: 2005,
        kind: 'data',
      });
      expect(many[601]).toEqual(many[600]);
      expect(many[602]).toBeUndefined(); // unknown
      expect(many[603]).toBeUndefined(); // another repository's
      expect(many[604]?.offset).toBe(42_000);
      expect(many.filter((x) => x === undefined)).toHaveLength(2 + 45);
      expect(many.find((x) => x?.kind === 'tree')).toBeDefined();
      expect(c.lookupBlobs(1, [])).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('keeps the first location of a blob listed twice, in one pack or in a later one', () => {
    const c = Catalog.open(path.join(tmp, 'catalog-first.db'));
    try {
      const blob = (id: string, offset: number) =>
        ({ id, kind: 'data', offset, length: 10, rawLength: 10 }) as const;
      // rows go in in id order: the two copies of blob 7 sort next to each other, and the first stays first
      const ids = Array.from({ length: 50 }, (_, i) => blobId(i));
      c.addPack(
        1,
        {
          id: 'a'.padEnd(64, '0'),
          size: 1000,
          blobs: [...ids.map((id, i) => blob(id, i * 10)), blob(blobId(7), 900)],
        },
        null,
        null,
      );
      c.addPack(1, { id: 'b'.padEnd(64, '0'), size: 10, blobs: [blob(blobId(7), 0)] }, null, null);
      expect(c.lookupBlob(1, blobId(7))).toMatchObject({ pack: 'a'.padEnd(64, '0'), offset: 70 });
      expect(ids.map((id) => c.lookupBlob(1, id)?.offset)).toEqual(ids.map((_, i) => i * 10));
    } finally {
      c.close();
    }
  });

  it('addPackInSlices: the same rows, the event loop turning between slices, the pack recorded last, one at a time', async () => {
    const c = Catalog.open(path.join(tmp, 'catalog-sliced.db'));
    try {
      const blob = (i: number, offset: unknown = i) =>
        ({ id: blobId(i), kind: 'data', offset, length: 10, rawLength: 10 }) as PackedBlob;
      const packA = {
        id: 'a'.padEnd(64, '0'),
        size: 100,
        blobs: Array.from({ length: 9 }, (_, i) => blob(i)),
      };
      const packB = { id: 'b'.padEnd(64, '0'), size: 100, blobs: [blob(20), blob(21)] };
      const seen: { open: boolean; rows: number; packA: boolean }[] = [];
      const tick = (): void => {
        seen.push({
          open: c.db.inTransaction,
          rows: packA.blobs.filter((x) => c.lookupBlob(1, x.id) !== undefined).length,
          packA: c.hasPack(1, packA.id),
        });
        if (seen.length < 3) setImmediate(tick);
      };
      setImmediate(tick);
      const a = c.addPackInSlices(1, packA, null, null, 2); // 5 slices
      const b = c.addPackInSlices(1, packB, null, null, 2); // waits for a
      await Promise.all([a, b]);
      // between slices no transaction is open; the rows grow, the pack is recorded with the last slice
      expect(seen).toEqual([
        { open: false, rows: 2, packA: false },
        { open: false, rows: 4, packA: false },
        { open: false, rows: 6, packA: false },
      ]);
      expect(c.hasPack(1, packA.id)).toBe(true);
      expect(packA.blobs.map((x) => c.lookupBlob(1, x.id)?.offset)).toEqual(packA.blobs.map((x) => x.offset));
      expect(c.lookupBlob(1, blobId(21))?.pack).toBe(packB.id);

      // a row that cannot be written, in the last slice (its id sorts last): the pack is not recorded (the
      // next backup adopts it from the repository), that slice's rows are not either
      const bad = { id: 'c'.padEnd(64, '0'), size: 100, blobs: [blob(30), blob(31), blob(32), blob(33)] };
      const sorted = bad.blobs.toSorted((x, y) => (x.id < y.id ? -1 : 1));
      (sorted[3] as { offset: unknown }).offset = { not: 'a number' };
      await expect(c.addPackInSlices(1, bad, null, null, 2)).rejects.toThrow();
      expect(c.db.inTransaction).toBe(false);
      expect(c.hasPack(1, bad.id)).toBe(false);
      expect(sorted.map((x) => c.lookupBlob(1, x.id)?.offset)).toEqual([
        sorted[0]!.offset,
        sorted[1]!.offset,
        undefined,
        undefined,
      ]);
      // and the next one goes in
      await c.addPackInSlices(1, { id: 'd'.padEnd(64, '0'), size: 1, blobs: [blob(40)] }, null, null, 2);
      expect(c.lookupBlob(1, blobId(40))?.offset).toBe(40);
      expect(c.hasPack(1, 'd'.padEnd(64, '0'))).toBe(true);
    } finally {
      c.close();
    }
  });
});

describe('Catalog.locateBlobs', () => {
  it("writes each id's location at its position, -1 for a blob in no index, like lookupBlob one by one", () => {
    const c = Catalog.open(path.join(tmp, 'catalog-locate.db'));
    try {
      const asked = fillAndAsk(c);
      const into = {
        pack: new Int32Array(asked.length + 3).fill(7), // longer than asked: the rest is left alone
        offset: new Float64Array(asked.length + 3),
        length: new Float64Array(asked.length + 3),
        rawLength: new Float64Array(asked.length + 3),
      };
      const packIds = c.locateBlobs(1, asked, into);
      expect(new Set(packIds).size).toBe(packIds.length);
      expect(packIds.toSorted()).toEqual(Array.from({ length: 7 }, (_, p) => `pack${p}`.padEnd(64, '0')));
      const located = asked.map((_, i) =>
        into.pack[i]! < 0
          ? undefined
          : {
              pack: packIds[into.pack[i]!],
              offset: into.offset[i],
              length: into.length[i],
              rawLength: into.rawLength[i],
            },
      );
      expect(located).toEqual(
        asked.map((id) => {
          const one = c.lookupBlob(1, id);
          return one && { pack: one.pack, offset: one.offset, length: one.length, rawLength: one.rawLength };
        }),
      );
      expect(located.filter((x) => x === undefined)).toHaveLength(2 + 45);
      expect([...into.pack.subarray(asked.length)]).toEqual([7, 7, 7]);
      expect(c.locateBlobs(1, [], into)).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('looks ids up by their first four hex digits (idPrefixOrder); a few keep their order', () => {
    const ids = Array.from({ length: 3000 }, (_, i) => blobId(i));
    const order = idPrefixOrder(ids);
    expect([...order].toSorted((a, b) => a - b)).toEqual(ids.map((_, i) => i)); // each position once
    const prefixes = [...order].map((i) => parseInt(ids[i]!.slice(0, 4), 16));
    expect(prefixes).toEqual(prefixes.toSorted((a, b) => a - b));
    expect([...idPrefixOrder(ids.slice(0, 100))]).toEqual(ids.slice(0, 100).map((_, i) => i));
    // not hex, short, empty: still every position once (the order is only a hint)
    const odd = [...ids.slice(0, 300), 'zz', '', 'ABCDEF', '\u00e9t\u00e9'];
    expect([...idPrefixOrder(odd)].toSorted((a, b) => a - b)).toEqual(odd.map((_, i) => i));
  });
});
