import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { contentId } from '../../../src-main/engine/history/store.ts';
import { nsToDate, walkTree } from '../../../src-main/engine/ops/walk.ts';
import { initRepository, Repository } from '../../../src-main/engine/repo/repository.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';
import { decodeFsName, fsPath } from '../../../src-main/engine/util/fs-names.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';

/** One version row, as the index holds it and as a brute-force walk of every snapshot computes it. */
export interface Row {
  source: string;
  path: string;
  first: string;
  /** the snapshot where it ended (null: current) */
  ended: string | null;
  content: string;
  size: number;
  mtime: number;
}

const order = (a: Row, b: Row): number =>
  a.source < b.source
    ? -1
    : a.source > b.source
      ? 1
      : a.path < b.path
        ? -1
        : a.path > b.path
          ? 1
          : a.first < b.first
            ? -1
            : a.first > b.first
              ? 1
              : 0;

/** The index's rows for the repository, straight from the catalog tables. */
export function dumpIndex(repo: Repository): Row[] {
  const rows = repo.catalog.db
    .prepare<
      [number],
      {
        source: string;
        path: Buffer;
        first: string;
        ended: string | null;
        content: Buffer;
        size: number;
        mtime: number;
      }
    >(
      `SELECT s.source, p.path, f.id AS first, e.id AS ended, v.content, v.size, v.mtime
       FROM history_versions v
       JOIN history_sources s ON s.sid = v.sid
       JOIN history_paths p ON p.pid = v.pid
       JOIN history_snapshots f ON f.sid = v.sid AND f.seq = v.first
       LEFT JOIN history_snapshots e ON e.sid = v.sid AND e.seq = v.ended
       WHERE s.rid = ?`,
    )
    .all(repo.rid);
  return rows
    .map((r) => ({
      source: r.source,
      path: decodeFsName(r.path), // bytes → the name with escapes, as the engine reads it
      first: r.first,
      ended: r.ended,
      content: r.content.toString('hex'),
      size: r.size,
      mtime: r.mtime,
    }))
    .sort(order);
}

/**
 * The rows a brute-force walk of every snapshot the catalog lists gives: per source, in time order, each
 * file path's runs of equal content over consecutive snapshots.
 */
export async function bruteForce(repo: Repository): Promise<Row[]> {
  const bySource = new Map<string, { id: string; tree: string }[]>();
  for (const s of repo.catalog.snapshots(repo.rid)) {
    const list = bySource.get(s.source) ?? [];
    list.push({ id: s.id, tree: s.tree });
    bySource.set(s.source, list);
  }
  const out: Row[] = [];
  for (const [source, snaps] of bySource) {
    const open = new Map<string, Row>();
    for (const s of snaps) {
      const now = new Map<string, { content: string; size: number; mtime: number }>();
      for await (const { path, node } of walkTree(repo, s.tree)) {
        if (node.type !== 'file') continue;
        now.set(path, {
          content: contentId(node).toString('hex'),
          size: node.size ?? 0,
          mtime: nsToDate(node.mtimeNs).getTime(),
        });
      }
      for (const [path, row] of open) {
        if (now.get(path)?.content === row.content) continue;
        row.ended = s.id;
        out.push(row);
        open.delete(path);
      }
      for (const [path, f] of now) {
        if (open.has(path)) continue;
        open.set(path, { source, path, first: s.id, ended: null, ...f });
      }
    }
    out.push(...open.values());
  }
  return out.sort(order);
}

export interface Env {
  dir: string;
  clock: FakeClock;
  store: FsStore;
  repo: Repository;
  catalogPath: string;
  /** writes files (relative to the env's folder; a Buffer name for bytes that are not UTF-8) */
  write(files: Record<string, string | Buffer>): void;
  reopen(): Promise<Repository>;
  cleanup(): void;
}

/** A folder repository in a temp folder with a fake clock (a day between backups, when advanced). */
export async function makeEnv(tag: string): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), `bulwark-${tag}-`));
  const clock = new FakeClock(Date.UTC(2025, 0, 6, 9));
  const store = new FsStore({ root: join(dir, 'repo'), clock });
  await initRepository(store, PASSWORD, { kdf: TEST_KDF, clock });
  const catalogPath = join(dir, 'catalog.db');
  const env: Env = {
    dir,
    clock,
    store,
    catalogPath,
    repo: await Repository.open(store, PASSWORD, Catalog.open(catalogPath, { clock }), { clock }),
    write(files) {
      for (const [rel, data] of Object.entries(files)) {
        const full = join(dir, rel);
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(fsPath(full), data);
      }
    },
    async reopen() {
      env.repo.catalog.close();
      env.repo = await Repository.open(store, PASSWORD, Catalog.open(catalogPath, { clock }), { clock });
      return env.repo;
    },
    cleanup() {
      env.repo.catalog.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}
