import { isInside } from '../../../../src-main/engine/backup/filter.ts';
import { realDisk, type DiskProbe } from '../../../../src-main/engine/service/folders.ts';

/** The real disk, except that everything inside `dir` seems to be on another one (a NAS, a USB disk). */
export function otherDisk(dir: string): DiskProbe {
  return {
    stat(p) {
      const e = realDisk.stat(p);
      return 'dev' in e && isInside(dir, p) ? { ...e, dev: e.dev + 1 } : e;
    },
  };
}
