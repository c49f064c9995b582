import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

// The project stands alone: a fresh clone with nothing beside it builds and passes its tests. No file may
// reach outside the checkout (a sibling folder of the repository) or name a path of one machine.
// The patterns are spelled with character classes so this file does not match itself. Nothing is
// allow-listed.

const root = path.resolve(import.meta.dirname, '..', '..');

const FORBIDDEN: { what: string; re: RegExp }[] = [
  // the sibling folder "shared" next to the checkout, reached with two dots and a slash or a backslash
  { what: 'a folder outside the repository', re: /\.\.[\\/]shar[e]d(?![\w-])/ },
  // an absolute path under the machine folders "work" or "root": the slash before the name must not follow a
  // name character, so a relative path with such a folder in the middle passes; a quoted path, the bare
  // folder or a file:// URL do not
  { what: 'an absolute path of one machine', re: /(?<![\w.~-])\/(?:w[o]rk|r[o]ot)(?![\w.-])/ },
];

/** Files git tracks, and new ones not ignored (so a file is checked before its first commit). */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return [...new Set(out.split('\0').filter(Boolean))];
}

function findings(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    let buf: Buffer;
    try {
      buf = readFileSync(path.join(root, file));
    } catch (e) {
      // deleted in the working tree but still in the index; a folder (a submodule)
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR')
        continue;
      throw e;
    }
    if (buf.includes(0)) continue; // binary (icons, fonts)
    const lines = buf.toString('utf8').split('\n');
    lines.forEach((line, i) => {
      for (const f of FORBIDDEN)
        if (f.re.test(line)) found.push(`${file}:${i + 1}: ${f.what}: ${line.trim().slice(0, 160)}`);
    });
  }
  return found;
}

describe('the repository stands alone', () => {
  it('the patterns catch what they are meant to, and only that', () => {
    const hit = (s: string) => FORBIDDEN.some((f) => f.re.test(s));
    // built from pieces, so that this file itself holds none of the strings it looks for
    const p = (...parts: string[]) => parts.join('/');
    const up = p('..', 'shared');
    for (const bad of [
      `import x from '${p(up, 'bench', 'make-corpus.mjs')}';`,
      `new URL('${p('..', '..', up, 'x')}', import.meta.url)`,
      `see ${['..', 'shared', 'DESIGN.md'].join('\\')}`,
      `. ${p('', 'work', 'shared', 'tools', 'node24.sh')}`,
      `cd ${p('', 'work')} && make`,
      `file://${p('', 'work', 'main', 'x.ts')}`,
      `HOME=${p('', 'root')}`,
      `"${p('', 'root', '.cache', 'node')}"`,
    ])
      expect({ bad, hit: hit(bad) }).toEqual({ bad, hit: true });
    for (const good of [
      p('src-main', 'work', 'queue.ts'),
      `${p('a', 'work', 'b')} and ${p('the', 'root', 'of')} it`,
      p('~', 'work', 'notes.txt'),
      p('', 'workspace', 'x'),
      p('', 'rooted'),
      p('..', 'shared-things', 'x'),
      p('..', 'sharedFolder'),
      p('shared', 'harness.ts'),
      p('the network ', 'home', 'ann', 'Documents'),
    ])
      expect({ good, hit: hit(good) }).toEqual({ good, hit: false });
  });

  it('no file refers to a folder outside the checkout or to a path of this machine', () => {
    const files = repositoryFiles();
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('test/lint/standalone.test.ts');
    expect(findings(files)).toEqual([]);
  });
});
