/**
 * Per-extension figures of one backup run (SnapshotStats.extensions): how many files of each extension
 * the snapshot holds, how many were read, and what compression made of their new content. The ransomware
 * entropy check (engine/signals/entropy.ts) compares them from one snapshot of a source to the next.
 */
import type { ExtensionStats } from '../repo/format.ts';

/** Extensions listed at most; the rest are summed under OTHER so a manifest stays small. */
const MAX_EXTENSIONS = 300;
export const OTHER_EXTENSIONS = '(other)';

/** The last extension of a file name, lower case, without the dot ('' when it has none). */
export function fileExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 || dot === name.length - 1 ? '' : name.slice(dot + 1).toLowerCase();
}

export class ExtensionTally {
  private readonly figures = new Map<string, ExtensionStats>();

  private entry(name: string): ExtensionStats {
    let ext = fileExtension(name);
    if (!this.figures.has(ext) && this.figures.size >= MAX_EXTENSIONS) ext = OTHER_EXTENSIONS;
    let f = this.figures.get(ext);
    if (!f) {
      f = { files: 0, read: 0, freshRaw: 0, freshStored: 0 };
      this.figures.set(ext, f);
    }
    return f;
  }

  /** A file of the snapshot (read or reused). */
  file(name: string): void {
    this.entry(name).files++;
  }

  /** A file removed from the snapshot after all (it could not be read). */
  unfile(name: string): void {
    this.entry(name).files--;
  }

  /** A file whose content was read, with its new content before and after compression. */
  read(name: string, freshRaw: number, freshStored: number): void {
    const f = this.entry(name);
    f.read++;
    f.freshRaw += freshRaw;
    f.freshStored += freshStored;
  }

  toStats(): Record<string, ExtensionStats> {
    return Object.fromEntries([...this.figures].filter(([, f]) => f.files > 0 || f.read > 0));
  }
}
