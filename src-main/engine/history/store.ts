/**
 * The file-history tables of the catalog (schema: catalog/migrations.ts, "file-history index"), for one
 * repository. Everything SQL of engine/history is here; sync.ts decides what to write, query.ts reads.
 */
import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Catalog } from '../catalog/catalog.ts';
import type { TreeNode } from '../repo/format.ts';
import { decodeFsName, encodeFsName, hasEscapedBytes } from '../util/fs-names.ts';
import { nsToDate } from '../ops/walk.ts';
import type { SnapshotWriter } from './diff.ts';
import { searchText } from './search-text.ts';

/** One snapshot of a source as the index took it in. */
export interface IndexedSnapshot {
  seq: number;
  id: string;
  time: string;
  tree: string;
  paths: string[];
}

export interface VersionRow {
  pid: number;
  sid: number;
  first: number;
  ended: number | null;
  content: Buffer;
  size: number;
  /** ms since the epoch */
  mtime: number;
}

/**
 * The content id of a file: equal blob lists, equal ids (16 bytes). Most files are one blob, whose id is
 * already a keyed hash of the content: its first 16 bytes are the id (a first snapshot of 100 000 files
 * spent more on hashing the lists than on anything but SQLite); a longer list is hashed.
 */
export function contentId(node: TreeNode): Buffer {
  const blobs = node.content ?? [];
  if (blobs.length === 1) return Buffer.from(blobs[0]!.slice(0, 32), 'hex');
  return (hash('sha256', blobs.join(','), 'buffer') as Buffer).subarray(0, 16);
}

/** Paths are kept as their bytes (names that are not UTF-8 included), so byte order is the key order. */
export const pathKey = (path: string): Buffer =>
  hasEscapedBytes(path) ? encodeFsName(path) : Buffer.from(path, 'utf8');
export const pathOf = (key: Buffer): string => decodeFsName(key);

/** The half-open byte range of every path below `prefix` ('' : every path). */
function underRange(prefix: string): [Buffer, Buffer] {
  if (prefix === '') return [Buffer.alloc(0), Buffer.from([0xff, 0xff, 0xff, 0xff])];
  const p = encodeFsName(prefix);
  // "prefix/" up to "prefix0": '0' is the byte after '/'
  return [Buffer.concat([p, Buffer.from('/')]), Buffer.concat([p, Buffer.from('0')])];
}

export const mtimeMs = (n: TreeNode): number => (n.mtimeNs ? nsToDate(n.mtimeNs).getTime() : 0);

/** Prepared statements per database: a find loads the versions of up to 1 000 paths, a first snapshot
 * indexes every file, and preparing costs more than running these small statements. */
const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

export class HistoryStore {
  readonly db: Database.Database;
  readonly rid: number;
  private readonly catalog: Catalog;

  constructor(catalog: Catalog, rid: number) {
    this.catalog = catalog;
    this.db = catalog.db;
    this.rid = rid;
  }

  private sql<P extends unknown[] = unknown[], R = unknown>(source: string): Database.Statement<P, R> {
    let cache = statements.get(this.db);
    if (!cache) {
      cache = new Map();
      statements.set(this.db, cache);
    }
    let st = cache.get(source);
    if (!st) {
      st = this.db.prepare(source);
      cache.set(source, st);
    }
    return st as unknown as Database.Statement<P, R>;
  }

  // ---- sources and snapshots -------------------------------------------------------------------------

  isBuilt(): boolean {
    return this.sql('SELECT 1 FROM history_built WHERE rid = ?').get(this.rid) !== undefined;
  }

  markBuilt(now: number): void {
    this.sql('INSERT INTO history_built (rid, built_at) VALUES (?, ?) ON CONFLICT (rid) DO NOTHING').run(
      this.rid,
      now,
    );
  }

  sources(): { sid: number; source: string }[] {
    return this.sql<[number], { sid: number; source: string }>(
      'SELECT sid, source FROM history_sources WHERE rid = ? ORDER BY source',
    ).all(this.rid);
  }

