import { BulwarkError } from '../errors.ts';
import { originalPath, rootNames } from '../history/roots.ts';
import type { NodeType, Tree, TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import {
  DAMAGED_FOLDER,
  damagedFolderText,
  isDamage,
  loadTreeOrDamage,
  noteUnreadableBlob,
} from './damage.ts';
import type { LsEntry } from './types.ts';
import { findChild, nsToDate } from './walk.ts';

const VERIFY_HINT = 'Run `bulwark verify` to see what else is damaged; a new backup stores the folder again.';

/**
 * Lists a snapshot (or the part under `path`) recursively. A folder whose listing (tree blob) is damaged is
 * listed with `damaged` set and without contents; everything else is listed. Only a damaged folder on the
 * way to `path` (or the snapshot's top folder) leaves nothing to list: REPO_DAMAGED names that folder.
 */
export async function listSnapshot(repo: Repository, ref: string, path = ''): Promise<LsEntry[]> {
  const snap = repo.resolveSnapshot(ref);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const prefix = parts.join('/');
  const out: LsEntry[] = [];
  const entry = (
    p: string,
    n: { type: LsEntry['type']; size?: number; mode?: number; mtimeNs?: string; target?: string },
  ): LsEntry => ({
    path: p,
    type: n.type,
    size: n.size ?? 0,
    mode: n.mode ?? 0,
    mtime: n.mtimeNs ? nsToDate(n.mtimeNs).toISOString() : '',
    ...(n.target !== undefined ? { target: n.target } : {}),
  });
  const unreadable = (folder: string, e: Error): BulwarkError =>
    new BulwarkError(
      'REPO_DAMAGED',
      `${folder || 'the top folder of the snapshot'}: ${DAMAGED_FOLDER}; nothing below it can be listed (${e.message})`,
      { hint: VERIFY_HINT, cause: e },
    );

  // Find the start, naming the folder whose listing is damaged if one on the way is.
  let node: TreeNode | undefined;
  let treeId = snap.tree;
  for (const [i, part] of parts.entries()) {
    const { tree, damage } = await loadTreeOrDamage(repo, treeId);
    if (damage) throw unreadable(parts.slice(0, i).join('/'), damage);
    node = findChild(tree.nodes, part);
    if (!node)
      throw new BulwarkError('NOT_FOUND', `${path}: not in this snapshot`, {
        hint: 'List the snapshot with `bulwark ls`.',
      });
    if (i < parts.length - 1) {
      if (node.type !== 'dir' || !node.subtree)
        throw new BulwarkError('NOT_FOUND', `${path}: ${parts.slice(0, i + 1).join('/')} is not a folder`);
      treeId = node.subtree;
    }
  }
  if (node && node.type !== 'dir') {
    out.push(entry(prefix, node));
    return out;
  }

  const visit = async (id: string, at: string, self: LsEntry | undefined): Promise<void> => {
    const { tree, damage } = await loadTreeOrDamage(repo, id);
    if (damage) {
      if (!self) throw unreadable(at, damage);
      self.damaged = `${DAMAGED_FOLDER}; its contents are not listed (${damage.message})`;
      return;
    }
    for (const n of tree.nodes) {
      const p = at ? `${at}/${n.name}` : n.name;
      const e = entry(p, n);
      out.push(e);
      if (n.type === 'dir' && n.subtree) await visit(n.subtree, p, e);
    }
  };
  const self = node ? entry(prefix, node) : undefined;
  if (self) out.push(self);
  const start = node ? node.subtree : snap.tree;
  if (start) await visit(start, prefix, self);
  return out;
}

// ---- browsing one folder, a page at a time ---------------------------------------------------------------

/** One entry of a snapshot folder, as browsing shows it. */
export interface FolderEntry {
  name: string;
  /** relative to the snapshot root: what `restore SNAPSHOT:PATH` and `ls SNAPSHOT PATH` take */
  path: string;
  type: NodeType;
  /** files only */
  size?: number;
  mtime?: string;
  /** where it was on disk when it was backed up */
  originalPath: string;
  target?: string;
}

export interface FolderPage {
  snapshotId: string;
  /** the folder, as its names are in the snapshot ('' for the top) */
  path: string;
  /** entries in the folder */
  total: number;
  offset: number;
  /** folders first, then by name: natural order (2 before 10), case-insensitive */
  entries: FolderEntry[];
  /** the folder's listing (or one on the way to it) cannot be read: why, in plain words */
  damaged?: string;
}

/**
 * A folder listing kept between pages (by `ListingCache`): parsing and sorting a folder of 100 000 entries
 * is most of the cost of a page, the rest is a slice.
 */
export interface FolderListing {
  readonly count: number;
  /** about how much memory it holds (the listing's text) */
  readonly bytes: number;
}

/** Where browseFolder keeps listings between calls (the host: the last few, by key). */
export interface ListingCache {
  get(key: string): FolderListing | undefined;
  set(key: string, listing: FolderListing): void;
}

export interface BrowseOptions {
  offset?: number;
  /** entries per page (default 200) */
  limit?: number;
  cache?: ListingCache;
  signal?: AbortSignal;
}

const DEFAULT_PAGE = 200;
const NODE_START = '{"name":"';
const TYPE_KEY = ',"type":"';
/** below this size a listing is simply parsed whole */
const SCAN_ABOVE = 256 * 1024;

/**
 * The key browsing sorts by: lower case, and each run of digits as its length then its digits (leading
 * zeros dropped), so "file2" sorts before "file10" with a plain string comparison. Intl.Collator with
 * `numeric` gives the same order but took a second for 100 000 names here; this takes ~70 ms.
 */
export function naturalKey(name: string): string {
  const l = name.toLowerCase();
  let out = '';
  let from = 0;
  const n = l.length;
  for (let i = 0; i < n; i++) {
    const c = l.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    let j = i;
    while (j < n && l.charCodeAt(j) === 48) j++;
    let k = j;
    while (k < n && l.charCodeAt(k) >= 48 && l.charCodeAt(k) <= 57) k++;
    if (j === k) j--; // only zeros: keep one
    out += `${l.slice(from, i)}0${String.fromCharCode(48 + k - j)}${l.slice(j, k)}`;
    from = k;
    i = k - 1;
  }
  return from === 0 ? l : out + l.slice(from);
}

/**
 * The order of naturalKey without making the keys: two lower-cased names compared as their keys would
 * be. The first page of a large folder needs only its first entries, found with this in one pass (no
 * key strings, no full sort).
 */
export function naturalCompare(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(j);
    const dx = x >= 48 && x <= 57;
    const dy = y >= 48 && y <= 57;
    if (dx && dy) {
      // each run as its key has it: length without leading zeros (at least one digit), then the digits
      let si = i;
      while (si < n && a.charCodeAt(si) === 48) si++;
      let ei = si;
      while (ei < n && a.charCodeAt(ei) >= 48 && a.charCodeAt(ei) <= 57) ei++;
      if (si === ei) si--;
      let sj = j;
      while (sj < m && b.charCodeAt(sj) === 48) sj++;
      let ej = sj;
      while (ej < m && b.charCodeAt(ej) >= 48 && b.charCodeAt(ej) <= 57) ej++;
      if (sj === ej) sj--;
      if (ei - si !== ej - sj) return ei - si - (ej - sj);
      for (let k = 0; k < ei - si; k++) {
        const d = a.charCodeAt(si + k) - b.charCodeAt(sj + k);
        if (d !== 0) return d;
      }
      i = ei;
      j = ej;
      continue;
    }
    // a run starts with the key's marker '0' (48): below letters, above ' ', '-', '.'
    const kx = dx ? 48 : x;
    const ky = dy ? 48 : y;
    if (kx !== ky) return kx - ky;
    i++;
    j++;
  }
  return i < n ? 1 : j < m ? -1 : 0;
}

