import { describe, expect, it } from 'vitest';

import { clockDuration, humanBytes, modeString, table } from '../../src-main/cli/format.ts';
import { splitSnapshotRef } from '../../src-main/cli/parse.ts';
import { ProgressLine, renderProgress } from '../../src-main/cli/progress.ts';

describe('cli formatting', () => {
  it('formats sizes, durations and modes', () => {
    expect(humanBytes(0)).toBe('0 B');
    expect(humanBytes(1536)).toBe('1.50 KiB');
    expect(humanBytes(300 * 1024 * 1024)).toBe('300 MiB');
    expect(clockDuration(3725)).toBe('1:02:05');
    expect(modeString('dir', 0o755)).toBe('drwxr-xr-x');
    expect(modeString('file', 0o4644)).toBe('-rwSr--r--');
    expect(table(['A', 'BB'], [['xyz', '1']], ['left', 'right'])).toEqual(['A    BB', 'xyz   1']);
  });

  it('splits SNAPSHOT:PATH at the first colon', () => {
    expect(splitSnapshotRef('latest')).toEqual({ snapshot: 'latest', path: '' });
    expect(splitSnapshotRef('ab12:docs/a:b.txt')).toEqual({ snapshot: 'ab12', path: 'docs/a:b.txt' });
  });

  it('renders a progress line within the width, with rate and ETA', () => {
    const line = renderProgress(
      { label: 'reading', bytesDone: 50 * 2 ** 20, bytesTotal: 100 * 2 ** 20, filesDone: 5, filesTotal: 10 },
      10 * 2 ** 20,
      200,
    );
    expect(line).toContain('[##########..........]  50%');
    expect(line).toContain('50.0 MiB/100 MiB');
    expect(line).toContain('5/10 files');
    expect(line).toContain('10.0 MiB/s');
    expect(line).toContain('ETA 0:05');
    expect(renderProgress({ label: 'x', done: 1, total: 3 }, undefined, 30).length).toBeLessThan(30);
  });

  it('redraws at most every 250 ms and not at all when disabled', () => {
    const writes: string[] = [];
    let t = 0;
    const stream = { write: (s: string) => writes.push(s) > 0, columns: 100 };
    const p = new ProgressLine(stream, true, () => t);
    p.update({ label: 'a', done: 1, total: 10 });
    t = 100;
    p.update({ label: 'a', done: 2, total: 10 });
    t = 300;
    p.update({ label: 'a', done: 3, total: 10 });
    expect(writes).toHaveLength(2);
    p.stop();
    expect(writes.at(-1)).toBe('\r\x1b[2K');
    const off: string[] = [];
    new ProgressLine({ write: (s: string) => off.push(s) > 0 }, false).update({ label: 'a' });
    expect(off).toEqual([]);
  });
});
