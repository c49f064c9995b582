/** How many writer threads a restore starts: every core from a folder, one core left to the downloads from S3. */
import { describe, expect, it } from 'vitest';
import { defaultWriters } from '../../src-main/engine/ops/restore-files.ts';

describe('defaultWriters', () => {
  it('from a folder: one per core, at least two', () => {
    expect([1, 2, 4, 16].map((cores) => defaultWriters(true, cores))).toEqual([2, 2, 4, 16]);
  });

  it('from S3: one core left to the downloads, at least one writer', () => {
    expect([1, 2, 4, 16].map((cores) => defaultWriters(false, cores))).toEqual([1, 1, 3, 15]);
  });
});
