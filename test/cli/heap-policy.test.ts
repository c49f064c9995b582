/**
 * The CLI starts with `--optimize-for-size` (its shebang): V8 then ends its full collections in "reduce
 * memory" mode, which a backup's peak needs. `bulwark restore` switches that off before it loads anything
 * (src-main/cli/heap-policy.ts): its main thread, which downloads and takes the writers' results, paid a
 * full collection every 30-40 ms for it. Seen through V8's own trace: with the shebang's flags a backup's
 * full collections say "(reduce)", a restore's never do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark, type Result } from './helpers.ts';

let tmp: string;
let home: string;
let repo: string;
let src: string;

/** The CLI run as its shebang runs it, with V8's trace of every collection on stdout. */
function tracedBulwark(args: string[]): Promise<Result> {
  return runBulwark(args, { home, tmp }, {}, [
    '--max-semi-space-size=1',
    '--optimize-for-size',
    '--trace-gc',
  ]);
}

const fullCollections = (trace: string): string[] =>
  trace.split('\n').filter((line) => line.includes('Mark-Compact'));

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-heap-'));
  home = path.join(tmp, 'home');
  repo = path.join(tmp, 'repo');
  src = path.join(tmp, 'src');
  for (let d = 0; d < 20; d++) {
    fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 20; f++)
      fs.writeFileSync(path.join(src, `d${d}`, `f${f}.txt`), `${d}/${f}\n`.repeat(200));
  }
  expect((await runBulwark(['init', '--repo', repo], { home, tmp })).code).toBe(0);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the V8 heap policy of a command', () => {
  it('a backup keeps the shebang\'s "optimize for size" and a restore drops it before it starts', async () => {
    const backup = await tracedBulwark(['backup', '--repo', repo, '-q', src]);
    expect(backup.code, backup.stderr).toBe(0);
    // the flag is in force: a backup's full collections reduce memory
    expect(fullCollections(backup.stdout).filter((l) => l.includes('(reduce)')).length).toBeGreaterThan(0);

    const target = path.join(tmp, 'restored');
    const restore = await tracedBulwark(['restore', 'latest', '--repo', repo, '-q', '--target', target]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(fs.readFileSync(path.join(target, 'src', 'd7', 'f3.txt'), 'utf8')).toBe('7/3\n'.repeat(200));
    const restoreFull = fullCollections(restore.stdout);
    expect(restoreFull.length).toBeGreaterThan(0);
    expect(restoreFull.filter((l) => l.includes('(reduce)'))).toEqual([]);
  });
});
