import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { BulwarkError } from '../errors.ts';
import { preparePrivateDbFile } from '../paths.ts';
import {
  objectNames,
  type BlobKind,
  type PackedBlob,
  type RepoConfig,
  type SnapshotManifest,
} from '../repo/format.ts';
import type { TamperFinding, TamperKind, VersionBook } from '../repo/pinned-store.ts';
import { trustedCheck, writeCheckStamp } from './check-stamp.ts';
import { MIGRATIONS } from './migrations.ts';

export interface BlobLocation {
  pack: string;
  offset: number;
  length: number;
  rawLength: number;
  kind: BlobKind;
}

/**
 * Where blobs lie, written by `Catalog.locateBlobs` at each id's position: `pack` is an index into the pack
 * ids it returns (-1: the blob is in no index).
 */
export interface BlobSpotsInto {
  pack: Int32Array;
  offset: Float64Array;
  length: Float64Array;
  rawLength: Float64Array;
}

/** Why a blob's copy in a pack cannot be used: it does not authenticate, or its pack is gone. */
export type BlobDamage = 'damaged' | 'missing-pack';

/** One damaged copy of a blob (catalog table damaged_blobs). */
export interface DamagedBlob {
  id: string;
  pack: string;
  reason: BlobDamage;
  message: string;
  foundAt: number;
  /** the catalog still locates the blob at this copy (no intact one stored since) */
  current: boolean;
}

/** A tampering finding as the catalog keeps it (first seen, and whether a person acknowledged it). */
export interface TamperRecord extends TamperFinding {
  firstSeen: number;
  acknowledgedAt: number | null;
}

/** One legal-hold record of a snapshot (holds/ objects, verify-locks.ts) as the catalog caches it. */
export interface HoldRecordRow {
  object: string;
  snapshot: string;
  /** true: the hold was placed; false: lifted */
  held: boolean;
  /** ms, server clock */
  time: number;
}

export type RunState = 'running' | 'succeeded' | 'failed' | 'canceled' | 'interrupted';

export interface RunRecord {
  id: number;
  kind: string;
  source: string | null;
  state: RunState;
  startedAt: number;
  finishedAt: number | null;
  snapshotId: string | null;
  error: string | null;
}

const hex = (id: string): Buffer => Buffer.from(id, 'hex');

/** ids per query of Catalog.lookupBlobs (SQLite allows 32 766 parameters) */
const LOOKUP_BATCH = 256;

/** A hex digit's value (anything else: some value in 0-15; the order is only a hint). */
const nibble = (c: number): number => (c <= 57 ? c - 48 : c - 87) & 15;

/**
 * The positions of `ids` ordered by each id's first four hex digits: a counting sort, 6-17 ms for 76 000
 * ids here, where sorting the positions by comparing the ids took 35-41 ms. Fewer ids than one query keep
 * their order.
 */
export function idPrefixOrder(ids: readonly string[]): Int32Array {
  const n = ids.length;
  const order = new Int32Array(n);
  if (n <= LOOKUP_BATCH) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }
  const keys = new Uint16Array(n);
  const starts = new Int32Array(0x10001);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const key =
      (nibble(id.charCodeAt(0)) << 12) |
      (nibble(id.charCodeAt(1)) << 8) |
      (nibble(id.charCodeAt(2)) << 4) |
      nibble(id.charCodeAt(3));
    keys[i] = key;
    starts[key + 1]!++;
  }
  for (let k = 1; k <= 0x10000; k++) starts[k]! += starts[k - 1]!;
  for (let i = 0; i < n; i++) order[starts[keys[i]!]!++] = i;
  return order;
}
type BlobsInStatement = Database.Statement<unknown[], [number, string, number, number, number, number]>;

/** the catalog's SQLite page cache per connection (KiB) */
const CATALOG_CACHE_KIB = 4096;
/**
 * Pages the write-ahead log may hold before a commit copies them into the database (SQLite's default is
 * 1 000). A pack's blob rows land on as many random pages as it has blobs, so with 1 000 every pack's
 * commit checkpointed, with two fsyncs; see `Catalog.open`.
 */
export const CATALOG_WAL_PAGES = 16_384;
/** blob rows per slice of `addPackInSlices` (~15 ms each in a catalog of a million blobs) */
const PACK_SLICE_ROWS = 2048;

/**
 * The local catalog (better-sqlite3, WAL). A cache of what the repository holds, so a backup knows which
 * blobs exist and when each pack's lock ends without listing the target, plus local history (runs, audit).
 */
export class Catalog {
  readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly stmts: ReturnType<Catalog['prepare']>;
  /** the file and when its integrity check last passed: stamped at close (check-stamp.ts) */
  private checked: { path: string; at: number } | undefined;
  /** the sliced pack writes, one after the other (addPackInSlices) */
  private slicedWrites: Promise<void> = Promise.resolve();
  /** how this open dealt with the integrity check: run now, trusted from a clean close, or not asked for */
  integrity: 'checked' | 'trusted' | 'not-asked' = 'not-asked';

  private constructor(db: Database.Database, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.stmts = this.prepare();
  }