  sourceId(source: string, create: boolean): number | undefined {
    const row = this.sql<[number, string], { sid: number }>(
      'SELECT sid FROM history_sources WHERE rid = ? AND source = ?',
    ).get(this.rid, source);
    if (row || !create) return row?.sid;
    return Number(
      this.sql('INSERT INTO history_sources (rid, source) VALUES (?, ?)').run(this.rid, source)
        .lastInsertRowid,
    );
  }

  snapshots(sid: number): IndexedSnapshot[] {
    return this.sql<[number], { seq: number; id: string; time: string; tree: string; paths: string }>(
      'SELECT seq, id, time, tree, paths FROM history_snapshots WHERE sid = ? ORDER BY seq',
    )
      .all(sid)
      .map((r) => ({ ...r, paths: JSON.parse(r.paths) as string[] }));
  }

  lastSnapshot(sid: number): IndexedSnapshot | undefined {
    const r = this.sql<[number], { seq: number; id: string; time: string; tree: string; paths: string }>(
      'SELECT seq, id, time, tree, paths FROM history_snapshots WHERE sid = ? ORDER BY seq DESC LIMIT 1',
    ).get(sid);
    return r && { ...r, paths: JSON.parse(r.paths) as string[] };
  }

  // ---- paths -----------------------------------------------------------------------------------------

  /** The id of a path, or undefined when the index has never seen it. */
  pathId(path: string): number | undefined {
    return this.sql<[number, Buffer], { pid: number }>(
      'SELECT pid FROM history_paths WHERE rid = ? AND path = ?',
    ).get(this.rid, pathKey(path))?.pid;
  }

  /** The id of a path, made (with its search row) when it is new; `created` says which. */
  private ensurePath(path: string): { pid: number; created: boolean } {
    const known = this.pathId(path);
    if (known !== undefined) return { pid: known, created: false };
    const pid = Number(
      this.sql('INSERT INTO history_paths (rid, path) VALUES (?, ?)').run(this.rid, pathKey(path))
        .lastInsertRowid,
    );
    this.sql('INSERT INTO history_search (rowid, text) VALUES (?, ?)').run(pid, searchText(path));
    return { pid, created: true };
  }

  /** Removes the paths among `pids` no version refers to any more (and their search rows). */
  dropUnusedPaths(pids: Iterable<number> | 'all'): void {
    const unused =
      pids === 'all'
        ? this.sql<[number], { pid: number }>(
            `SELECT pid FROM history_paths p WHERE rid = ?
               AND NOT EXISTS (SELECT 1 FROM history_versions v WHERE v.pid = p.pid)`,
          )
            .all(this.rid)
            .map((r) => r.pid)
        : [...pids].filter(
            (pid) => this.sql('SELECT 1 FROM history_versions WHERE pid = ? LIMIT 1').get(pid) === undefined,
          );
    const delPath = this.sql('DELETE FROM history_paths WHERE pid = ?');
    const delSearch = this.sql('DELETE FROM history_search WHERE rowid = ?');
    for (const pid of unused) {
      delPath.run(pid);
      delSearch.run(pid);
    }
  }

  // ---- writing one snapshot --------------------------------------------------------------------------

