import { describe, expect, it } from 'vitest';
import { termSafe } from '../../src-main/cli/format.ts';
import { decodeFsName } from '../../src-main/engine/util/fs-names.ts';

describe('termSafe and names that are not UTF-8', () => {
  it('shows an escaped byte (U+DC80–U+DCFF) as \\xXX', () => {
    expect(termSafe(decodeFsName(Buffer.from('caf\xe9.txt', 'latin1')))).toBe('caf\\xe9.txt');
    expect(termSafe('Kunden-M\udcfcller/Vertrag.pdf')).toBe('Kunden-M\\xfcller/Vertrag.pdf');
    expect(termSafe('\udc80\udcff')).toBe('\\x80\\xff');
  });

  it('shows other lone surrogates as \\uXXXX, never as a replacement character', () => {
    expect(termSafe('a\ud83db')).toBe('a\\ud83db');
    expect(termSafe('a\udc00b')).toBe('a\\udc00b');
  });

  it('leaves real characters alone, astral ones whose low half lies in U+DC80–DCFF too', () => {
    for (const s of ['💀.png', '\u{10080}', 'café', '日本語']) expect(termSafe(s)).toBe(s);
    expect(termSafe('x\u001b💀')).toBe('x\\x1b💀');
  });
});