  /**
   * Opens (creating it if needed) and migrates the catalog at `path`. A file SQLite finds damaged (not a
   * database, a malformed page met while migrating or preparing) throws an IO error that
   * `isCatalogDamaged` recognises: the catalog is a cache, the caller may rebuild it. `check` also runs
   * SQLite's quick_check (every page; about 4 ms per MB), which finds damage the first queries would not
   * touch, e.g. in the middle of the blob table. The check is skipped when the file is exactly as a clean
   * close of Bulwark left it less than a day after a check passed (check-stamp.ts).
   */
  static open(path: string, opts: { clock?: Clock; readonly?: boolean; check?: boolean } = {}): Catalog {
    if (path !== ':memory:' && !opts.readonly) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let db: Database.Database;
    try {
      if (!opts.readonly) preparePrivateDbFile(path); // 0600: it holds decrypted file names (paths.ts)
      db = new Database(path, { readonly: opts.readonly ?? false });
    } catch (e) {
      if (isSqliteDamage(e)) throw catalogDamaged(path, e);
      throw new BulwarkError('IO', `cannot open the catalog ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      db.pragma('busy_timeout = 10000');
      // 4 MiB of page cache, not better-sqlite3's 16: a backup of 80 000 small files filled all 16 (its
      // blob rows) and peaked 14 MB higher, no faster; the file's pages stay in the OS cache either way
      db.pragma(`cache_size = -${CATALOG_CACHE_KIB}`);
      const clock = opts.clock ?? systemClock;
      let checkedAt: number | undefined;
      let integrity: Catalog['integrity'] = 'not-asked';
      if (opts.check) {
        integrity = 'trusted';
        const now = clock.now().getTime();
        checkedAt = path === ':memory:' ? undefined : trustedCheck(path, now);
        if (checkedAt === undefined) {
          // before anything writes: a damaged file is moved aside as it was found
          const result = db.pragma('quick_check', { simple: true });
          if (result !== 'ok') {
            const detail = String(result).split('\n')[0] ?? '';
            throw Object.assign(new Error(`integrity check: ${detail}`), { code: 'SQLITE_CORRUPT' });
          }
          checkedAt = now;
          integrity = 'checked';
        }
      }
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        // Checkpoint every ~64 MiB of log, not every 4 MiB: each checkpoint fsyncs the log and the
        // database, and a backup's pack of ~8 000 small blobs dirties ~8 000 pages. 80 000 small files:
        // 3.95-4.85 s -> 3.96-4.24 s; a million: 29-33 s -> 28.7-29.7 s (alternating pairs). The log is
        // cut back to 64 MiB after a checkpoint, and a clean close folds it in and removes it, as before.
        // What a power cut may take back is at most that log, never consistency: the catalog is a cache of
        // the repository, and a pack it did not record is adopted by the next backup.
        db.pragma(`wal_autocheckpoint = ${CATALOG_WAL_PAGES}`);
        db.pragma(`journal_size_limit = ${CATALOG_WAL_PAGES * 4096}`);
        migrate(db);
      }
      const cat = new Catalog(db, clock);
      cat.integrity = integrity;
      if (checkedAt !== undefined && !opts.readonly && path !== ':memory:')
        cat.checked = { path, at: checkedAt };
      // A run still marked running was killed with its process: say so instead of showing it forever.
      if (!opts.readonly)
        cat.db.prepare(`UPDATE runs SET state = 'interrupted' WHERE state = 'running'`).run();
      return cat;
    } catch (e) {
      db.close();
      if (isSqliteDamage(e)) throw catalogDamaged(path, e);
      throw e;
    }
  }

  close(): void {
    if (!this.db.open) return;
    this.db.close();
    // no stamp, no harm: the next open runs the integrity check (the reason is not worth a message)
    if (this.checked) writeCheckStamp(this.checked.path, this.checked.at);
  }

  private prepare() {
    const d = this.db;
    return {
      blobGet: d.prepare<
        [number, Buffer],
        { pack: string; offset: number; length: number; raw_length: number; kind: number }
      >('SELECT pack, offset, length, raw_length, kind FROM blobs WHERE rid = ? AND id = ?'),
      blobHas: d.prepare<[number, Buffer], { x: number }>(
        'SELECT 1 AS x FROM blobs WHERE rid = ? AND id = ?',
      ),
      // The first location of a blob wins, except over a location found damaged (damaged_blobs): a copy
      // stored again after verify found the damage takes its place, so every snapshot reads the intact one.
      blobPut: d.prepare(
        `INSERT INTO blobs (rid, id, pack, offset, length, raw_length, kind) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (rid, id) DO UPDATE SET pack = excluded.pack, offset = excluded.offset,
           length = excluded.length, raw_length = excluded.raw_length, kind = excluded.kind
         WHERE EXISTS (SELECT 1 FROM damaged_blobs d WHERE d.rid = blobs.rid AND d.id = blobs.id AND d.pack = blobs.pack)
           AND NOT EXISTS (SELECT 1 FROM damaged_blobs d WHERE d.rid = excluded.rid AND d.id = excluded.id AND d.pack = excluded.pack)`,
      ),
      packPut: d.prepare(
        'INSERT OR IGNORE INTO packs (rid, id, size, retain_until, index_id, added_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      packSetIndex: d.prepare('UPDATE packs SET index_id = ? WHERE rid = ? AND id = ?'),
      indexPut: d.prepare('INSERT OR IGNORE INTO indexes (rid, id) VALUES (?, ?)'),
      lockPut: d.prepare(
        'INSERT INTO locks (rid, name, retain_until) VALUES (?, ?, ?) ON CONFLICT (rid, name) DO UPDATE SET retain_until = max(coalesce(retain_until, 0), excluded.retain_until)',
      ),
      treeGet: d.prepare<[number, Buffer], { data: Buffer }>(
        'SELECT data FROM trees WHERE rid = ? AND id = ?',
      ),
      treePut: d.prepare('INSERT OR IGNORE INTO trees (rid, id, data) VALUES (?, ?, ?)'),
    };
  }

  /** The catalog's number for the repository with config id `repoId`, without recording anything. */
  knownRepository(repoId: string): number | undefined {
    return this.db
      .prepare<[string], { rid: number }>('SELECT rid FROM repositories WHERE repo_id = ?')
      .get(repoId)?.rid;
  }

  /** Registers a repository (by its config id) and returns the small integer used as key in other tables. */
  repository(config: RepoConfig, location: string): number {
    const row = this.db
      .prepare<[string], { rid: number }>('SELECT rid FROM repositories WHERE repo_id = ?')
      .get(config.id);
    if (row) {
      this.db.prepare('UPDATE repositories SET location = ? WHERE rid = ?').run(location, row.rid);
      return row.rid;
    }
    const r = this.db
      .prepare('INSERT INTO repositories (repo_id, location, config, added_at) VALUES (?, ?, ?, ?)')
      .run(config.id, location, JSON.stringify(config), this.clock.now().getTime());
    return Number(r.lastInsertRowid);
  }

  /** Forgets everything cached about a repository (before a rebuild). Runs and audit stay. */
  clearRepository(rid: number): void {
    this.db.transaction(() => {
      for (const t of ['packs', 'blobs', 'indexes', 'snapshots', 'trees', 'locks', 'object_versions'])
        this.db.prepare(`DELETE FROM ${t} WHERE rid = ?`).run(rid);
      this.clearHistory(rid);
    })();
  }

  /** Forgets the file-history index of a repository (engine/history: rebuilt from its snapshots). */
  clearHistory(rid: number): void {
    const bySource = 'sid IN (SELECT sid FROM history_sources WHERE rid = ?)';
    this.db.transaction(() => {
      this.db
        .prepare('DELETE FROM history_search WHERE rowid IN (SELECT pid FROM history_paths WHERE rid = ?)')
        .run(rid);
      this.db.prepare('DELETE FROM history_paths WHERE rid = ?').run(rid);
      this.db.prepare(`DELETE FROM history_versions WHERE ${bySource}`).run(rid);
      this.db.prepare(`DELETE FROM history_snapshots WHERE ${bySource}`).run(rid);
      this.db.prepare('DELETE FROM history_sources WHERE rid = ?').run(rid);
      this.db.prepare('DELETE FROM history_built WHERE rid = ?').run(rid);
    })();
  }

  /** The config this catalog first saw for the repository (what its lock policy is pinned to). */
  repositoryConfig(rid: number): RepoConfig | undefined {
    const r = this.db
      .prepare<[number], { config: string }>('SELECT config FROM repositories WHERE rid = ?')
      .get(rid);
    return r && (JSON.parse(r.config) as RepoConfig);
  }

  /** The versions Bulwark wrote for a repository's objects (repo/pinned-store.ts). */
  versionBook(rid: number): VersionBook {
    const get = this.db.prepare<[number, string], { version: string }>(
      'SELECT version FROM object_versions WHERE rid = ? AND name = ?',
    );
    const set = this.db.prepare(
      'INSERT INTO object_versions (rid, name, version) VALUES (?, ?, ?) ON CONFLICT (rid, name) DO UPDATE SET version = excluded.version',
    );
    const del = this.db.prepare('DELETE FROM object_versions WHERE rid = ? AND name = ?');
    const foreign = this.db.prepare('SELECT 1 FROM tampering WHERE rid = ? AND name = ? AND version = ?');
    return {
      get: (name) => get.get(rid, name)?.version,
      set: (name, version) => void set.run(rid, name, version),
      delete: (name) => void del.run(rid, name),
      isForeign: (name, version) => foreign.get(rid, name, version) !== undefined,
    };
  }

  /** Records a tampering finding (once per version: the first sighting is kept). Returns true if new. */
  recordTampering(rid: number, f: TamperFinding): boolean {
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO tampering (rid, name, version, kind, modified, ours, first_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        rid,
        f.name,
        f.versionId,
        f.kind,
        f.modified?.getTime() ?? null,
        f.ours ?? null,
        this.clock.now().getTime(),
      );
    return r.changes > 0;
  }

  /** Tampering findings, oldest first; `open`: only those no person has acknowledged yet. */
  tampering(rid: number, opts: { open?: boolean } = {}): TamperRecord[] {
    return this.db
      .prepare<
        [number],
        {
          name: string;
          version: string;
          kind: TamperKind;
          modified: number | null;
          ours: string | null;
          first_seen: number;
          acknowledged_at: number | null;
        }
      >(
        `SELECT name, version, kind, modified, ours, first_seen, acknowledged_at FROM tampering
         WHERE rid = ? ${opts.open ? 'AND acknowledged_at IS NULL' : ''} ORDER BY first_seen, name, version`,
      )
      .all(rid)
      .map((r) => ({
        name: r.name,
        kind: r.kind,
        versionId: r.version,
        ...(r.modified !== null ? { modified: new Date(r.modified) } : {}),
        ...(r.ours !== null ? { ours: r.ours } : {}),
        firstSeen: r.first_seen,
        acknowledgedAt: r.acknowledged_at,
      }));
  }

  /** A person looked at the open findings: they no longer stop backups. Returns how many. */
  acknowledgeTampering(rid: number): number {
    return this.db
      .prepare('UPDATE tampering SET acknowledged_at = ? WHERE rid = ? AND acknowledged_at IS NULL')
      .run(this.clock.now().getTime(), rid).changes;
  }

  lookupBlob(rid: number, id: string): BlobLocation | undefined {
    const r = this.stmts.blobGet.get(rid, hex(id));
    return (
      r && {
        pack: r.pack,
        offset: r.offset,
        length: r.length,
        rawLength: r.raw_length,
        kind: r.kind === 1 ? 'tree' : 'data',
      }
    );
  }

  /**
   * The locations of many blobs at once, in the order asked (undefined: in no index; an id asked twice is
   * answered twice). One query per LOOKUP_BATCH ids, each id bound as hex text with its position and
   * turned into the key by SQLite (`unhex`): no Buffer per id, and a row says which id it answers. 76 000
   * lookups one by one took 270-300 ms here, this way 63 ms. A restore uses `locateBlobs`, the same queries
   * in id order.
   */
  lookupBlobs(rid: number, ids: readonly string[]): (BlobLocation | undefined)[] {
    const out = new Array<BlobLocation | undefined>(ids.length).fill(undefined);
    for (let from = 0; from < ids.length; from += LOOKUP_BATCH) {
      const batch = ids.slice(from, from + LOOKUP_BATCH);
      for (const [k, pack, offset, length, rawLength, kind] of this.blobRows(rid, batch))
        out[from + k] = { pack, offset, length, rawLength, kind: kind === 1 ? 'tree' : 'data' };
    }
    return out;
  }

  /**
   * `lookupBlobs` for a restore's every blob at once, into flat arrays (no object per blob): each id's
   * location at its position in `into`; returns the pack ids that `into.pack` indexes, in the order first
   * met. The ids are looked up in the order of their first four hex digits, not in the order asked. Blob
   * ids are random, so a restore's file order jumps across the whole table: a catalog larger than SQLite's
   * cache (4 MiB) read most of its leaf pages again and again. In id order each page is read about once:
   * 76 000 lookups in a freshly opened catalog took 183-350 ms in file order, 132-237 ms this way
   * (docs/DECISIONS.md, "Restore of many small files").
   */
  locateBlobs(rid: number, ids: readonly string[], into: BlobSpotsInto): string[] {
    const order = idPrefixOrder(ids);
    const packIds: string[] = [];
    const packNo = new Map<string, number>();
    into.pack.fill(-1, 0, ids.length);
    for (let from = 0; from < ids.length; from += LOOKUP_BATCH) {
      const n = Math.min(LOOKUP_BATCH, ids.length - from);
      const batch = new Array<string>(n);
      for (let k = 0; k < n; k++) batch[k] = ids[order[from + k]!]!;
      for (const [k, pack, offset, length, rawLength] of this.blobRows(rid, batch)) {
        const at = order[from + k]!;
        let p = packNo.get(pack);
        if (p === undefined) {
          p = packIds.length;
          packIds.push(pack);
          packNo.set(pack, p);
        }
        into.pack[at] = p;
        into.offset[at] = offset;
        into.length[at] = length;
        into.rawLength[at] = rawLength;
      }
    }
    return packIds;
  }

  /** The rows of up to LOOKUP_BATCH ids, each with the position of the id it answers (blobsInStatement). */
  private blobRows(
    rid: number,
    batch: readonly string[],
  ): [number, string, number, number, number, number][] {
    const stmt =
      batch.length === LOOKUP_BATCH
        ? (this.blobBatchGet ??= this.blobsInStatement(LOOKUP_BATCH))
        : this.blobsInStatement(batch.length);
    return stmt.all(...batch, rid);
  }

  private blobBatchGet: BlobsInStatement | undefined;

  private blobsInStatement(n: number): BlobsInStatement {
    const positions = Array.from({ length: n }, (_, k) => `(${k}, ?)`).join(', ');
    return this.db
      .prepare<unknown[], [number, string, number, number, number, number]>(
        `SELECT q.column1, b.pack, b.offset, b.length, b.raw_length, b.kind FROM (VALUES ${positions}) AS q
         JOIN blobs AS b ON b.rid = ? AND b.id = unhex(q.column2)`,
      )
      .raw(true);
  }

  hasBlob(rid: number, id: string): boolean {
    return this.stmts.blobHas.get(rid, hex(id)) !== undefined;
  }

  blobCount(rid: number): number {
    return (
      this.db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM blobs WHERE rid = ?').get(rid)?.n ??
      0
    );
  }

  /**
   * Every known blob id (raw 32 bytes) a backup may deduplicate against, streamed: used to seed the shared
   * dedup table. A blob whose only known copy is damaged (damaged_blobs) is left out, so it is stored again.
   */
  *blobIds(rid: number): IterableIterator<Buffer> {
    const anyDamage = this.db.prepare('SELECT 1 FROM damaged_blobs WHERE rid = ? LIMIT 1').get(rid);
    const it = this.db
      .prepare<[number], { id: Buffer }>(
        anyDamage
          ? `SELECT b.id FROM blobs b WHERE b.rid = ? AND NOT EXISTS
               (SELECT 1 FROM damaged_blobs d WHERE d.rid = b.rid AND d.id = b.id AND d.pack = b.pack)`
          : 'SELECT id FROM blobs WHERE rid = ?',
      )
      .raw(false)
      .iterate(rid);
    for (const r of it) yield r.id;
  }

  /**
   * Records that the copy of blob `id` in `pack` is damaged: it does not authenticate, or the pack is gone.
   * Until a new copy is stored (Catalog.addPack puts it in the damaged one's place) the blob is not reused.
   */
  markBlobDamaged(rid: number, id: string, pack: string, reason: BlobDamage, message: string): void {
    this.db
      .prepare(
        `INSERT INTO damaged_blobs (rid, id, pack, reason, message, found_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (rid, id, pack) DO UPDATE SET reason = excluded.reason, message = excluded.message`,
      )
      .run(rid, hex(id), pack, reason, message, this.clock.now().getTime());
  }

  /**
   * What verify found reading a whole pack: replaces every earlier finding about that pack (a pack that
   * came back, or was read intact, clears them). `reason` given: only findings of that kind are replaced.
   */
  setPackDamage(
    rid: number,
    pack: string,
    blobs: readonly { id: string; message: string }[],
    reason: BlobDamage,
  ): void {
    this.db.transaction(() => {
      this.db
        .prepare('DELETE FROM damaged_blobs WHERE rid = ? AND pack = ? AND reason = ?')
        .run(rid, pack, reason);
      for (const b of blobs) this.markBlobDamaged(rid, b.id, pack, reason, b.message);
    })();
  }

  /** Findings about blobs, oldest first (each a damaged copy; the blob may meanwhile have an intact one). */
  damagedBlobs(rid: number): DamagedBlob[] {
    return this.db
      .prepare<
        [number],
        { id: Buffer; pack: string; reason: BlobDamage; message: string; found_at: number; current: number }
      >(
        `SELECT d.id, d.pack, d.reason, d.message, d.found_at,
           EXISTS (SELECT 1 FROM blobs b WHERE b.rid = d.rid AND b.id = d.id AND b.pack = d.pack) AS current
         FROM damaged_blobs d WHERE d.rid = ? ORDER BY d.found_at, d.pack`,
      )
      .all(rid)
      .map((r) => ({
        id: r.id.toString('hex'),
        pack: r.pack,
        reason: r.reason,
        message: r.message,
        foundAt: r.found_at,
        current: r.current === 1,
      }));
  }

  /** Ids of the blobs whose located copy is damaged: not to be reused (usually none, so this is cheap). */
  unusableBlobs(rid: number): Set<string> {
    const rows = this.db
      .prepare<[number], { id: Buffer }>(
        `SELECT d.id FROM damaged_blobs d JOIN blobs b ON b.rid = d.rid AND b.id = d.id AND b.pack = d.pack
         WHERE d.rid = ?`,
      )
      .all(rid);
    return new Set(rows.map((r) => r.id.toString('hex')));
  }

  /** Points a blob at another copy (verify found the located one damaged and this one intact). */
  relocateBlob(rid: number, id: string, loc: BlobLocation): void {
    this.db
      .prepare(
        'UPDATE blobs SET pack = ?, offset = ?, length = ?, raw_length = ?, kind = ? WHERE rid = ? AND id = ?',
      )
      .run(loc.pack, loc.offset, loc.length, loc.rawLength, loc.kind === 'tree' ? 1 : 0, rid, hex(id));
  }

  /**
   * Records an uploaded pack and its blobs in one transaction (first location of a blob wins). The rows go
   * in in id order: ids are random, so in pack order each row lands on another page of the table; sorted,
   * neighbours share pages (a pack of 27 000 blobs into a table of a million: ~10 % faster).
   */
  addPack(
    rid: number,
    pack: { id: string; size: number; blobs: PackedBlob[] },
    retainUntil: Date | null,
    indexId: string | null,
  ): void {
    const rows = this.packRows(rid, pack, retainUntil, indexId);
    this.db.transaction(() => rows(0, Infinity, true))();
  }

  /**
   * `addPack` without holding the thread: the blob rows go in `sliceRows` at a time, each slice its own
   * transaction with the event loop turning between them, and the pack's own row with the last slice. A
   * backup's coordinator records packs while it hands files to its readers: recording packs of ~27 000
   * small blobs into a catalog of a million took it 1.7–3 s at a stretch, and the readers ran dry meanwhile.
   * No transaction stays open across turns of the event loop (whatever else writes meanwhile commits on
   * its own). Until the last slice the pack is not recorded: were the process to die in between, the next
   * backup adopts it as a pack the catalog does not know (its trailer lists every blob again; the rows
   * already there are the same). One pack at a time.
   */
  addPackInSlices(
    rid: number,
    pack: { id: string; size: number; blobs: PackedBlob[] },
    retainUntil: Date | null,
    indexId: string | null,
    sliceRows = PACK_SLICE_ROWS,
  ): Promise<void> {
    const run = this.slicedWrites.then(async () => {
      const rows = this.packRows(rid, pack, retainUntil, indexId);
      const n = pack.blobs.length;
      for (let from = 0; from === 0 || from < n; from += sliceRows) {
        if (from > 0) await new Promise<void>((res) => setImmediate(res));
        const last = from + sliceRows >= n;
        this.db.transaction(() => rows(from, from + sliceRows, last))();
      }
    });
    // the next sliced write waits for this one, failed or not (its failure is the caller's)
    this.slicedWrites = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** A pack's rows: its blob rows `from`..`to` in id order, and with `withPack` its own; call in a transaction. */
  private packRows(
    rid: number,
    pack: { id: string; size: number; blobs: PackedBlob[] },
    retainUntil: Date | null,
    indexId: string | null,
  ): (from: number, to: number, withPack: boolean) => void {
    const now = this.clock.now().getTime();
    // a stable sort: were an id listed twice, its first location still comes first
    const byId = pack.blobs.toSorted((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return (from, to, withPack) => {
      for (const b of byId.slice(from, to))
        this.stmts.blobPut.run(
          rid,
          hex(b.id),
          pack.id,
          b.offset,
          b.length,
          b.rawLength,
          b.kind === 'tree' ? 1 : 0,
        );
      if (!withPack) return;
      this.stmts.packPut.run(rid, pack.id, pack.size, retainUntil?.getTime() ?? null, indexId, now);
      if (retainUntil) this.stmts.lockPut.run(rid, objectNames.pack(pack.id), retainUntil.getTime());
    };
  }

  hasPack(rid: number, id: string): boolean {
    return this.db.prepare('SELECT 1 FROM packs WHERE rid = ? AND id = ?').get(rid, id) !== undefined;
  }

  /** How many packs the catalog knows of a repository. */
  packCount(rid: number): number {
    return this.db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM packs WHERE rid = ?').get(rid)!
      .n;
  }

  /**
   * What the catalog knows of the locks of every pack and index object of a repository (the index objects
   * that list its packs): how many objects, how many of them it knows no lock of (a pack no index lists
   * counts too), and the earliest lock it knows. The object names are `objectNames.pack` and
   * `objectNames.index`, spelled in SQL so that the locks are joined without a round trip per name.
   */
  packAndIndexLocks(rid: number): { objects: number; unknown: number; earliest: number | null } {
    const row = this.db
      .prepare<[{ rid: number }], { objects: number; unknown: number | null; earliest: number | null }>(
        `WITH objects (name, orphan) AS (
           SELECT 'packs/' || substr(id, 1, 2) || '/' || id, index_id IS NULL FROM packs WHERE rid = @rid
           UNION ALL
           SELECT DISTINCT 'index/' || index_id, 0 FROM packs WHERE rid = @rid AND index_id IS NOT NULL
         )
         SELECT count(*) AS objects, sum(orphan OR l.retain_until IS NULL) AS unknown,
           min(l.retain_until) AS earliest
         FROM objects o LEFT JOIN locks l ON l.rid = @rid AND l.name = o.name`,
      )
      .get({ rid })!;
    // sum() of no rows is NULL
    return { objects: row.objects, unknown: row.unknown ?? 0, earliest: row.earliest };
  }

  packs(rid: number): { id: string; size: number; retainUntil: number | null; indexId: string | null }[] {
    return this.db
      .prepare<[number], { id: string; size: number; retain_until: number | null; index_id: string | null }>(
        'SELECT id, size, retain_until, index_id FROM packs WHERE rid = ?',
      )
      .all(rid)
      .map((r) => ({ id: r.id, size: r.size, retainUntil: r.retain_until, indexId: r.index_id }));
  }

  /** Packs uploaded but not yet listed by any index object (a run killed before writing its index). */
  unindexedPacks(rid: number): { id: string; size: number }[] {
    return this.db
      .prepare<[number], { id: string; size: number }>(
        'SELECT id, size FROM packs WHERE rid = ? AND index_id IS NULL',
      )
      .all(rid);
  }

  /** The blobs the catalog locates in this pack (for writing an index of a pack uploaded by a killed run). */
  packBlobs(rid: number, packId: string): PackedBlob[] {
    return this.db
      .prepare<
        [number, string],
        { id: Buffer; offset: number; length: number; raw_length: number; kind: number }
      >('SELECT id, offset, length, raw_length, kind FROM blobs WHERE rid = ? AND pack = ? ORDER BY offset')
      .all(rid, packId)
      .map((r) => ({
        id: r.id.toString('hex'),
        kind: r.kind === 1 ? 'tree' : 'data',
        offset: r.offset,
        length: r.length,
        rawLength: r.raw_length,
      }));
  }

  markIndexed(rid: number, packIds: readonly string[], indexId: string): void {
    this.db.transaction(() => {
      this.stmts.indexPut.run(rid, indexId);
      for (const p of packIds) this.stmts.packSetIndex.run(indexId, rid, p);
    })();
  }

  hasIndex(rid: number, id: string): boolean {
    return this.db.prepare('SELECT 1 FROM indexes WHERE rid = ? AND id = ?').get(rid, id) !== undefined;
  }

  addIndex(rid: number, id: string): void {
    this.stmts.indexPut.run(rid, id);
  }

  putTree(rid: number, id: string, data: Buffer): void {
    this.stmts.treePut.run(rid, hex(id), data);
  }

  /** Many listings in one transaction (a backup's folders: one commit each cost ~0.4 ms per folder). */
  putTrees(rid: number, trees: readonly (readonly [id: string, data: Buffer])[]): void {
    if (trees.length === 0) return;
    this.db.transaction(() => {
      for (const [id, data] of trees) this.stmts.treePut.run(rid, hex(id), data);
    })();
  }

  getTree(rid: number, id: string): Buffer | undefined {
    return this.stmts.treeGet.get(rid, hex(id))?.data;
  }

  putSnapshot(rid: number, m: SnapshotManifest): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO snapshots (rid, id, time, source, host, tree, retain_until, manifest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        rid,
        m.id,
        m.time,
        m.source,
        m.host,
        m.tree,
        m.retainUntil ? Date.parse(m.retainUntil) : null,
        JSON.stringify(m),
      );
  }

  hasSnapshot(rid: number, id: string): boolean {
    return this.db.prepare('SELECT 1 FROM snapshots WHERE rid = ? AND id = ?').get(rid, id) !== undefined;
  }

  snapshots(rid: number): SnapshotManifest[] {
    return this.db
      .prepare<[number], { manifest: string }>(
        'SELECT manifest FROM snapshots WHERE rid = ? ORDER BY time, id',
      )
      .all(rid)
      .map((r) => JSON.parse(r.manifest) as SnapshotManifest);
  }

  /**
   * The snapshots of a repository without their manifests' bulk (stats, error lists): id, source, time and
   * root tree, in time order (the order of a source's chain).
   */
  snapshotRefs(rid: number): { id: string; source: string; time: string; tree: string }[] {
    return this.db
      .prepare<[number], { id: string; source: string; time: string; tree: string }>(
        'SELECT id, source, time, tree FROM snapshots WHERE rid = ? ORDER BY time, id',
      )
      .all(rid);
  }

  /** One snapshot's manifest, if the catalog knows it. */
  snapshot(rid: number, id: string): SnapshotManifest | undefined {
    const r = this.db
      .prepare<[number, string], { manifest: string }>(
        'SELECT manifest FROM snapshots WHERE rid = ? AND id = ?',
      )
      .get(rid, id);
    return r && (JSON.parse(r.manifest) as SnapshotManifest);
  }

  latestSnapshot(rid: number, source: string): SnapshotManifest | undefined {
    const r = this.db
      .prepare<[number, string], { manifest: string }>(
        'SELECT manifest FROM snapshots WHERE rid = ? AND source = ? ORDER BY time DESC, id DESC LIMIT 1',
      )
      .get(rid, source);
    return r && (JSON.parse(r.manifest) as SnapshotManifest);
  }

  /** `startedAt` (ms) lets the caller record the same instant it reports elsewhere. */
  startRun(kind: string, rid: number | null, source: string | null, startedAt?: number): number {
    const r = this.db
      .prepare(`INSERT INTO runs (rid, kind, source, state, started_at) VALUES (?, ?, ?, 'running', ?)`)
      .run(rid, kind, source, startedAt ?? this.clock.now().getTime());
    return Number(r.lastInsertRowid);
  }

  finishRun(
    id: number,
    state: Exclude<RunState, 'running'>,
    result: { snapshotId?: string; stats?: unknown; error?: string },
  ): void {
    this.db
      .prepare(
        'UPDATE runs SET state = ?, finished_at = ?, snapshot_id = ?, stats = ?, error = ? WHERE id = ?',
      )
      .run(
        state,
        this.clock.now().getTime(),
        result.snapshotId ?? null,
        result.stats === undefined ? null : JSON.stringify(result.stats),
        result.error ?? null,
        id,
      );
  }

  runs(limit = 50): RunRecord[] {
    return this.db
      .prepare<
        [number],
        {
          id: number;
          kind: string;
          source: string | null;
          state: RunState;
          started_at: number;
          finished_at: number | null;
          snapshot_id: string | null;
          error: string | null;
        }
      >(
        'SELECT id, kind, source, state, started_at, finished_at, snapshot_id, error FROM runs ORDER BY id DESC LIMIT ?',
      )
      .all(limit)
      .map((r) => ({
        id: r.id,
        kind: r.kind,
        source: r.source,
        state: r.state,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        snapshotId: r.snapshot_id,
        error: r.error,
      }));
  }

  audit(actor: string, action: string, subject: string | null, details?: unknown): void {
    this.db
      .prepare('INSERT INTO audit (time, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)')
      .run(
        this.clock.now().getTime(),
        actor,
        action,
        subject,
        details === undefined ? null : JSON.stringify(details),
      );
  }

  /** Known retain-until (ms) of repository objects by name; absent or null: unknown. */
  retention(rid: number, names: readonly string[]): Map<string, number | null> {
    const st = this.db.prepare<[number, string], { retain_until: number | null }>(
      'SELECT retain_until FROM locks WHERE rid = ? AND name = ?',
    );
    const out = new Map<string, number | null>();
    for (const n of names) out.set(n, st.get(rid, n)?.retain_until ?? null);
    return out;
  }

  setRetention(rid: number, entries: Iterable<[name: string, retainUntil: number | null]>): void {
    const st = this.db.prepare(
      'INSERT INTO locks (rid, name, retain_until) VALUES (?, ?, ?) ON CONFLICT (rid, name) DO UPDATE SET retain_until = excluded.retain_until',
    );
    this.db.transaction(() => {
      for (const [n, r] of entries) st.run(rid, n, r);
    })();
  }

  setLegalHold(rid: number, names: Iterable<string>, on: boolean): void {
    const st = this.db.prepare(
      'INSERT INTO locks (rid, name, legal_hold) VALUES (?, ?, ?) ON CONFLICT (rid, name) DO UPDATE SET legal_hold = excluded.legal_hold',
    );
    this.db.transaction(() => {
      for (const n of names) st.run(rid, n, on ? 1 : 0);
    })();
  }

  setSnapshotProtection(rid: number, id: string, protectedUntil: number | null, held?: boolean): void {
    this.db
      .prepare('UPDATE snapshots SET protected_until = ?, held = coalesce(?, held) WHERE rid = ? AND id = ?')
      .run(protectedUntil, held === undefined ? null : held ? 1 : 0, rid, id);
  }

  /** Caches one holds/ record (idempotent). Returns false when it was known already. */
  addHoldRecord(rid: number, rec: HoldRecordRow): boolean {
    return (
      this.db
        .prepare(
          'INSERT OR IGNORE INTO snapshot_holds (rid, object, snapshot, held, time) VALUES (?, ?, ?, ?, ?)',
        )
        .run(rid, rec.object, rec.snapshot, rec.held ? 1 : 0, rec.time).changes > 0
    );
  }

  hasHoldRecord(rid: number, object: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM snapshot_holds WHERE rid = ? AND object = ?').get(rid, object) !==
      undefined
    );
  }

  /**
   * The hold in force for each snapshot that has a record: its latest record (by time; at equal times a
   * placed hold wins, the safe side).
   */
  snapshotHolds(rid: number): Map<string, HoldRecordRow> {
    const rows = this.db
      .prepare<[number], { object: string; snapshot: string; held: number; time: number }>(
        'SELECT object, snapshot, held, time FROM snapshot_holds WHERE rid = ? ORDER BY time, held, object',
      )
      .all(rid);
    const out = new Map<string, HoldRecordRow>();
    for (const r of rows) {
      out.set(r.snapshot, { object: r.object, snapshot: r.snapshot, held: r.held === 1, time: r.time });
    }
    return out;
  }

  snapshotProtection(rid: number): Map<string, { protectedUntil: number | null; held: boolean }> {
    const rows = this.db
      .prepare<[number], { id: string; protected_until: number | null; held: number }>(
        'SELECT id, protected_until, held FROM snapshots WHERE rid = ?',
      )
      .all(rid);
    return new Map(rows.map((r) => [r.id, { protectedUntil: r.protected_until, held: r.held === 1 }]));
  }

  auditLog(): {
    id: number;
    time: number;
    actor: string;
    action: string;
    subject: string | null;
    details: string | null;
  }[] {
    return this.db
      .prepare<
        [],
        {
          id: number;
          time: number;
          actor: string;
          action: string;
          subject: string | null;
          details: string | null;
        }
      >('SELECT * FROM audit ORDER BY id')
      .all();
  }
}

/** SQLite's word for a damaged file: SQLITE_CORRUPT (and its extended codes) and SQLITE_NOTADB. */
function isSqliteDamage(e: unknown): boolean {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

const DAMAGED = new WeakSet<BulwarkError>();

function catalogDamaged(path: string, cause: unknown): BulwarkError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const err = new BulwarkError('IO', `the catalog ${path} is damaged (${detail})`, { cause });
  DAMAGED.add(err);
  return err;
}

/**
 * Whether `e` says the catalog file is damaged (from Catalog.open, or SQLite's own error from any query,
 * also as the cause of another error): then the catalog, a cache, can be moved aside and rebuilt from the
 * repository. Decided on SQLite's error code, never on message text.
 */
export function isCatalogDamaged(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x !== null && x !== undefined && depth < 8; depth++) {
    if ((x instanceof BulwarkError && DAMAGED.has(x)) || isSqliteDamage(x)) return true;
    x = (x as { cause?: unknown }).cause;
  }
  return false;
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new BulwarkError('UNSUPPORTED', `the catalog was written by a newer Bulwark (schema ${current})`, {
      hint: 'Update Bulwark, or delete the catalog and run `bulwark repair --rebuild-catalog`.',
    });
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