  /**
   * Takes snapshot `snap` in as the next of source `sid` (seq = last + 1); its diff from the previous one is
   * written through the writer (diff.ts diffTrees). Call inside a transaction.
   */
  beginSnapshot(sid: number, snap: Omit<IndexedSnapshot, 'seq'>): { seq: number; writer: SnapshotWriter } {
    const seq = (this.lastSnapshot(sid)?.seq ?? 0) + 1;
    this.sql('INSERT INTO history_snapshots (sid, seq, id, time, tree, paths) VALUES (?, ?, ?, ?, ?, ?)').run(
      sid,
      seq,
      snap.id,
      snap.time,
      snap.tree,
      JSON.stringify(snap.paths),
    );
    const end = this.sql('UPDATE history_versions SET ended = ? WHERE pid = ? AND sid = ? AND ended IS NULL');
    const insert = this.sql(
      'INSERT INTO history_versions (pid, sid, first, ended, content, size, mtime) VALUES (?, ?, ?, NULL, ?, ?, ?)',
    );
    const start = (pid: number, node: TreeNode, content: Buffer): void => {
      insert.run(pid, sid, seq, content, node.size ?? 0, mtimeMs(node));
    };
    const writer: SnapshotWriter = {
      put: (path, node) => {
        const { pid, created } = this.ensurePath(path);
        if (!created) end.run(seq, pid, sid); // a path new to the index has no version to end
        start(pid, node, contentId(node));
      },
      end: (path) => {
        const pid = this.pathId(path);
        if (pid !== undefined) end.run(seq, pid, sid);
      },
      endUnder: (prefix) => {
        const [lo, hi] = underRange(prefix);
        this.sql(
          `UPDATE history_versions SET ended = ? WHERE sid = ? AND ended IS NULL AND pid IN
             (SELECT pid FROM history_paths WHERE rid = ? AND path >= ? AND path < ?)`,
        ).run(seq, sid, this.rid, lo, hi);
      },
      reconcile: (prefix) => {
        const open = this.openUnder(sid, prefix);
        const seen = new Set<number>();
        return {
          file: (path, node) => {
            const { pid, created } = this.ensurePath(path);
            seen.add(pid);
            const content = contentId(node);
            const current = open.get(pid);
            if (current?.equals(content)) return;
            if (!created) end.run(seq, pid, sid);
            start(pid, node, content);
          },
          done: () => {
            for (const pid of open.keys()) if (!seen.has(pid)) end.run(seq, pid, sid);
          },
        };
      },
    };
    return { seq, writer };
  }

  /** The open versions (content ids) of source `sid` below `prefix`, by pid. */
  private openUnder(sid: number, prefix: string): Map<number, Buffer> {
    const [lo, hi] = underRange(prefix);
    const rows = this.sql<[number, number, Buffer, Buffer], { pid: number; content: Buffer }>(
      `SELECT v.pid, v.content FROM history_versions v JOIN history_paths p ON p.pid = v.pid
         WHERE v.sid = ? AND v.ended IS NULL AND p.rid = ? AND p.path >= ? AND p.path < ?`,
    ).all(sid, this.rid, lo, hi);
    return new Map(rows.map((r) => [r.pid, r.content]));
  }

  // ---- removing a snapshot ---------------------------------------------------------------------------

  /**
   * Takes snapshot `seq` out of source `sid` (forget, or a snapshot gone from the repository). Call inside
   * a transaction. A version only that snapshot held is deleted; one that began there begins at the next
   * snapshot; one that ended there ends at the next (or is current again when there is none) and, when the
   * next snapshot holds the same content again, joins the version that begins there: the rows are what a
   * rebuild over the remaining snapshots gives. `mtimes` (by pid) are the modification times of the files
   * whose version now begins at the next snapshot, as it has them (carriedOver).
   */
  removeSnapshot(sid: number, seq: number, mtimes: ReadonlyMap<number, number> = new Map()): void {
    this.sql('DELETE FROM history_snapshots WHERE sid = ? AND seq = ?').run(sid, seq);
    const next = this.nextSnapshot(sid, seq)?.seq ?? null;
    const touched = new Set<number>();
    const began = this.sql<[number, number], { pid: number; ended: number | null }>(
      'SELECT pid, ended FROM history_versions WHERE sid = ? AND first = ?',
    ).all(sid, seq);
    const del = this.sql('DELETE FROM history_versions WHERE pid = ? AND sid = ? AND first = ?');
    for (const r of began) {
      if (next === null || (r.ended !== null && next >= r.ended)) {
        del.run(r.pid, sid, seq);
        touched.add(r.pid);
      } else {
        this.sql(
          'UPDATE history_versions SET first = ?, mtime = coalesce(?, mtime) WHERE pid = ? AND sid = ? AND first = ?',
        ).run(next, mtimes.get(r.pid) ?? null, r.pid, sid, seq);
      }
    }
    const endedHere = this.sql<[number, number], { pid: number; first: number; content: Buffer }>(
      'SELECT pid, first, content FROM history_versions WHERE sid = ? AND ended = ?',
    ).all(sid, seq);
    const setEnd = this.sql('UPDATE history_versions SET ended = ? WHERE pid = ? AND sid = ? AND first = ?');
    for (const r of endedHere) {
      if (next === null) {
        setEnd.run(null, r.pid, sid, r.first);
        continue;
      }
      const following = this.sql<[number, number, number], { ended: number | null; content: Buffer }>(
        'SELECT ended, content FROM history_versions WHERE pid = ? AND sid = ? AND first = ?',
      ).get(r.pid, sid, next);
      if (following && following.content.equals(r.content)) {
        del.run(r.pid, sid, next);
        setEnd.run(following.ended, r.pid, sid, r.first);
      } else setEnd.run(next, r.pid, sid, r.first);
    }
    this.dropUnusedPaths(touched);
  }

