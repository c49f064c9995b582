import type { EntryType, FileVersion, FindResult, SnapshotEntry } from '../contract/model.ts';
import { ok } from '../contract/result.ts';
import {
  browseFolder,
  fileVersions,
  findFiles,
  type FileVersionInfo,
  type FolderEntry,
  type FolderListing,
  type FoundFile,
  type ListingCache,
} from '../engine/index.ts';
import { sourceKey, type BackupService } from '../engine/service/index.ts';
import type { Handlers } from '../transport/dispatch.ts';
import { sourceIdOfKey } from './adapt.ts';

/**
 * The browsing side of restore over the contract: one folder of a snapshot a page at a time
 * (`restore.browse`), files by name across every snapshot of every source (`restore.find`) and the versions
 * of one file (`restore.versions`), over the service's sources and the repositories of their targets. find
 * and versions answer from the catalog's file-history index (engine/history); browse reads the snapshot's
 * folder listings and keeps the last few here, so paging a folder of 100 000 entries parses it once.
 */

export const RESTORE_BROWSE_CHANNELS = [
  'bulwark:restore.browse',
  'bulwark:restore.find',
  'bulwark:restore.versions',
] as const;
export type RestoreBrowseHandlers = Pick<Handlers, (typeof RESTORE_BROWSE_CHANNELS)[number]>;

/** find answers this many files unless asked for fewer (the contract allows up to 500). */
const DEFAULT_FIND_LIMIT = 100;

/**
 * The last few folder listings browsed, least recently used out first: at most `entries` of them and about
 * `chars` characters of listing text together (a folder of 100 000 files is ~25 million).
 */
export class ListingLru implements ListingCache {
  private readonly map = new Map<string, FolderListing>();
  private readonly maxEntries: number;
  private readonly maxChars: number;
  private chars = 0;

  constructor(maxEntries = 8, maxChars = 128_000_000) {
    this.maxEntries = maxEntries;
    this.maxChars = maxChars;
  }

  get(key: string): FolderListing | undefined {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }

  set(key: string, listing: FolderListing): void {
    const old = this.map.get(key);
    if (old) this.chars -= old.bytes;
    this.map.delete(key);
    this.map.set(key, listing);
    this.chars += listing.bytes;
    for (const [k, v] of this.map) {
      if (this.map.size <= this.maxEntries && this.chars <= this.maxChars) break;
      if (k === key) continue; // the one just read stays, however big
      this.map.delete(k);
      this.chars -= v.bytes;
    }
  }

  get size(): number {
    return this.map.size;
  }
}

function entryType(t: FolderEntry['type']): EntryType {
  switch (t) {
    case 'file':
    case 'dir':
    case 'symlink':
      return t;
    case 'fifo':
    case 'socket':
    case 'chardev':
    case 'blockdev':
      return 'other';
  }
}

export function snapshotEntry(e: FolderEntry): SnapshotEntry {
  return {
    name: e.name,
    path: e.path,
    type: entryType(e.type),
    ...(e.size !== undefined ? { size: e.size } : {}),
    ...(e.mtime !== undefined ? { mtime: e.mtime } : {}),
    originalPath: e.originalPath,
  };
}

export function fileVersion(v: FileVersionInfo): FileVersion {
  return {
    snapshotId: v.snapshotId,
    firstSnapshotId: v.firstSnapshotId,
    firstSeen: v.firstSeen,
    ...(v.lastSeen !== undefined ? { lastSeen: v.lastSeen } : {}),
    ...(v.endedBy !== undefined ? { endedBy: v.endedBy } : {}),
    path: v.path,
    originalPath: v.originalPath,
    size: v.size,
    mtime: v.mtime,
  };
}

function findResult(f: FoundFile, sourceName: (sourceId: string) => string): FindResult | undefined {
  const sourceId = sourceIdOfKey(f.source);
  if (sourceId === undefined) return undefined;
  return {
    sourceId,
    sourceName: sourceName(sourceId),
    path: f.path,
    originalPath: f.originalPath,
    name: f.name,
    versions: f.versions.map(fileVersion),
    deleted: f.deleted,
  };
}

export interface RestoreBrowseOptions {
  /** where browsed folder listings are kept between pages (default: a ListingLru) */
  cache?: ListingCache;
}

export function createRestoreBrowseHandlers(
  service: BackupService,
  opts: RestoreBrowseOptions = {},
): RestoreBrowseHandlers {
  const cache = opts.cache ?? new ListingLru();
  const sourceName = (id: string): string => service.config.findSource(id)?.name ?? id;

  return {
    'bulwark:restore.browse': async ({ sourceId, snapshotId, path, offset, limit }) => {
      const { repo, snapshot } = await service.sourceSnapshot(sourceId, snapshotId);
      const page = await browseFolder(repo, snapshot.id, path, {
        cache,
        ...(offset !== undefined ? { offset } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      return ok({
        path: page.path,
        total: page.total,
        offset: page.offset,
        entries: page.entries.map(snapshotEntry),
        ...(page.damaged !== undefined ? { damaged: page.damaged } : {}),
      });
    },

    // Across every source (or one): each target's repository is asked for its sources, the answers are
    // merged by path. A target that cannot be opened fails the call (an incomplete answer would look
    // like "not backed up").
    'bulwark:restore.find': async ({ query, sourceId, limit }) => {
      const max = limit ?? DEFAULT_FIND_LIMIT;
      const sources = sourceId !== undefined ? [service.config.source(sourceId)] : service.config.sources();
      const byTarget = new Map<string, string[]>();
      for (const s of sources) byTarget.set(s.targetId, [...(byTarget.get(s.targetId) ?? []), s.id]);
      const results: FindResult[] = [];
      let truncated = false;
      for (const ids of byTarget.values()) {
        const repo = await service.repositoryFor(ids[0]!);
        const found = await findFiles(repo, query, { sources: ids.map(sourceKey), limit: max });
        truncated ||= found.truncated;
        for (const f of found.files) {
          const r = findResult(f, sourceName);
          if (r) results.push(r);
        }
      }
      const key = (r: FindResult): string => r.path.toLowerCase();
      results.sort(
        (a, b) =>
          (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) ||
          (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
          (a.sourceName < b.sourceName ? -1 : a.sourceName > b.sourceName ? 1 : 0),
      );
      if (results.length > max) truncated = true;
      return ok({ results: results.slice(0, max), truncated });
    },

    'bulwark:restore.versions': async ({ sourceId, path }) => {
      const repo = await service.repositoryFor(sourceId);
      const versions = await fileVersions(repo, path, { sources: [sourceKey(sourceId)] });
      return ok({ versions: versions.reverse().map(fileVersion) });
    },
  };
}
