/**
 * The ransomware detectors (engine/signals), pure and on a fake clock: what each signal fires on, and the
 * everyday work it must let pass (saves through a temp file, a big unzip, an update replacing files).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { ActivityDetector } from '../../../src-main/engine/signals/activity.ts';
import { entropyJumps, type RunFigures } from '../../../src-main/engine/signals/entropy.ts';
import { isRansomExtension, isRansomNote } from '../../../src-main/engine/signals/names.ts';
import type { Signal } from '../../../src-main/engine/signals/types.ts';

const START = Date.UTC(2026, 4, 12, 9, 0);

function detector(opts: Partial<ConstructorParameters<typeof ActivityDetector>[0]> = {}) {
  const clock = new FakeClock(START);
  const d = new ActivityDetector({ clock, ...opts });
  const seen: Signal[] = [];
  const ev = (event: 'add' | 'change' | 'unlink', path: string, stepMs = 5): void => {
    clock.advance(stepMs);
    seen.push(...d.observe(event, path));
  };
  return { clock, d, seen, ev };
}

describe('names ransomware leaves', () => {
  it('knows the extensions and notes, and not everyday names', () => {
    for (const p of [
      '/o/a.docx.locky',
      '/o/b.xlsx.WNCRY',
      '/o/c.pdf.lockbit',
      '/o/d.encrypted',
      'C:\\o\\e.crypt',
    ])
      expect(isRansomExtension(p), p).toBe(true);
    for (const p of ['/o/a.docx', '/o/b.enc', '/o/c.lock', '/o/~$report.docx', '/o/archive.7z', '/o/x.tmp'])
      expect(isRansomExtension(p), p).toBe(false);
    for (const n of [
      'README_DECRYPT.txt',
      'HOW_TO_DECRYPT.html',
      '!!!READ_ME!!!.txt',
      '_readme.txt',
      '@Please_Read_Me@.txt',
      'Restore-My-Files.txt',
    ])
      expect(isRansomNote(`/o/${n}`), n).toBe(true);
    for (const n of [
      'README.md',
      'readme.txt',
      'How to use the printer.docx',
      'Decision minutes.docx',
      'help.pdf',
    ])
      expect(isRansomNote(`/o/${n}`), n).toBe(false);
  });
});

describe('activity detector', () => {
  it('200 renames in one folder fire once, with the start of the renaming as its beginning', () => {
    // 200 of 10 000 .docx files: not a mass deletion, only renames
    const { seen, ev } = detector({ filesWithExtension: () => 10_000 });
    const t0 = START + 5;
    for (let i = 0; i < 199; i++) {
      ev('unlink', `/o/docs/f${i}.docx`);
      ev('add', `/o/docs/f${i}.docx.x7k2q`);
    }
    expect(seen).toEqual([]);
    ev('unlink', '/o/docs/f199.docx');
    ev('add', '/o/docs/f199.docx.x7k2q');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'rename-burst', count: 200, where: '/o/docs', since: t0 });
    expect(seen[0]?.examples).toHaveLength(5);
    ev('unlink', '/o/docs/g.docx');
    ev('add', '/o/docs/g.docx.x7k2q');
    expect(seen).toHaveLength(1); // once per window
  });

  it('ransomware extensions fire at 5 files; a ransom note at once', () => {
    const { seen, ev } = detector();
    for (let i = 0; i < 4; i++) ev('add', `/o/a${i}.pdf.locky`);
    expect(seen).toEqual([]);
    ev('add', '/o/a4.pdf.locky');
    expect(seen.map((s) => s.kind)).toEqual(['ransom-extension']);
    ev('add', '/o/sub/HOW_TO_DECRYPT.txt');
    expect(seen.map((s) => s.kind)).toEqual(['ransom-extension', 'ransom-note']);
  });

  it('mass deletion: 100 of one extension that are over half of its files (Veeam), not 100 of 1 000', () => {
    const many = detector({ filesWithExtension: (ext) => (ext === 'pdf' ? 1000 : undefined) });
    for (let i = 0; i < 400; i++) many.ev('unlink', `/o/${i % 7}/f${i}.pdf`);
    expect(many.seen).toEqual([]);
    const few = detector({ filesWithExtension: (ext) => (ext === 'pdf' ? 150 : undefined) });
    for (let i = 0; i < 100; i++) few.ev('unlink', `/o/${i % 7}/f${i}.pdf`);
    expect(few.seen.map((s) => [s.kind, s.where, s.count])).toEqual([['mass-deletion', 'pdf', 100]]);
  });

  it('a canary: any change but its placement fires at once', () => {
    const { seen, ev } = detector({ isCanary: (p) => p === '/o/.decoy.docx' });
    ev('add', '/o/.decoy.docx');
    expect(seen).toEqual([]);
    ev('change', '/o/.decoy.docx');
    expect(seen.map((s) => [s.kind, s.where])).toEqual([['canary', '/o/.decoy.docx']]);
  });

  it('saves through a temp file, a 2 000-file unzip and an update replacing 800 files raise nothing', () => {
    const { seen, ev, d } = detector();
    for (let i = 0; i < 300; i++) {
      // Word: write ~WRD.tmp, rename the document to ~WRL.tmp, the temp into its place, delete the old copy
      ev('add', `/o/docs/~WRD${i}.tmp`);
      ev('unlink', `/o/docs/report${i % 20}.docx`);
      ev('add', `/o/docs/~WRL${i}.tmp`);
      ev('unlink', `/o/docs/~WRD${i}.tmp`);
      ev('add', `/o/docs/report${i % 20}.docx`);
      ev('unlink', `/o/docs/~WRL${i}.tmp`);
    }
    for (let i = 0; i < 2000; i++) ev('add', `/o/unzipped/part${i % 40}/file${i}.xml`, 1);
    for (let i = 0; i < 800; i++) {
      ev('add', `/o/app/lib${i}.dll.new`, 1);
      ev('unlink', `/o/app/lib${i}.dll.new`, 1);
      ev('change', `/o/app/lib${i}.dll`, 1);
    }
    expect(seen).toEqual([]);
    // the highest counts: one save half done (a document renamed away) and the update's 800 + 20 documents
    expect(d.checkpoint()).toEqual({ renamesPerFolder: 1, modified: 820, deletionsPerExtension: 1 });
  });

  it('a modification burst is measured against the source baseline; the window forgets old events', () => {
    const { seen, ev, d, clock } = detector({
      baseline: { renamesPerFolder: 0, modified: 600, deletionsPerExtension: 0 },
    });
    for (let i = 0; i < 1500; i++) ev('change', `/o/f${i}.txt`, 1);
    expect(seen).toEqual([]); // under 3 × 600
    clock.advance(11 * 60_000); // all out of the window
    d.setBaseline({ renamesPerFolder: 0, modified: 0, deletionsPerExtension: 0 });
    for (let i = 0; i < 999; i++) ev('change', `/o/g${i}.txt`, 1);
    expect(d.size).toBe(999);
    ev('change', '/o/g999.txt', 1);
    expect(seen.map((s) => [s.kind, s.count])).toEqual([['modification-burst', 1000]]);
  });
});

describe('entropy jump', () => {
  const fig = (read: number, raw: number, stored: number) => ({
    files: read,
    read,
    freshRaw: raw,
    freshStored: stored,
  });
  it('files that compressed well and now do not: signal, with the earlier snapshot as the last clean one', () => {
    const earlier: RunFigures[] = [
      { at: 1000, extensions: { txt: fig(50, 1_000_000, 300_000), jpg: fig(10, 5_000_000, 5_000_000) } },
      { at: 2000, extensions: { docx: fig(3, 30_000, 29_000) } },
    ];
    const now = {
      at: 3000,
      extensions: {
        txt: fig(60, 2_000_000, 2_000_000),
        jpg: fig(40, 9_000_000, 9_000_000),
        csv: fig(30, 900_000, 900_000),
      },
    };
    const out = entropyJumps(now, earlier);
    // jpg never compressed; csv has no history; txt did compress (0.3) and now does not (1.0)
    expect(out).toEqual([
      { kind: 'entropy-jump', at: 3000, since: 2001, count: 60, where: 'txt', examples: [] },
    ]);
    expect(entropyJumps({ at: 3000, extensions: { txt: fig(10, 2_000_000, 2_000_000) } }, earlier)).toEqual(
      [],
    );
    expect(entropyJumps(now, [])).toEqual([]);
  });
});