/** Pages within the first this many entries are found without sorting the whole folder. */
const TOP_MAX = 2000;
/** ...and at least this many are found at once, for the next pages. */
const TOP_MIN = 1000;

/**
 * A tree's listing, read without parsing all of it. Trees are encoded with a fixed key order (encodeTree:
 * "name" first, then "type"), and inside a JSON string every quote is escaped, so `{"name":"` starts a
 * node and nothing else: names and types are cut out of the text with indexOf, and only the nodes of the
 * page asked for are parsed (JSON.parse of a 25 MB listing alone took ~300 ms). Anything unexpected falls
 * back to parsing the whole text.
 */
class TreeListing implements FolderListing {
  readonly count: number;
  readonly bytes: number;
  private readonly text: string;
  private names: string[] = [];
  private dirs: boolean[] = [];
  private starts: number[] = [];
  private nodes: TreeNode[] | undefined;
  private order: Uint32Array | undefined;
  private top: Uint32Array | undefined;
  private lower: string[] | undefined;

  constructor(text: string) {
    this.text = text;
    this.bytes = text.length;
    if (text.length < SCAN_ABOVE || !this.scan()) this.parseAll();
    this.count = this.names.length;
  }

  private scan(): boolean {
    const t = this.text;
    if (!t.startsWith('{"nodes":[') || !t.endsWith(']}')) return false;
    for (let pos = t.indexOf(NODE_START); pos >= 0; pos = t.indexOf(NODE_START, pos + 1)) {
      const s = pos + NODE_START.length;
      let e = t.indexOf('"', s);
      for (;;) {
        if (e < 0) return false;
        let k = e - 1;
        while (t.charCodeAt(k) === 92) k--;
        if ((e - 1 - k) % 2 === 0) break; // an even number of backslashes: this quote ends the name
        e = t.indexOf('"', e + 1);
      }
      const raw = t.slice(s, e);
      let name: unknown = raw;
      if (raw.includes('\\')) {
        try {
          name = JSON.parse(t.slice(s - 1, e + 1));
        } catch {
          return false;
        }
      }
      if (!t.startsWith(TYPE_KEY, e + 1)) return false;
      const ts = e + 1 + TYPE_KEY.length;
      const te = t.indexOf('"', ts);
      if (te < 0 || typeof name !== 'string') return false;
      this.names.push(name);
      this.dirs.push(te === ts + 3 && t.startsWith('dir', ts));
      this.starts.push(pos);
      pos = te;
    }
    return true;
  }

