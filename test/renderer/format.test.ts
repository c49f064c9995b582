import { describe, expect, it } from 'vitest';

import { errorCodes, type ResultError } from '../../src-main/contract/result.ts';
import { baseName, isAbsolutePath } from '../../src-renderer/src/stores/folders/store.ts';
import { dayKey, groupByDay } from '../../src-renderer/src/stores/restore/timeline.ts';
import {
  formatBytes,
  formatDuration,
  formatEta,
  formatEvery,
  formatExact,
  formatPercent,
  formatRate,
  formatRelative,
} from '../../src-renderer/src/ui/format.ts';
import {
  describeError,
  immutabilityLabel,
  plainRunError,
  scheduleLabel,
  targetKindLabel,
  watchLabel,
} from '../../src-renderer/src/ui/words.ts';

describe('format helpers', () => {
  it('sizes: decimal units, at most one decimal, never raw digits', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(12_400_000)).toBe('12.4 MB');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
    expect(formatBytes(123_456_789)).toBe('123 MB');
    expect(formatBytes(999_900)).toBe('1.0 MB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.1 MB');
    expect(formatBytes(2.5e12)).toBe('2.5 TB');
    expect(formatBytes(-1)).toBe('–');
    expect(formatBytes(Number.NaN)).toBe('–');
  });

  it('rates are rounded like sizes: "12.4 MB/s"', () => {
    expect(formatRate(12_412_345.678)).toBe('12.4 MB/s');
    expect(formatRate(262_144)).toBe('262 kB/s');
    expect(formatRate(500)).toBe('less than 1 kB/s');
    // never more than one decimal, whatever the input
    for (const r of [1234.5678, 98_765.4321, 7_654_321.987, 1e9 / 3])
      expect(formatRate(r)).toMatch(/^\d+(\.\d)? (kB|MB|GB)\/s$/);
  });

  it('durations and ETAs in words', () => {
    expect(formatDuration(1)).toBe('1 second');
    expect(formatDuration(45)).toBe('45 seconds');
    expect(formatDuration(150)).toBe('3 minutes');
    expect(formatDuration(3600)).toBe('1 hour');
    expect(formatDuration(4800)).toBe('1 hour 20 minutes');
    expect(formatDuration(86_400 * 2)).toBe('2 days');
    expect(formatEta(20)).toBe('less than a minute left');
    expect(formatEta(180)).toBe('about 3 minutes left');
    expect(formatEta(undefined)).toBeUndefined();
  });

  it('schedules: "every hour", never minutes counts like 1440', () => {
    expect(formatEvery(15)).toBe('every 15 minutes');
    expect(formatEvery(60)).toBe('every hour');
    expect(formatEvery(240)).toBe('every 4 hours');
    expect(formatEvery(1440)).toBe('every day');
    expect(formatEvery(2880)).toBe('every 2 days');
    expect(scheduleLabel(60)).toBe('Backs up within 1 hour of a change');
    expect(scheduleLabel(15)).toBe('Backs up within 15 minutes of a change');
    expect(scheduleLabel(1440)).toBe('Backs up within 1 day of a change');
  });

  it('relative times, from a given now', () => {
    const now = Date.parse('2026-03-04T12:00:00Z');
    expect(formatRelative('2026-03-04T11:59:40Z', now)).toBe('just now');
    expect(formatRelative('2026-03-04T11:56:00Z', now)).toBe('4 minutes ago');
    expect(formatRelative('2026-03-04T11:59:00Z', now)).toBe('1 minute ago');
    expect(formatRelative('2026-03-04T12:05:00Z', now)).toBe('in 5 minutes');
    expect(formatRelative('2026-03-04T09:00:00Z', now)).toBe('3 hours ago');
    expect(formatRelative('2026-03-03T12:00:00Z', now)).toBe('yesterday');
    expect(formatRelative('2026-02-20T12:00:00Z', now)).toBe('12 days ago');
    expect(formatRelative('not a time', now)).toBe('not a time');
  });

  it('exact times tell two runs a few seconds apart apart', () => {
    const a = formatExact('2026-03-04T12:00:01Z');
    const b = formatExact('2026-03-04T12:00:07Z');
    expect(a).not.toBe(b);
    expect(a).toMatch(/2026/);
  });

  it('percent never says 100 % before the end', () => {
    expect(formatPercent(999, 1000)).toBe('99 %');
    expect(formatPercent(1000, 1000)).toBe('100 %');
    expect(formatPercent(5, undefined)).toBeUndefined();
    expect(formatPercent(5, 0)).toBeUndefined();
  });
});

