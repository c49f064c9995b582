/**
 * The catalog's integrity check is skipped only for a file exactly as a clean close of Bulwark left it, less
 * than a day after a check passed (src-main/engine/catalog/check-stamp.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog, CATALOG_WAL_PAGES, isCatalogDamaged } from '../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../src-main/engine/clock.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-check-stamp-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** a catalog with some rows, closed cleanly after a check */
function freshCatalog(clock: FakeClock): string {
  const file = path.join(tmp, `catalog-${n++}.db`);
  const c = Catalog.open(file, { clock, check: true });
  expect(c.integrity).toBe('checked');
  const rid = 1;
  c.putTrees(
    rid,
    Array.from({ length: 300 }, (_, i) => [i.toString(16).padStart(64, '0'), Buffer.alloc(2000, i)] as const),
  );
  c.close();
  return file;
}

describe('catalog integrity check', () => {
  it('runs once; a file as Bulwark left it is trusted for a day, then checked again', () => {
    const clock = new FakeClock();
    const file = freshCatalog(clock);
    expect(fs.existsSync(`${file}.checked`)).toBe(true);
    expect((fs.statSync(`${file}.checked`).mode & 0o777).toString(8)).toBe('600');
    clock.advance(60 * 60 * 1000);
    const again = Catalog.open(file, { clock, check: true });
    expect(again.integrity).toBe('trusted');
    again.close(); // a trusted open keeps the time of the check that passed
    clock.advance(23 * 60 * 60 * 1000);
    const late = Catalog.open(file, { clock, check: true });
    expect(late.integrity).toBe('checked');
    late.close();
  });

  it('checks a file changed behind its back, and finds the damage', () => {
    const clock = new FakeClock();
    const file = freshCatalog(clock);
    const bytes = fs.readFileSync(file);
    const mid = Math.floor(bytes.length / 2);
    bytes.fill(0xa5, mid, mid + 4096);
    fs.writeFileSync(file, bytes);
    let caught: unknown;
    try {
      Catalog.open(file, { clock, check: true }).close();
    } catch (e) {
      caught = e;
    }
    expect(isCatalogDamaged(caught)).toBe(true);
  });

  it('checks after a crash (a WAL left behind) and while another connection has it open', () => {
    const clock = new FakeClock();
    const file = freshCatalog(clock);
    const holder = Catalog.open(file, { clock });
    holder.putTrees(1, [['ff'.repeat(32), Buffer.alloc(10)]]);
    const second = Catalog.open(file, { clock, check: true });
    expect(second.integrity).toBe('checked');
    second.close(); // the holder still has it open: no stamp for a file others are writing
    const stampBefore = fs.readFileSync(`${file}.checked`, 'utf8');
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    expect(fs.readFileSync(`${file}.checked`, 'utf8')).toBe(stampBefore);
    holder.close();
  });

  it('does not trust a stamp from the future, a garbled stamp, or a file with another inode', () => {
    const clock = new FakeClock();
    const file = freshCatalog(clock);
    clock.advance(-60_000);
    const early = Catalog.open(file, { clock, check: true });
    expect(early.integrity).toBe('checked');
    early.close();
    fs.writeFileSync(`${file}.checked`, '{not json');
    const garbled = Catalog.open(file, { clock, check: true });
    expect(garbled.integrity).toBe('checked');
    garbled.close();
    const copy = `${file}.copy`;
    fs.copyFileSync(file, copy);
    fs.renameSync(copy, file); // same bytes, same size, another inode
    const moved = Catalog.open(file, { clock, check: true });
    expect(moved.integrity).toBe('checked');
    moved.close();
  });

  it('never stamps a catalog opened without the check', () => {
    const file = path.join(tmp, 'unchecked.db');
    Catalog.open(file).close();
    expect(fs.existsSync(`${file}.checked`)).toBe(false);
  });
});

describe('catalog write-ahead log', () => {
  it('holds ~10 MB of commits without a checkpoint (each fsyncs twice); a clean close folds it in', () => {
    const file = path.join(tmp, `catalog-wal-${n++}.db`);
    const c = Catalog.open(file);
    expect(c.db.pragma('wal_autocheckpoint', { simple: true })).toBe(CATALOG_WAL_PAGES);
    const before = fs.statSync(file).size;
    // ~2 500 pages in one commit: over SQLite's default of 1 000, which checkpointed right after it
    c.putTrees(
      1,
      Array.from(
        { length: 2500 },
        (_, i) => [i.toString(16).padStart(64, '0'), Buffer.alloc(4000, i)] as const,
      ),
    );
    expect(fs.statSync(file).size).toBe(before); // nothing copied into the database yet
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(10_000_000);
    c.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    expect(fs.statSync(file).size).toBeGreaterThan(10_000_000);
    const again = Catalog.open(file, { readonly: true });
    expect(
      again.getTree(1, (2499).toString(16).padStart(64, '0'))?.equals(Buffer.alloc(4000, 2499 % 256)),
    ).toBe(true);
    again.close();
  });
});
