/**
 * find and versions over the file-history index (engine/history). Both bring the index up to date first
 * (syncHistory: a catalog from before the index builds it then), then answer from the catalog alone.
 */
import { isAbsolute } from 'node:path';
import type { Repository } from '../repo/repository.ts';
import { originalPath, rootNames, snapshotPathOf } from './roots.ts';
import { parsePattern } from './search-text.ts';
import { HistoryStore, pathOf, type IndexedSnapshot, type VersionRow } from './store.ts';
import { syncHistory, type HistorySyncOptions } from './sync.ts';

/** One distinct version (content) of a file of one source. */
export interface FileVersionInfo {
  source: string;
  /** relative to the snapshot root: what `restore SNAPSHOT:PATH` and `ls SNAPSHOT PATH` take */
  path: string;
  /** where it was on disk (in `snapshotId`) */
  originalPath: string;
  /** the newest snapshot holding this version: restore it from there */
  snapshotId: string;
  /** that snapshot's time */
  time: string;
  /** the snapshot it first appeared in, and its time */
  firstSnapshotId: string;
  firstSeen: string;
  /** set once the version is no longer current: the time of the last snapshot that had it */
  lastSeen?: string;
  /** what came after: other content (`changed`) or no file at that path (`deleted`) */
  endedBy?: 'changed' | 'deleted';
  size: number;
  /** the file's modification time when the version first appeared */
  mtime: string;
  /** hash of the file's blob list (hex): equal contents, equal ids */
  contentId: string;
}

/** A file (one path of one source) that find matched, with its versions. */
export interface FoundFile {
  source: string;
  path: string;
  originalPath: string;
  name: string;
  /** absent from the source's newest snapshot */
  deleted: boolean;
  /** newest first */
  versions: FileVersionInfo[];
}

export interface HistoryQueryOptions extends Pick<HistorySyncOptions, 'signal' | 'onBuild'> {
  /** only these sources (snapshot `source` keys); default all */
  sources?: readonly string[];
}

export interface FindOptions extends HistoryQueryOptions {
  /** at most this many files (default 1000) */
  limit?: number;
}

const DEFAULT_LIMIT = 1000;

/** Reads versions for one query: each source's snapshots are loaded once. */
class VersionReader {
  private readonly store: HistoryStore;
  private readonly snaps = new Map<number, IndexedSnapshot[]>();
  private readonly roots = new Map<string, Map<string, string>>();
  readonly sourceOf: Map<number, string>;

  constructor(store: HistoryStore, sources: readonly string[] | undefined) {
    this.store = store;
    const wanted = sources && new Set(sources);
    this.sourceOf = new Map(
      store
        .sources()
        .filter((s) => !wanted || wanted.has(s.source))
        .map((s) => [s.sid, s.source]),
    );
  }

  snapshotsOf(sid: number): IndexedSnapshot[] {
    let list = this.snaps.get(sid);
    if (!list) {
      list = this.store.snapshots(sid);
      this.snaps.set(sid, list);
    }
    return list;
  }

  /** The snapshot with the greatest seq below `seq` (undefined: none), or the last one for null. */
  private holderBefore(list: IndexedSnapshot[], seq: number | null): IndexedSnapshot | undefined {
    if (seq === null) return list.at(-1);
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return list[lo - 1];
  }

  private bySeq(list: IndexedSnapshot[], seq: number): IndexedSnapshot | undefined {
    const s = this.holderBefore(list, seq + 1);
    return s?.seq === seq ? s : undefined;
  }

  originalPath(snap: IndexedSnapshot, path: string): string {
    let roots = this.roots.get(snap.id);
    if (!roots) {
      roots = rootNames(snap.paths);
      this.roots.set(snap.id, roots);
    }
    return originalPath(roots, path);
  }

  /** The versions of `path` (its rows), grouped by source, each group oldest first. */
  versions(path: string, rows: readonly VersionRow[]): Map<number, FileVersionInfo[]> {
    const out = new Map<number, FileVersionInfo[]>();
    for (const r of rows) {
      const source = this.sourceOf.get(r.sid);
      if (source === undefined) continue;
      const list = this.snapshotsOf(r.sid);
      const first = this.bySeq(list, r.first);
      const holder = this.holderBefore(list, r.ended);
      if (!first || !holder) continue; // cannot happen while the index is consistent; never shown wrong
      const next = rows.some((x) => x.sid === r.sid && x.first === r.ended);
      const v: FileVersionInfo = {
        source,
        path,
        originalPath: this.originalPath(holder, path),
        snapshotId: holder.id,
        time: holder.time,
        firstSnapshotId: first.id,
        firstSeen: first.time,
        ...(r.ended !== null
          ? { lastSeen: holder.time, endedBy: next ? ('changed' as const) : ('deleted' as const) }
          : {}),
        size: r.size,
        mtime: new Date(r.mtime).toISOString(),
        contentId: r.content.toString('hex'),
      };
      const group = out.get(r.sid) ?? [];
      group.push(v);
      out.set(r.sid, group);
    }
    return out;
  }
}