  private parseAll(): void {
    let tree: Tree;
    try {
      tree = JSON.parse(this.text) as Tree;
    } catch (e) {
      throw new BulwarkError('CORRUPT', `a folder listing is not valid JSON: ${(e as Error).message}`, {
        cause: e,
      });
    }
    this.nodes = tree.nodes;
    this.names = tree.nodes.map((n) => n.name);
    this.dirs = tree.nodes.map((n) => n.type === 'dir');
    this.starts = [];
  }

  /** Node `i` in tree order. */
  node(i: number): TreeNode {
    if (this.nodes) return this.nodes[i]!;
    const end = i + 1 < this.starts.length ? this.starts[i + 1]! - 1 : this.text.length - 2;
    try {
      const n = JSON.parse(this.text.slice(this.starts[i], end)) as TreeNode;
      if (n.name === this.names[i]) return n;
    } catch {
      // the cut did not give a node: parse the whole listing instead (below)
    }
    this.parseAll(); // same nodes in the same order: the browsing order stays valid
    return this.nodes![i]!;
  }

  /** The node named `part` as a user typed it (walk.ts findChild: `\xNN` for a byte that is not UTF-8). */
  find(part: string): TreeNode | undefined {
    const exact = this.names.indexOf(part);
    if (exact >= 0) return this.node(exact);
    if (!part.includes('\\x')) return undefined;
    const hit = findChild(
      this.names.map((name, i) => ({ name, i })),
      part,
    );
    return hit && this.node(hit.i);
  }

  /** Browsing order of entries i and j (tree order): folders first, natural order, then exact name. */
  private compare(i: number, j: number): number {
    const di = this.dirs[i]!;
    if (di !== this.dirs[j]) return di ? -1 : 1;
    const lower = (this.lower ??= this.names.map((n) => n.toLowerCase()));
    const c = naturalCompare(lower[i]!, lower[j]!);
    if (c !== 0) return c;
    const p = this.names[i]!;
    const q = this.names[j]!;
    return p < q ? -1 : p > q ? 1 : 0;
  }

  /**
   * The entries (tree-order indexes) at browsing ranks [from, to). Within the first TOP_MAX entries, the
   * first ones are picked with a bounded heap (one comparison for most entries) and kept; beyond, the
   * whole folder is sorted once by natural keys (kept too).
   */
  ranked(from: number, to: number): number[] {
    const end = Math.min(to, this.count);
    if (!this.order && end <= TOP_MAX) {
      if (!this.top || this.top.length < end)
        this.top = this.first(Math.min(this.count, Math.max(end, TOP_MIN)));
      return Array.from(this.top.subarray(from, end));
    }
    if (!this.order) {
      const keys = this.names.map((n, i) => (this.dirs[i] ? '0' : '1') + naturalKey(n));
      const idx = Array.from(keys.keys());
      const names = this.names;
      idx.sort((a, b) => {
        const x = keys[a]!;
        const y = keys[b]!;
        if (x !== y) return x < y ? -1 : 1;
        const p = names[a]!;
        const q = names[b]!;
        return p < q ? -1 : p > q ? 1 : 0;
      });
      this.order = Uint32Array.from(idx);
    }
    return Array.from(this.order.subarray(from, end));
  }