describe('plain words', () => {
  it('never shows an error code, and always says what to do', () => {
    for (const code of errorCodes) {
      const error: ResultError = { code, message: `bulwark:x failed: ${code.toLowerCase()}` };
      const words = describeError(error);
      expect(words.title).not.toMatch(/[A-Z]{2,}_?[A-Z]*/);
      expect(words.title).not.toContain(code);
      expect(words.hint.length).toBeGreaterThan(10);
      expect(words.hint).not.toContain(code);
      expect(words.details).toBe(error.message);
    }
  });

  it('keeps the service hint for people, but explains a lost link itself', () => {
    expect(describeError({ code: 'WRONG_PASSWORD', message: 'x', hint: 'Use the new password.' }).hint).toBe(
      'Use the new password.',
    );
    const network = describeError({ code: 'NETWORK', message: 'x', hint: 'Check that `bulwark serve` runs' });
    expect(network.title).toBe("Bulwark's service is not answering");
    expect(network.hint).not.toContain('bulwark serve');
  });

  it('never passes on advice written for the terminal: an offline NAS is not told to create a repository', () => {
    const offline = describeError({
      code: 'REPO_NOT_FOUND',
      message: 'no Bulwark repository at file:///mnt/nas/backups',
      hint: 'Check the location. Only for a new, empty location: `bulwark init` creates a repository.',
    });
    expect(offline.hint).toBe('Check that the drive, network share or cloud storage is connected.');
    expect(offline.hint).not.toMatch(/init|creat/i);
    const command = describeError({ code: 'LOCKED', message: 'x', hint: 'Run bulwark unlock --force.' });
    expect(command.hint).toBe('Wait a moment and try again.');
  });

  it('drops an engine code at the start of a recorded failure', () => {
    expect(plainRunError('NOT_FOUND: /media/usb: not found')).toBe('/media/usb: not found');
    expect(plainRunError('The disk is full')).toBe('The disk is full');
    expect(plainRunError('REPO_NOT_FOUND: no Bulwark repository at file:///mnt/office%20nas/backups')).toBe(
      'no Bulwark repository at /mnt/office nas/backups',
    );
  });

  it('targets and immutability in words (no "fs", no "worm-folder")', () => {
    expect(targetKindLabel('fs')).toBe('Local folder or network share');
    expect(targetKindLabel('s3')).toMatch(/Cloud storage/);
    expect(
      immutabilityLabel({ immutability: 'object-lock', lock: { mode: 'COMPLIANCE', days: 30 } }).long,
    ).toBe('Immutable: backups cannot be deleted for 30 days');
    expect(immutabilityLabel({ immutability: 'worm-folder' }).long).toBe(
      'Tamper-evident: changes are detected, not prevented',
    );
    expect(immutabilityLabel({ immutability: 'none' }).tone).toBe('warning');
    expect(watchLabel('live', 60)).toBe('Watching for changes');
    expect(watchLabel('rescan-only', 60)).toBe('Checking the whole folder every hour');
  });
});

describe('small helpers', () => {
  it('groups snapshots by local day, newest first', () => {
    const snap = (id: string, time: string) => ({
      id,
      time,
      host: 'h',
      source: 's',
      paths: ['/d'],
      stats: { files: 1, dirs: 0, bytes: 1, bytesAdded: 1, errors: 0 },
    });
    const a = new Date(2026, 2, 4, 9, 0).toISOString();
    const b = new Date(2026, 2, 4, 17, 30).toISOString();
    const c = new Date(2026, 2, 2, 12, 0).toISOString();
    const days = groupByDay([snap('a', a), snap('c', c), snap('b', b)]);
    expect(days.map((d) => d.day)).toEqual(['2026-03-04', '2026-03-02']);
    expect(days[0]?.snapshots.map((s) => s.id)).toEqual(['b', 'a']);
    expect(dayKey(a)).toBe('2026-03-04');
  });

  it('folder names and absolute paths', () => {
    expect(baseName('/home/ann/Documents')).toBe('Documents');
    expect(baseName('C:\\Users\\Ann\\')).toBe('Ann');
    expect(isAbsolutePath('/srv')).toBe(true);
    expect(isAbsolutePath('C:\\Data')).toBe(true);
    expect(isAbsolutePath('\\\\nas\\share')).toBe(true);
    expect(isAbsolutePath('Documents')).toBe(false);
  });
});
