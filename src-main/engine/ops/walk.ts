import { sep } from 'node:path';
import { damagedFolderText, loadTreeOrDamage, type TreeSource } from './damage.ts';
import type { Tree, TreeNode } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { BulwarkError } from '../errors.ts';

/**
 * A name from a tree is only ever used as one path segment. Refused: exactly what could climb out of the
 * restore target or end the name early: empty, ".", "..", and names holding "/" or NUL. Everything else is
 * a valid file name on Linux and macOS, so it must round-trip: a backslash ("a\\b.txt") is an ordinary
 * character there, and "..config" or "..." are names, not a way up. (Overlong names are left to the file
 * system, which refuses them with ENAMETOOLONG: reported per entry.)
 */
export function isSafeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/** A name a restore writes into a folder as is: safe (isSafeName) and without this system's separator. */
export function isPlainName(name: string): boolean {
  return isSafeName(name) && (sep === '/' || !name.includes(sep));
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])$/i;
// Control characters and the characters Windows refuses in a name (NUL and "/" never get here).
// eslint-disable-next-line no-control-regex
const WINDOWS_INVALID = /[\x00-\x1f<>:"\\|?*]/g;
const escapeChar = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * The name a (safe) snapshot name gets on Windows: each character Windows cannot hold in a name
 * (`<>:"\|?*`, control characters) becomes %XX, so does a trailing dot or space (Windows drops them), and the
 * first character of a reserved device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, also with an extension
 * or trailing spaces: "con.txt", "nul .txt"). Pure, so it is tested on every platform. "%" itself is kept: a name that collides with an
 * escaped one is caught by the duplicate check of the restore.
 */
export function windowsName(name: string): string {
  let out = name.replace(WINDOWS_INVALID, escapeChar);
  const last = out.at(-1);
  if (last === '.' || last === ' ') out = out.slice(0, -1) + escapeChar(last);
  const dot = out.indexOf('.');
  if (WINDOWS_RESERVED.test((dot < 0 ? out : out.slice(0, dot)).trimEnd()))
    out = escapeChar(out[0]!) + out.slice(1);
  return out;
}

/**
 * The name a snapshot entry is restored under on `platform`, or undefined when it must not be restored at
 * all (see isSafeName). On Linux and macOS that is the name itself; on Windows, windowsName (the restore
 * reports every entry whose name changed).
 */
export function restoreName(name: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (!isSafeName(name)) return undefined;
  return platform === 'win32' ? windowsName(name) : name;
}

/** Depth-first walk of a snapshot tree: yields every node with its '/'-joined path. */
export async function* walkTree(
  repo: Repository,
  treeId: string,
  prefix = '',
  signal?: AbortSignal,
): AsyncGenerator<{ path: string; node: TreeNode }> {
  const tree = await repo.loadTree(treeId, signal);
  for (const node of tree.nodes) {
    const path = prefix ? `${prefix}/${node.name}` : node.name;
    yield { path, node };
    if (node.type === 'dir' && node.subtree) yield* walkTree(repo, node.subtree, path, signal);
  }
}

/** Finds the node at `path` ('/'-separated) inside the tree, or throws NOT_FOUND. */
export async function findNode(
  repo: TreeSource,
  rootTree: string,
  path: string,
): Promise<TreeNode | { type: 'dir'; subtree: string; name: '' }> {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  // A damaged folder listing on the way is named by its path, not by a blob id nobody can act on.
  const load = async (id: string, folder: string): Promise<Tree> => {
    const r = await loadTreeOrDamage(repo, id);
    if (r.damage)
      throw new BulwarkError('REPO_DAMAGED', damagedFolderText(folder, r.damage), { cause: r.damage });
    return r.tree;
  };
  let tree: Tree = await load(rootTree, '');
  let node: TreeNode | undefined;
  if (parts.length === 0) return { type: 'dir', subtree: rootTree, name: '' };
  for (const [i, part] of parts.entries()) {
    node = findChild(tree.nodes, part);
    if (!node)
      throw new BulwarkError('NOT_FOUND', `${path}: not in this snapshot`, {
        hint: 'List the snapshot with `bulwark ls`.',
      });
    if (i < parts.length - 1) {
      if (node.type !== 'dir' || !node.subtree)
        throw new BulwarkError('NOT_FOUND', `${path}: ${parts.slice(0, i + 1).join('/')} is not a folder`);
      tree = await load(node.subtree, parts.slice(0, i + 1).join('/'));
    }
  }
  return node!;
}

/**
 * The entry of a folder named `part` as a user typed it. A name that is not UTF-8 is printed with its
 * bytes as \xNN (cli termSafe), so typed back that way it is found too; the exact name wins ("\xe9" may
 * also be four plain characters of a name).
 */
export function findChild<T extends { name: string }>(nodes: readonly T[], part: string): T | undefined {
  const exact = nodes.find((n) => n.name === part);
  if (exact || !part.includes('\\x')) return exact;
  const escaped = part.replace(/\\x([89a-f][0-9a-f])/gi, (_, h: string) =>
    String.fromCharCode(0xdc00 + parseInt(h, 16)),
  );
  return nodes.find((n) => n.name === escaped);
}

export function nsToDate(ns: string): Date {
  // floor, not BigInt's truncation toward zero: a time before 1970 must not move to the next millisecond
  const n = BigInt(ns);
  const ms = n / 1_000_000n - (n < 0n && n % 1_000_000n !== 0n ? 1n : 0n);
  return new Date(Number(ms));
}
