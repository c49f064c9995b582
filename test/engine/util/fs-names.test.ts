import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeFsName,
  encodeFsName,
  fsErrorText,
  fsPath,
  hasEscapedBytes,
} from '../../../src-main/engine/util/fs-names.ts';
import { isUtf8 } from 'node:buffer';
import { scanIo } from '../../../src-main/engine/backup/entry.ts';
import { tempDir } from '../helpers/repo.ts';

const bytes = (...b: number[]): Buffer => Buffer.from(b);
const roundTrip = (b: Buffer): Buffer => encodeFsName(decodeFsName(b));

describe('surrogate-escape names (decodeFsName / fsPath)', () => {
  it('round-trips every single byte 0x00–0xFF, escaping exactly the bytes that are not UTF-8', () => {
    for (let b = 0; b < 256; b++) {
      const name = decodeFsName(bytes(0x61, b, 0x7a)); // "a?z"
      expect(encodeFsName(name).equals(bytes(0x61, b, 0x7a)), `byte ${b}`).toBe(true);
      if (b < 0x80) expect(name).toBe(`a${String.fromCharCode(b)}z`);
      else expect(name).toBe(`a${String.fromCharCode(0xdc00 + b)}z`);
    }
  });

  it('round-trips every pair of bytes', () => {
    for (let a = 0x80; a < 256; a++)
      for (let b = 0; b < 256; b++)
        expect(roundTrip(bytes(a, b)).equals(bytes(a, b)), `${a} ${b}`).toBe(true);
  });

  it('escapes overlong forms, encoded surrogates, code points above U+10FFFF and cut sequences byte by byte', () => {
    const cases: [number[], string][] = [
      [[0xc0, 0xaf], '\udcc0\udcaf'], // overlong "/"
      [[0xe0, 0x80, 0xaf], '\udce0\udc80\udcaf'], // overlong "/"
      [[0xf0, 0x80, 0x80, 0xaf], '\udcf0\udc80\udc80\udcaf'], // overlong "/"
      [[0xed, 0xa0, 0x80], '\udced\udca0\udc80'], // U+D800 encoded
      [[0xf4, 0x90, 0x80, 0x80], '\udcf4\udc90\udc80\udc80'], // U+110000
      [[0xe2, 0x82, 0x41], '\udce2\udc82A'], // cut short by "A"
      [[0xe2, 0x82], '\udce2\udc82'], // cut short by the end
      [[0xff, 0xfe, 0x41], '\udcff\udcfeA'],
      // an invalid prefix, then a valid 4-byte sequence: the decoding resumes right after the bad byte
      [[0xf0, 0x9f, 0x98, 0xf0, 0x9f, 0x98, 0x80], '\udcf0\udc9f\udc98😀'],
    ];
    for (const [b, s] of cases) {
      expect(decodeFsName(Buffer.from(b))).toBe(s);
      expect(encodeFsName(s).equals(Buffer.from(b))).toBe(true);
    }
  });

  it('a name holding the UTF-8 bytes of a surrogate (ED B3 A9) is three escapes and round-trips', () => {
    const b = Buffer.from([0x78, 0xed, 0xb3, 0xa9, 0x79]);
    const s = decodeFsName(b);
    expect(s).toBe('x\udced\udcb3\udca9y');
    expect(s).not.toBe('x\udce9y'); // not the escape of byte E9
    expect(encodeFsName(s).equals(b)).toBe(true);
    expect(encodeFsName('x\udce9y').equals(bytes(0x78, 0xe9, 0x79))).toBe(true);
  });

  it('leaves valid UTF-8 names unchanged, astral characters whose low half lies in U+DC80–DCFF too', () => {
    for (const s of ['café.txt', 'Kunden-Müller', '日本語/файл', '💀 skull', '\u{10080}', 'a\ufffdb', '']) {
      expect(decodeFsName(Buffer.from(s, 'utf8'))).toBe(s);
      expect(fsPath(s)).toBe(s); // a string, the same one: no copy for the common case
      expect(hasEscapedBytes(s)).toBe(false);
    }
    expect('💀'.charCodeAt(1)).toBe(0xdc80); // why the regexes need the u flag
  });

  it('fsPath gives a Buffer with the exact bytes when a path holds escapes', () => {
    const p = fsPath('/srv/share/Kunden-M\udcfcller/caf\udce9.txt');
    expect(Buffer.isBuffer(p)).toBe(true);
    expect((p as Buffer).equals(Buffer.from('/srv/share/Kunden-M\xfcller/caf\xe9.txt', 'latin1'))).toBe(true);
    expect(fsPath('/ok/ü/💀').toString()).toBe('/ok/ü/💀');
  });

  describe('with real files', () => {
    it("Node's string listing shows U+FFFD for every name that is not UTF-8 (the scanner's fast path)", () => {
      const d = join(dir, 'fffd');
      mkdirSync(d);
      const names: Buffer[] = [];
      for (let a = 0x80; a < 256; a++)
        for (let b = 1; b < 256; b++) if (b !== 0x2f) names.push(Buffer.from([0x78, a, b]));
      for (const s of [
        [0xe0, 0x80, 0x80],
        [0xed, 0xa0, 0x80],
        [0xed, 0xb3, 0xa9],
        [0xf0, 0x8f, 0xbf, 0xbf],
        [0xf4, 0x90, 0x80, 0x80],
        [0xf0, 0x9f, 0x98],
      ])
        names.push(Buffer.from([0x78, ...s]));
      for (const [i, n] of names.entries()) writeFileSync(Buffer.concat([Buffer.from(`${d}/${i}-`), n]), '');
      const listed = scanIo.readdir(d);
      expect(listed).toHaveLength(names.length);
      const want = names.map((n, i) => decodeFsName(Buffer.concat([Buffer.from(`${i}-`), n]))).sort();
      expect([...listed].sort()).toEqual(want);
      // the premise itself: both listings of an unchanged folder come in the same order
      const strings = readdirSync(d);
      const raw = readdirSync(d, { encoding: 'buffer' });
      const missed = raw.filter((b, i) => !isUtf8(b) && !strings[i]!.includes('\ufffd'));
      expect(raw.filter((b) => !isUtf8(b)).length).toBeGreaterThan(30_000);
      expect(missed).toEqual([]);
    });

    const dir = tempDir('fsnames');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    it('a file created under raw bytes is found again under its decoded name', () => {
      const d = join(dir, 'raw');
      mkdirSync(d);
      writeFileSync(Buffer.concat([Buffer.from(`${d}/`), Buffer.from('caf\xe9.txt', 'latin1')]), 'x');
      mkdirSync(join(d, 'sub'));
      const listed = scanIo.readdir(d).sort();
      expect(listed).toEqual(['caf\udce9.txt', 'sub']);
      expect(readFileSync(fsPath(join(d, listed[0]!)), 'utf8')).toBe('x');
    });
  });

  it('fsErrorText names the error without the (lossy) path', () => {
    const e = Object.assign(new Error("ENOENT: no such file or directory, lstat '/x/caf\ufffd'"), {
      code: 'ENOENT',
      errno: -2,
      syscall: 'lstat',
    });
    expect(fsErrorText(e)).toBe('ENOENT: no such file or directory (lstat)');
    expect(fsErrorText(new Error('plain'))).toBe('plain');
  });
});
