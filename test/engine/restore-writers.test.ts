/**
 * How many writer threads a restore starts (every core from a folder, one core left to the downloads from
 * S3 unless the files are small), and which of them gets the next file.
 */
import { describe, expect, it } from 'vitest';
import { defaultWriters, writerWithRoom } from '../../src-main/engine/ops/restore-files.ts';

describe('defaultWriters', () => {
  it('from a folder: one per core, at least two', () => {
    expect([1, 2, 4, 16].map((cores) => defaultWriters(true, cores))).toEqual([2, 2, 4, 16]);
  });

  it('from S3: one core left to the downloads, at least one writer', () => {
    expect([1, 2, 4, 16].map((cores) => defaultWriters(false, cores))).toEqual([1, 1, 3, 15]);
    expect([1, 2, 4, 16].map((cores) => defaultWriters(false, cores, 64 << 10))).toEqual([1, 1, 3, 15]);
  });

  it('from S3 with small files (under 32 KiB on average): one per core, the writers are behind', () => {
    expect([1, 2, 4, 16].map((cores) => defaultWriters(false, cores, 10_000))).toEqual([1, 2, 4, 16]);
    expect(defaultWriters(false, 2, (32 << 10) - 1)).toBe(2);
    expect(defaultWriters(false, 2, 32 << 10)).toBe(1);
  });
});

describe('writerWithRoom', () => {
  const MiB = 1 << 20;

  it('passes over a writer full by count for one with room, though it holds more bytes', () => {
    // 128 small files (the count limit) against 40 larger ones: the second still takes files
    const full = { name: 'full', queued: 1 * MiB, queuedFiles: 128 };
    const room = { name: 'room', queued: 8 * MiB, queuedFiles: 40 };
    expect(writerWithRoom([full, room])?.name).toBe('room');
  });

  it('picks the least busy by bytes among those with room; none when all are full', () => {
    const a = { name: 'a', queued: 3 * MiB, queuedFiles: 10 };
    const b = { name: 'b', queued: 2 * MiB, queuedFiles: 20 };
    const bytesFull = { name: 'c', queued: 32 * MiB, queuedFiles: 1 };
    expect(writerWithRoom([a, b, bytesFull])?.name).toBe('b');
    expect(writerWithRoom([bytesFull, { ...a, queuedFiles: 128 }])).toBeUndefined();
  });
});
