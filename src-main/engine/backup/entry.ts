import type { BigIntStats } from 'node:fs';
import type { NodeType } from '../repo/format.ts';
import type { ScannedEntry } from './protocol.ts';

export function nodeType(st: BigIntStats): NodeType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'chardev';
  return 'blockdev';
}

/** What the scanner records of one directory entry (from lstat with bigint times). */
export function scannedEntry(name: string, st: BigIntStats): ScannedEntry {
  const type = nodeType(st);
  return {
    name,
    type,
    mode: Number(st.mode & 0o7777n),
    mtimeNs: st.mtimeNs.toString(),
    ctimeNs: st.ctimeNs.toString(),
    dev: st.dev.toString(),
    inode: st.ino.toString(),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === 'file' ? Number(st.size) : 0,
  };
}