  /** The snapshot after `seq` of source `sid`. */
  nextSnapshot(sid: number, seq: number): IndexedSnapshot | undefined {
    const r = this.sql<
      [number, number],
      { seq: number; id: string; time: string; tree: string; paths: string }
    >(
      'SELECT seq, id, time, tree, paths FROM history_snapshots WHERE sid = ? AND seq > ? ORDER BY seq LIMIT 1',
    ).get(sid, seq);
    return r && { ...r, paths: JSON.parse(r.paths) as string[] };
  }

  /**
   * The versions that begin at snapshot `seq` and go on past the next one: removing `seq` makes them begin
   * there, with the file's modification time as that snapshot has it (the caller reads it: removeSnapshot's
   * `mtimes`).
   */
  carriedOver(
    sid: number,
    seq: number,
  ): { next: IndexedSnapshot; files: { pid: number; path: string }[] } | undefined {
    const next = this.nextSnapshot(sid, seq);
    if (!next) return undefined;
    const files = this.sql<[number, number, number], { pid: number; path: Buffer }>(
      `SELECT v.pid, p.path FROM history_versions v JOIN history_paths p ON p.pid = v.pid
         WHERE v.sid = ? AND v.first = ? AND (v.ended IS NULL OR v.ended > ?)`,
    )
      .all(sid, seq, next.seq)
      .map((r) => ({ pid: r.pid, path: pathOf(r.path) }));
    return { next, files };
  }

  /** Forgets everything indexed for source `sid` (it is then indexed again from its first snapshot). */
  clearSource(sid: number): void {
    this.sql('DELETE FROM history_versions WHERE sid = ?').run(sid);
    this.sql('DELETE FROM history_snapshots WHERE sid = ?').run(sid);
    this.dropUnusedPaths('all');
  }

  removeSource(sid: number): void {
    this.clearSource(sid);
    this.sql('DELETE FROM history_sources WHERE sid = ?').run(sid);
  }

  /** Forgets the whole index of the repository (a rebuild). */
  clear(): void {
    this.catalog.clearHistory(this.rid);
  }

  // ---- reading ---------------------------------------------------------------------------------------

  /** Every version of the path `pid`, by source and then oldest first. */
  versionsOf(pid: number): VersionRow[] {
    // Sorted here: the rows come in key order anyway, and with ORDER BY this query took ~60 µs instead of
    // ~8 µs here (SQLite 3.54, same plan), which a find over 1 000 paths pays 1 000 times.
    return this.sql<[number], VersionRow>(
      'SELECT pid, sid, first, ended, content, size, mtime FROM history_versions WHERE pid = ?',
    )
      .all(pid)
      .sort((a, b) => a.sid - b.sid || a.first - b.first);
  }

  /**
   * Paths whose search text matches the SQLite GLOB `glob` (trigram-accelerated), in search-text order, as
   * an iterator: the caller stops once it has enough.
   */
  matchingPaths(glob: string): IterableIterator<{ pid: number; path: Buffer; text: string }> {
    return this.sql<[string, number], { pid: number; path: Buffer; text: string }>(
      `SELECT p.pid, p.path, s.text FROM history_search s JOIN history_paths p ON p.pid = s.rowid
         WHERE s.text GLOB ? AND p.rid = ? ORDER BY s.text, p.path`,
    ).iterate(glob, this.rid);
  }
}