  /** The first k entries in browsing order: a max-heap of k, then sorted. */
  private first(k: number): Uint32Array {
    const heap: number[] = [];
    const above = (a: number, b: number): boolean => this.compare(heap[a]!, heap[b]!) > 0;
    const swap = (a: number, b: number): void => {
      const t = heap[a]!;
      heap[a] = heap[b]!;
      heap[b] = t;
    };
    const down = (at: number): void => {
      for (;;) {
        const l = 2 * at + 1;
        const r = l + 1;
        let top = at;
        if (l < heap.length && above(l, top)) top = l;
        if (r < heap.length && above(r, top)) top = r;
        if (top === at) return;
        swap(at, top);
        at = top;
      }
    };
    for (let i = 0; i < this.count; i++) {
      if (heap.length < k) {
        heap.push(i);
        for (let at = heap.length - 1; at > 0;) {
          const up = (at - 1) >> 1;
          if (!above(at, up)) break;
          swap(at, up);
          at = up;
        }
      } else if (k > 0 && this.compare(i, heap[0]!) < 0) {
        heap[0] = i;
        down(0);
      }
    }
    return Uint32Array.from(heap.sort((a, b) => this.compare(a, b)));
  }
}

/** A tree's text from the catalog (or the repository: then cached), or the damage that keeps it unread. */
async function treeListing(
  repo: Repository,
  id: string,
  cache: ListingCache | undefined,
  signal: AbortSignal | undefined,
): Promise<{ listing: TreeListing; damage?: undefined } | { listing?: undefined; damage: BulwarkError }> {
  const key = `${repo.config.id}/${id}`;
  const cached = cache?.get(key);
  if (cached instanceof TreeListing) return { listing: cached };
  try {
    let data = repo.catalog.getTree(repo.rid, id);
    if (!data) {
      data = await repo.readBlob(id, signal);
      repo.catalog.putTree(repo.rid, id, data);
    }
    const listing = new TreeListing(data.toString('utf8'));
    cache?.set(key, listing);
    return { listing };
  } catch (e) {
    if (!isDamage(e)) throw e;
    noteUnreadableBlob(repo, id, e);
    return { damage: e };
  }
}

/**
 * One page of one folder of a snapshot (folders first, then by name in natural, case-insensitive order).
 * A folder whose listing cannot be read, or one on the way to it, answers with `damaged` and no entries
 * instead of failing. `path` is relative to the snapshot root ('' for the top); a name that is not UTF-8
 * may be typed as the CLI shows it.
 */
export async function browseFolder(
  repo: Repository,
  ref: string,
  path: string,
  opts: BrowseOptions = {},
): Promise<FolderPage> {
  const snap = repo.resolveSnapshot(ref);
  const roots = rootNames(snap.paths);
  const offset = opts.offset ?? 0;
  const limit = opts.limit ?? DEFAULT_PAGE;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const names: string[] = [];
  const page = (at: string, rest: Partial<FolderPage>): FolderPage => ({
    snapshotId: snap.id,
    path: at,
    total: 0,
    offset,
    entries: [],
    ...rest,
  });
  let treeId = snap.tree;
  for (const [i, part] of parts.entries()) {
    const here = names.join('/');
    const r = await treeListing(repo, treeId, opts.cache, opts.signal);
    if (r.damage) return page(parts.join('/'), { damaged: damagedFolderText(here, r.damage) });
    const node = r.listing.find(part);
    if (!node)
      throw new BulwarkError('NOT_FOUND', `${path}: not in this snapshot`, {
        hint: 'List the snapshot with `bulwark ls`.',
      });
    names.push(node.name);
    if (node.type !== 'dir' || !node.subtree)
      throw new BulwarkError('NOT_FOUND', `${path}: ${parts.slice(0, i + 1).join('/')} is not a folder`);
    treeId = node.subtree;
  }
  const at = names.join('/');
  const r = await treeListing(repo, treeId, opts.cache, opts.signal);
  if (r.damage) return page(at, { damaged: damagedFolderText(at, r.damage) });
  const listing = r.listing;
  const entries: FolderEntry[] = [];
  for (const i of listing.ranked(offset, offset + limit)) {
    const n = listing.node(i);
    const p = at ? `${at}/${n.name}` : n.name;
    entries.push({
      name: n.name,
      path: p,
      type: n.type,
      ...(n.type === 'file' ? { size: n.size ?? 0 } : {}),
      ...(n.mtimeNs ? { mtime: nsToDate(n.mtimeNs).toISOString() } : {}),
      originalPath: originalPath(roots, p),
      ...(n.target !== undefined ? { target: n.target } : {}),
    });
  }
  return page(at, { total: listing.count, entries });
}
