import { describe, expect, it } from 'vitest';
import {
  evaluateProtection,
  humanDuration,
  overallProtection,
  type Protection,
  type ProtectionFacts,
  type ProtectionReasonCode,
  type SourceProtection,
} from '../../../src-main/engine/service/protection.ts';

// DESIGN §8: one pure function decides a source's protection; never greener than the truth.

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const MINUTE = 60_000;

/** A protected source: backed up 10 minutes ago to a locked S3 bucket, the service running. */
function facts(change: (f: ProtectionFacts) => void = () => {}): ProtectionFacts {
  const f: ProtectionFacts = {
    now: NOW,
    source: {
      name: 'Office',
      enabled: true,
      rpoMinutes: 60,
      createdAt: NOW - 86_400_000,
      lastSuccessAt: NOW - 10 * MINUTE,
    },
    lastOutcome: 'succeeded',
    service: { started: true, paused: false },
    missingPaths: [],
    target: { name: 'Cloud', kind: 's3', present: true, locked: true, sameDisk: false, alerts: [] },
  };
  change(f);
  return f;
}

const codes = (p: Protection): ProtectionReasonCode[] => p.reasons.map((r) => r.code);

/** No jargon in what an office manager reads. */
function expectPlainWords(p: Protection): void {
  for (const text of [p.summary, ...p.reasons.map((r) => r.text)]) {
    expect(text).not.toMatch(/\bRPO\b|recovery point|\bfs\b|worm|NOT_FOUND|REPO_|file:\/\/|ENOENT|\bs3:\/\//);
  }
}

describe('evaluateProtection', () => {
  it('protected only when everything holds', () => {
    const p = evaluateProtection(facts());
    expect(p).toEqual({ state: 'protected', summary: 'Protected', reasons: [] });
    // a folder target on another disk (a NAS) is as immutable as it promises (tamper-evident)
    const nas = evaluateProtection(
      facts((f) => {
        f.target = { name: 'NAS', kind: 'fs', present: true, locked: false, sameDisk: false, alerts: [] };
      }),
    );
    expect(nas.state).toBe('protected');
    // an interrupted or canceled run after a good one says nothing about health
    expect(evaluateProtection(facts((f) => (f.lastOutcome = null))).state).toBe('protected');
  });

  it.each<[string, (f: ProtectionFacts) => void, ProtectionReasonCode, string]>([
    [
      'the last run failed (at once, within the time limit)',
      (f) => (f.lastOutcome = 'failed'),
      'last-backup-failed',
      'At risk: the last backup failed',
    ],
    ['backups are paused', (f) => (f.service.paused = true), 'paused', 'At risk: backups are paused'],
    [
      'the source is paused',
      (f) => (f.source.enabled = false),
      'source-disabled',
      'At risk: backups of this folder are paused',
    ],
    [
      'the service is stopped',
      (f) => (f.service.started = false),
      'service-stopped',
      'At risk: automatic backups are not running',
    ],
    [
      'the source folder is missing',
      (f) => (f.missingPaths = ['/srv/office']),
      'source-missing',
      'At risk: the folder cannot be found',
    ],
    [
      'the target is unknown',
      (f) => (f.target = null),
      'target-missing',
      'At risk: it has no backup destination',
    ],
    [
      'the target is unreachable (alert)',
      (f) => (f.target!.alerts = ['target-unreachable']),
      'target-unreachable',
      'At risk: its backup destination cannot be reached',
    ],
    [
      'a folder target is not there (unplugged)',
      (f) =>
        (f.target = { name: 'NAS', kind: 'fs', present: false, locked: false, sameDisk: false, alerts: [] }),
      'target-unreachable',
      'At risk: its backup destination cannot be reached',
    ],
    [
      'an S3 target without Object Lock',
      (f) => (f.target!.locked = false),
      'target-not-immutable',
      'At risk: its backups are not locked against deletion',
    ],
    [
      'the self-test failed',
      (f) => (f.target!.alerts = ['selftest-failed']),
      'target-not-immutable',
      'At risk: its backups are not locked against deletion',
    ],
    [
      'the only copy is on the same disk',
      (f) =>
        (f.target = {
          name: 'This computer',
          kind: 'fs',
          present: true,
          locked: false,
          sameDisk: true,
          alerts: [],
        }),
      'same-disk',
      'At risk: the only copy is on the same disk',
    ],
    [
      'the lock invariant is broken',
      (f) => (f.target!.alerts = ['lock-invariant-broken']),
      'lock-invariant-broken',
      'At risk: backups to its destination are stopped',
    ],
    [
      'the repository is damaged',
      (f) => (f.target!.alerts = ['repository-damaged']),
      'repository-damaged',
      'At risk: its backups are damaged',
    ],
    [
      'the repository was tampered with',
      (f) => (f.target!.alerts = ['repository-tampered']),
      'repository-tampered',
      'At risk: someone tampered with its backups',
    ],
  ])('at risk when %s', (_what, change, code, summary) => {
    const p = evaluateProtection(facts(change));
    expect(p.state).toBe('at-risk');
    expect(codes(p)).toEqual([code]);
    expect(p.summary).toBe(summary);
    expect(p.reasons[0]?.text.length).toBeGreaterThan(20);
    expectPlainWords(p);
  });

  it('not protected when never backed up, or when the last good backup is older than the limit', () => {
    const never = evaluateProtection(
      facts((f) => {
        f.source.lastSuccessAt = null;
        f.lastOutcome = null;
      }),
    );
    expect(never).toMatchObject({ state: 'not-protected', summary: 'Not protected: not backed up yet' });
    expect(codes(never)).toEqual(['never-backed-up']);

    const old = evaluateProtection(facts((f) => (f.source.lastSuccessAt = NOW - 3 * 60 * MINUTE)));
    expect(old.state).toBe('not-protected');
    expect(codes(old)).toEqual(['rpo-missed']);
    expect(old.summary).toBe('Not protected: no backup for 3 hours');
    expect(old.reasons[0]?.text).toBe(
      'The last backup of Office is from 3 hours ago; it should never be older than 60 minutes.',
    );
    expectPlainWords(old);
    // exactly at the limit is still fine
    expect(evaluateProtection(facts((f) => (f.source.lastSuccessAt = NOW - 60 * MINUTE))).state).toBe(
      'protected',
    );
  });

  it('names the cause first and does not list a failed run whose cause is already named', () => {
    const offline = evaluateProtection(
      facts((f) => {
        f.lastOutcome = 'failed';
        f.source.lastSuccessAt = NOW - 5 * 60 * MINUTE;
        f.target = {
          name: 'NAS',
          kind: 'fs',
          present: false,
          locked: false,
          sameDisk: false,
          alerts: ['target-unreachable'],
        };
      }),
    );
    expect(offline.state).toBe('not-protected');
    expect(codes(offline)).toEqual(['target-unreachable', 'rpo-missed']);
    expect(offline.summary).toBe('Not protected: its backup destination cannot be reached');

    const missing = evaluateProtection(
      facts((f) => {
        f.lastOutcome = 'failed';
        f.missingPaths = ['/srv/office'];
      }),
    );
    expect(codes(missing)).toEqual(['source-missing']);

    const first = evaluateProtection(
      facts((f) => {
        f.lastOutcome = 'failed';
        f.source.lastSuccessAt = null;
      }),
    );
    expect(codes(first)).toEqual(['last-backup-failed', 'never-backed-up']);
    expect(first.summary).toBe('Not protected: the first backup failed');
  });

  it('every reason links to the page that fixes it', () => {
    const all = evaluateProtection(
      facts((f) => {
        f.service.paused = true;
        f.source.enabled = false;
        f.missingPaths = ['/a'];
        f.target = {
          name: 'This computer',
          kind: 'fs',
          present: true,
          locked: false,
          sameDisk: true,
          alerts: ['repository-tampered', 'selftest-failed'],
        };
        f.source.lastSuccessAt = null;
      }),
    );
    expect(codes(all)).toEqual([
      'source-disabled',
      'paused',
      'source-missing',
      'never-backed-up',
      'repository-tampered',
      'target-not-immutable',
      'same-disk',
    ]);
    const pages = Object.fromEntries(all.reasons.map((r) => [r.code, r.fix?.page]));
    expect(pages).toEqual({
      'source-disabled': 'sources',
      paused: 'overview',
      'source-missing': 'sources',
      'never-backed-up': 'sources',
      'repository-tampered': 'alerts',
      'target-not-immutable': 'targets',
      'same-disk': 'targets',
    });
  });

  it('at risk while ransomware is suspected or the locks fall short, even right after a good backup', () => {
    const suspected = evaluateProtection(facts((f) => (f.ransomwareSuspected = true)));
    expect(suspected.state).toBe('at-risk');
    expect(codes(suspected)).toEqual(['ransomware-suspected']);
    expect(suspected.summary).toBe('At risk: signs of ransomware');
    expect(suspected.reasons[0]?.fix?.page).toBe('restore');
    expectPlainWords(suspected);
    const short = evaluateProtection(
      facts((f) => {
        f.target = {
          name: 'Cloud',
          kind: 's3',
          present: true,
          locked: true,
          sameDisk: false,
          alerts: ['locks-short'],
        };
      }),
    );
    expect(short.state).toBe('at-risk');
    expect(codes(short)).toEqual(['locks-short']);
    expect(short.reasons[0]?.fix?.page).toBe('snapshots');
    expectPlainWords(short);
  });

  it('says durations in words', () => {
    expect(humanDuration(20_000)).toBe('less than a minute');
    expect(humanDuration(MINUTE)).toBe('1 minute');
    expect(humanDuration(61 * MINUTE)).toBe('61 minutes');
    expect(humanDuration(5 * 60 * MINUTE)).toBe('5 hours');
    expect(humanDuration(3 * 24 * 60 * MINUTE)).toBe('3 days');
  });
});

describe('overallProtection', () => {
  const src = (
    name: string,
    change: (f: ProtectionFacts) => void = () => {},
    enabled = true,
  ): SourceProtection => {
    const f = facts((x) => {
      x.source.name = name;
      x.source.enabled = enabled;
      change(x);
    });
    return { name, enabled, lastSuccessAt: f.source.lastSuccessAt, protection: evaluateProtection(f) };
  };

  it('no folders yet', () => {
    expect(overallProtection([])).toEqual({
      state: 'not-protected',
      headline: 'No folders yet: add one to start protecting',
      lastBackupAt: null,
      counts: { protected: 0, atRisk: 0, notProtected: 0 },
    });
  });

  it('all protected, with the newest backup', () => {
    const o = overallProtection([
      src('Office'),
      src('Accounts', (f) => (f.source.lastSuccessAt = NOW - 2 * MINUTE)),
      src('Scans'),
    ]);
    expect(o).toEqual({
      state: 'protected',
      headline: 'All 3 folders protected',
      lastBackupAt: NOW - 2 * MINUTE,
      counts: { protected: 3, atRisk: 0, notProtected: 0 },
    });
    expect(overallProtection([src('Office')]).headline).toBe('1 folder protected');
  });

  it('the worst state of the enabled sources, naming the first one and why', () => {
    const o = overallProtection([
      src('Office', (f) => (f.lastOutcome = 'failed')),
      src('Accounts'),
      src('Scans'),
    ]);
    expect(o).toMatchObject({
      state: 'at-risk',
      headline: '1 of 3 folders at risk: Office — the last backup failed',
      counts: { protected: 2, atRisk: 1, notProtected: 0 },
    });
    const worse = overallProtection([
      src('Office', (f) => (f.lastOutcome = 'failed')),
      src('Accounts', (f) => (f.source.lastSuccessAt = null)),
    ]);
    expect(worse).toMatchObject({
      state: 'not-protected',
      headline: '1 of 2 folders not protected: Accounts — not backed up yet',
      counts: { protected: 0, atRisk: 1, notProtected: 1 },
    });
    expect(overallProtection([src('Office', (f) => (f.lastOutcome = 'failed'))]).headline).toBe(
      'Office is at risk: the last backup failed',
    );
  });

  it('one cause for every folder is said once; paused folders do not count', () => {
    const paused = overallProtection([
      src('Office', (f) => (f.service.paused = true)),
      src('Accounts', (f) => (f.service.paused = true)),
    ]);
    expect(paused.headline).toBe('All 2 folders at risk: backups are paused');
    const one = overallProtection([src('Office'), src('Old', (f) => (f.source.lastSuccessAt = null), false)]);
    expect(one).toMatchObject({
      state: 'protected',
      headline: '1 folder protected',
      counts: { protected: 1 },
    });
    expect(overallProtection([src('Old', () => {}, false)])).toMatchObject({
      state: 'not-protected',
      headline: 'No folder is being backed up: it is paused',
    });
  });
});
