/** The counters of one backup run (SnapshotStats): every stage reports into one tally. */
import type { SnapshotStats } from '../../repo/format.ts';
import { ExtensionTally } from '../extension-figures.ts';
import type { FileResult } from '../protocol.ts';

const MAX_LISTED_ERRORS = 1000;

/** Counters of a run before it starts (also what a hand-made manifest carries). */
export const emptyStats = (): SnapshotStats => ({
  files: 0,
  dirs: 0,
  bytes: 0,
  bytesRead: 0,
  bytesAdded: 0,
  blobsAdded: 0,
  filesNew: 0,
  filesChanged: 0,
  filesUnchanged: 0,
  errorCount: 0,
  errors: [],
  durationMs: 0,
});

export class RunTally {
  readonly stats = emptyStats();
  private readonly extensions = new ExtensionTally();

  /** A path left out or stored flagged: counted always, listed up to MAX_LISTED_ERRORS (a manifest stays small). */
  error(path: string, message: string): void {
    this.stats.errorCount++;
    if (this.stats.errors.length < MAX_LISTED_ERRORS) this.stats.errors.push({ path, message });
  }

  /** A file of the snapshot, reused or still to be read. */
  fileSeen(name: string): void {
    this.stats.files++;
    this.extensions.file(name);
  }

  /** A file whose content the parent snapshot already holds. */
  fileUnchanged(size: number): void {
    this.stats.filesUnchanged++;
    this.stats.bytes += size;
  }

  /** A file that could not be read after all: it leaves the snapshot (the error says why). */
  fileUnreadable(name: string): void {
    this.stats.files--;
    this.extensions.unfile(name);
  }

  fileRead(name: string, res: FileResult, isNew: boolean): void {
    this.stats.bytes += res.size;
    this.stats.bytesRead += res.bytesRead;
    // new content before and after compression: the ransomware entropy check's input
    this.extensions.read(name, res.freshRaw ?? 0, res.freshStored ?? 0);
    if (isNew) this.stats.filesNew++;
    else this.stats.filesChanged++;
  }

  packStored(size: number, blobs: number): void {
    this.stats.bytesAdded += size;
    this.stats.blobsAdded += blobs;
  }

  dirStored(): void {
    this.stats.dirs++;
  }

  /** The stats as the manifest records them (the commit sets durationMs last). */
  finish(): SnapshotStats {
    this.stats.extensions = this.extensions.toStats();
    return this.stats;
  }
}
