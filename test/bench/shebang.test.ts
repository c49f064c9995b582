/**
 * The benchmark runs the CLI as its bin runs: with the variables and node flags of its shebang
 * (bench/shebang.ts), read from the real entry point.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readShebang } from '../../bench/shebang.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-shebang-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const withFirstLine = (line: string): string => {
  const f = path.join(tmp, `main-${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(f, `${line}\nconsole.log(1);\n`);
  return f;
};

describe('readShebang', () => {
  it("reads the CLI's own shebang: a glibc variable and V8 flags", () => {
    const s = readShebang(path.resolve(import.meta.dirname, '../../src-main/cli/main.ts'));
    expect(s.env).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(s.flags).toEqual(['--max-semi-space-size=1', '--optimize-for-size']);
  });

  it('takes flags without variables, and nothing from a line it does not understand or a missing file', () => {
    expect(readShebang(withFirstLine('#!/usr/bin/env -S node --a=1 --b'))).toEqual({
      env: {},
      flags: ['--a=1', '--b'],
    });
    expect(readShebang(withFirstLine('#!/usr/bin/env node'))).toEqual({ env: {}, flags: [] });
    expect(readShebang(withFirstLine('#!/bin/sh -c "rm -rf /" node'))).toEqual({ env: {}, flags: [] });
    expect(readShebang(path.join(tmp, 'absent.js'))).toEqual({ env: {}, flags: [] });
  });
});
