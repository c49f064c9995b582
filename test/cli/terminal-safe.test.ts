import { describe, expect, it } from 'vitest';

import { printSummary } from '../../src-main/cli/commands/backup.ts';
import { printRestore } from '../../src-main/cli/commands/restore.ts';
import { termSafe } from '../../src-main/cli/format.ts';
import { Output } from '../../src-main/cli/output.ts';
import { renderProgress } from '../../src-main/cli/progress.ts';
import { reportError } from '../../src-main/cli/report-error.ts';
import { BulwarkError, type SnapshotManifest } from '../../src-main/engine/index.ts';

/** Anything a terminal acts on: C0 (except the newline that ends a line), DEL, C1, bidi controls. */
const RAW_CONTROL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function capture(): { out: Output; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = new Output({}, { write: (s) => stdout.push(s) > 0 }, { write: (s) => stderr.push(s) > 0 });
  return { out, stdout, stderr };
}

describe('termSafe', () => {
  it('escapes C0 controls, DEL, C1 controls and bidi controls, and leaves the rest alone', () => {
    expect(termSafe('evil\u001b[2Jname')).toBe('evil\\x1b[2Jname');
    expect(termSafe('two\nlines\rback\ttab')).toBe('two\\nlines\\rback\\ttab');
    expect(termSafe('nul\u0000bel\u0007del\u007f')).toBe('nul\\x00bel\\x07del\\x7f');
    expect(termSafe('csi\u009b2J nel\u0085')).toBe('csi\\u009b2J nel\\u0085');
    expect(termSafe('invoice\u202efdp.exe')).toBe('invoice\\u202efdp.exe');
    expect(termSafe('\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069')).toBe(
      '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069',
    );
    expect(termSafe('line\u2028sep')).toBe('line\\u2028sep');
    // ordinary names, other scripts, emoji, backslashes: unchanged
    for (const s of ['Documents/report 2024.odt', 'Ünïcödé/日本語/файл.txt', '😀.png', 'C:\\Users\\x', ''])
      expect(termSafe(s)).toBe(s);
    expect(RAW_CONTROL.test(termSafe('\u0001\u001f\u0080\u009f\u200e\u200f\u061c'))).toBe(false);
  });
});

describe('human output escapes names; --json keeps them exact', () => {
  const evil = 'src/evil\u001b[2Jname\nforged line';

  const manifest = (): SnapshotManifest =>
    ({
      version: 1,
      id: '0123456789abcdef0123456789abcdef',
      time: new Date(0).toISOString(),
      host: 'host',
      user: 'user',
      source: 'host:/src\u001b]0;title\u0007',
      paths: ['/src'],
      tree: 'ab'.repeat(32),
      stats: {
        files: 1,
        dirs: 1,
        bytes: 0,
        bytesRead: 0,
        bytesAdded: 0,
        blobsAdded: 0,
        filesNew: 0,
        filesChanged: 0,
        filesUnchanged: 0,
        errorCount: 1,
        errors: [{ path: `/${evil}`, message: `open '/${evil}': permission denied` }],
        durationMs: 5,
      },
    }) as SnapshotManifest;

  it('the backup report (its error list too)', () => {
    const { out, stderr } = capture();
    printSummary(out, manifest(), null, [{ label: 'data folder', path: '/src/home\u001b[2J/data' }]);
    const text = stderr.join('');
    expect(RAW_CONTROL.test(text)).toBe(false);
    expect(text).toContain('evil\\x1b[2Jname\\nforged line');
    expect(text).toContain("skipped: Bulwark's own data folder /src/home\\x1b[2J/data");
    expect(text).toContain('source host:/src\\x1b]0;title\\x07');
    // one line for the entry: the newline in its name forged none
    expect(text.split('\n').filter((l) => l.includes('forged line'))).toHaveLength(1);
  });

  it('the restore report (its skipped entries too)', () => {
    const { out, stdout } = capture();
    printRestore(
      out,
      {
        snapshotId: '0123456789abcdef0123456789abcdef',
        files: 1,
        dirs: 1,
        bytes: 1,
        errors: [{ path: evil, message: 'socket not recreated' }],
        warnings: [{ path: evil, message: 'setuid/setgid bits cleared' }],
      } as Parameters<typeof printRestore>[1],
      evil,
      '/target\u009b',
    );
    const text = stdout.join('');
    expect(RAW_CONTROL.test(text)).toBe(false);
    expect(text).toContain('of src/evil\\x1b[2Jname\\nforged line from snapshot');
    expect(text).toContain('into /target\\u009b');
    expect(text).toContain('  src/evil\\x1b[2Jname\\nforged line: socket not recreated');
    expect(text).toContain('  src/evil\\x1b[2Jname\\nforged line: setuid/setgid bits cleared');
  });

  it('error messages and the progress line', () => {
    const lines: string[] = [];
    reportError(
      new BulwarkError('NOT_FOUND', `${evil}: not found`, { hint: 'look at \u001b[31mred' }),
      (s) => lines.push(s),
      false,
    );
    expect(RAW_CONTROL.test(lines.join(''))).toBe(false);
    expect(lines.join('')).toContain('evil\\x1b[2Jname');
    expect(lines.join('').split('\n')).toHaveLength(3); // message, hint, and the end of the last line

    const p = renderProgress({ label: 'reading', currentPath: `/${evil}` }, undefined, 200);
    expect(RAW_CONTROL.test(p)).toBe(false);
    expect(p).not.toContain('\n');
  });
});
