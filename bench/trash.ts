/**
 * Folders the benchmark is done with (a restored tree, a repository, the working copy it replaces) are
 * moved aside, not deleted, until the run ends. On ext4, a file created within a minute or so of tens of
 * thousands of deletions on the same disk makes the kernel step over every recently freed inode
 * (ialloc.c, recently_deleted): a restore of 80 000 files measured 5 s on a quiet disk and 32-42 s (50 s of
 * kernel CPU) right after the previous repetition's trees were removed. That cost belongs to whatever
 * deleted before, not to the tool being timed. When the disk runs low the trash is emptied at once (and
 * the log says so: the next timings may include that cost).
 */
import fs from 'node:fs';
import path from 'node:path';

/** below this share of the disk free (or this many bytes), the trash is emptied instead of growing */
const MIN_FREE_SHARE = 0.1;
const MIN_FREE_BYTES = 8 * 1024 ** 3;

export class Trash {
  private readonly dir: string;
  private n = 0;
  private readonly log: (s: string) => void;

  /** `dir`: a folder on the same disk as what is discarded (a rename moves nothing) */
  constructor(dir: string, log: (s: string) => void) {
    this.dir = dir;
    this.log = log;
  }

  /** Moves `target` out of the way (nothing when it does not exist). */
  discard(target: string): void {
    if (!fs.existsSync(target)) return;
    if (this.lowOnSpace()) {
      this.log(
        'the disk is getting full: emptying the benchmark trash now (the next timings may include the cost)',
      );
      this.empty();
    }
    fs.mkdirSync(this.dir, { recursive: true });
    try {
      fs.renameSync(target, path.join(this.dir, String(this.n++)));
    } catch (e) {
      // another disk (EXDEV) or a name that cannot move: removed now, as before
      this.log(`could not move ${target} aside (${(e as Error).message}): removing it now`);
      fs.rmSync(target, { recursive: true, force: true });
    }
  }

  /** Deletes everything discarded so far. */
  empty(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private lowOnSpace(): boolean {
    try {
      const s = fs.statfsSync(fs.existsSync(this.dir) ? this.dir : path.dirname(this.dir));
      const free = s.bavail * s.bsize;
      return free < MIN_FREE_BYTES || free < MIN_FREE_SHARE * s.blocks * s.bsize;
    } catch (e) {
      this.log(`cannot read the free space (${(e as Error).message}): emptying the trash to be safe`);
      return true;
    }
  }
}