/**
 * Files whose path matches `pattern` across every snapshot (module comment of search-text.ts: a substring,
 * case-insensitive; a glob when it has * ? or [). One result per file and source, in path order, each with
 * its versions newest first; `truncated` when more than `limit` matched.
 */
export async function findFiles(
  repo: Repository,
  pattern: string,
  opts: FindOptions = {},
): Promise<{ files: FoundFile[]; truncated: boolean }> {
  await syncHistory(repo, syncOptions(opts));
  const limit = opts.limit ?? DEFAULT_LIMIT;
  const store = new HistoryStore(repo.catalog, repo.rid);
  const reader = new VersionReader(store, opts.sources);
  const p = parsePattern(pattern);
  const files: FoundFile[] = [];
  let truncated = false;
  for (const m of store.matchingPaths(p.sqlGlob)) {
    if (p.test && !p.test(m.text)) continue;
    const path = pathOf(m.path);
    const groups = reader.versions(path, store.versionsOf(m.pid));
    const bySource = [...groups.values()].sort((a, b) => cmp(a[0]?.source, b[0]?.source));
    for (const versions of bySource) {
      if (files.length === limit) {
        truncated = true;
        break;
      }
      versions.reverse();
      const newest = versions[0]!;
      files.push({
        source: newest.source,
        path,
        originalPath: newest.originalPath,
        name: path.slice(path.lastIndexOf('/') + 1),
        deleted: newest.lastSeen !== undefined,
        versions,
      });
    }
    if (truncated) break;
  }
  return { files, truncated };
}

/**
 * Every distinct version of one file, oldest first (across sources when several have that path). `path`
 * is relative to the snapshot root (as `restore SNAPSHOT:PATH` takes it), or where the file was on disk
 * (an absolute path under a backed-up folder). A name that is not UTF-8 may be typed as the CLI shows it
 * (`caf\xe9.txt`). Nothing found: an empty list (folders have no versions).
 */
export async function fileVersions(
  repo: Repository,
  path: string,
  opts: HistoryQueryOptions = {},
): Promise<FileVersionInfo[]> {
  await syncHistory(repo, syncOptions(opts));
  const store = new HistoryStore(repo.catalog, repo.rid);
  const reader = new VersionReader(store, opts.sources);
  const out: FileVersionInfo[] = [];
  for (const [sid] of reader.sourceOf) {
    const rel = candidatePaths(path, reader.snapshotsOf(sid).at(-1)?.paths ?? []);
    for (const candidate of rel) {
      const pid = store.pathId(candidate);
      if (pid === undefined) continue;
      const rows = store.versionsOf(pid).filter((r) => r.sid === sid);
      if (rows.length === 0) continue;
      out.push(...(reader.versions(candidate, rows).get(sid) ?? []));
      break;
    }
  }
  return out.sort((a, b) => cmp(a.firstSeen, b.firstSeen) || cmp(a.source, b.source));
}

function syncOptions(opts: HistoryQueryOptions): HistorySyncOptions {
  return {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onBuild ? { onBuild: opts.onBuild } : {}),
  };
}

const cmp = (a: string | undefined, b: string | undefined): number =>
  (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;

/**
 * The snapshot paths `typed` may mean, most likely first: an on-disk path under one of `paths` (the source's
 * newest backed-up folders), else the relative path itself without "./" and extra slashes, and that path
 * with `\xNN` read as the escaped byte of a name that is not UTF-8 (what the CLI prints for it).
 */
function candidatePaths(typed: string, paths: readonly string[]): string[] {
  const out: string[] = [];
  if (isAbsolute(typed) || /^[A-Za-z]:[\\/]/.test(typed)) {
    const rel = snapshotPathOf(rootNames(paths), typed);
    if (rel !== undefined) out.push(rel);
  }
  const rel = typed
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
  if (rel !== '') out.push(rel);
  if (rel.includes('\\x'))
    out.push(
      rel.replace(/\\x([89a-f][0-9a-f])/gi, (_, h: string) => String.fromCharCode(0xdc00 + parseInt(h, 16))),
    );
  return out;
}
