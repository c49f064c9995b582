/**
 * Folder listings live in an ordinary (rowid) table: a catalog written before keeps every listing across the
 * migration that moves them (src-main/engine/catalog/migrations.ts, the last entry).
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { MIGRATIONS } from '../../src-main/engine/catalog/migrations.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-trees-table-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const treeId = (i: number): string => i.toString(16).padStart(64, '0');
const treesSql = (db: Database.Database): string =>
  (
    db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'trees'").get() as {
      sql: string;
    }
  ).sql;

describe('the catalog table of folder listings', () => {
  it('keeps every listing of an older catalog, each with its repository, and no listing is stored twice', () => {
    const file = path.join(tmp, 'old.db');
    // a catalog as the release before this table changed left it: every migration but the last
    const old = new Database(file);
    for (const m of MIGRATIONS.slice(0, -1)) old.exec(m);
    old.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    expect(treesSql(old)).toMatch(/WITHOUT ROWID/);
    const put = old.prepare('INSERT INTO trees (rid, id, data) VALUES (?, ?, ?)');
    for (let i = 0; i < 50; i++) put.run(1 + (i % 2), Buffer.from(treeId(i), 'hex'), Buffer.alloc(3000, i));
    old.close();

    const c = Catalog.open(file);
    expect(c.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(treesSql(c.db)).not.toMatch(/WITHOUT ROWID/);
    for (let i = 0; i < 50; i++) {
      const rid = 1 + (i % 2);
      expect(c.getTree(rid, treeId(i))).toEqual(Buffer.alloc(3000, i));
      expect(c.getTree(rid === 1 ? 2 : 1, treeId(i))).toBeUndefined();
    }
    // the same listing again is ignored (one row per repository and id), a new one is added
    c.putTrees(1, [
      [treeId(0), Buffer.alloc(10, 9)],
      [treeId(99), Buffer.alloc(10, 7)],
    ]);
    expect(c.getTree(1, treeId(0))).toEqual(Buffer.alloc(3000, 0));
    expect(c.getTree(1, treeId(99))).toEqual(Buffer.alloc(10, 7));
    expect((c.db.prepare('SELECT COUNT(*) AS n FROM trees').get() as { n: number }).n).toBe(51);
    c.close();
  });
});
