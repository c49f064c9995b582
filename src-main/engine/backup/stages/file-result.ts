/** A reader's result applied to the snapshot: the file's node gets its content, or leaves the tree. */
import { join } from 'node:path';
import type { TreeNode } from '../../repo/format.ts';
import type { FileResult } from '../protocol.ts';
import type { RunTally } from './run-tally.ts';
import type { DirState } from './tree-builder.ts';

/** A file sent to the readers: where its node is, and whether the parent snapshot had it. */
export interface FileRead {
  dir: DirState;
  node: TreeNode;
  isNew: boolean;
}

export function applyFileResult(item: FileRead, res: FileResult, tally: RunTally): void {
  const { dir, node } = item;
  if (res.error !== undefined || !res.content) {
    tally.error(join(dir.path, node.name), res.error ?? 'unreadable');
    dir.nodes.splice(dir.nodes.indexOf(node), 1);
    tally.fileUnreadable(node.name);
    return;
  }
  node.content = res.content;
  node.size = res.size;
  node.mtimeNs = res.mtimeNs;
  if (res.changedDuringRead) {
    node.changedDuringRead = true;
    tally.error(join(dir.path, node.name), 'file changed while it was read; stored as read, flagged');
  }
  tally.fileRead(node.name, res, item.isNew);
}
