import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Page } from '../../src-main/contract/model.ts';
import { notifiedFile } from '../../src-main/app/desktop-state.ts';
import {
  AlertNotifier,
  NOTIFIED_KINDS,
  type AlertLike,
  type NotifiedStore,
} from '../../src-main/app/notifications.ts';

interface Shown {
  title: string;
  body: string;
  click: () => void;
}

function setup(store: NotifiedStore, notifyOnSuccess = false) {
  const shown: Shown[] = [];
  const opened: Page[] = [];
  const notifier = new AlertNotifier({
    notify: ({ title, body }) => {
      const n: Shown = { title, body, click: () => {} };
      return {
        show: () => void shown.push(n),
        on: (_e, l) => {
          n.click = l;
          return undefined;
        },
      };
    },
    store,
    openPage: (p) => void opened.push(p),
    notifyOnSuccess: () => notifyOnSuccess,
  });
  return { notifier, shown, opened };
}

let id = 0;
const alert = (kind: string, over: Partial<AlertLike> = {}): AlertLike => ({
  id: ++id,
  kind,
  severity: 'error',
  text: `${kind} happened`,
  active: true,
  ...over,
});

describe('alert notifications', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bulwark-notify-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // each required kind → its title and the page its click opens
  const cases: [kind: string, title: string, page: Page][] = [
    ['backup-failed', 'A backup failed', 'sources'],
    ['rpo-missed', 'A folder has gone too long without a backup', 'sources'],
    ['selftest-failed', 'Backups are not locked against deletion', 'targets'],
    ['target-not-immutable', 'Backups are not locked against deletion', 'targets'],
    ['lock-invariant-broken', 'Someone tried to weaken the locks on your backups', 'targets'],
    ['ransomware-signal', 'Possible ransomware: many files changed at once', 'alerts'],
    ['ransomware-suspected', 'Possible ransomware: many files changed at once', 'alerts'],
    ['drill-failed', 'A restore test failed', 'alerts'],
  ];
  it.each(cases)('%s: one notification titled "%s" whose click opens %s', (kind, title, page) => {
    const { notifier, shown, opened } = setup(notifiedFile(dir));
    const a = alert(kind, { severity: 'critical' });
    expect(notifier.alertRaised(a)).toBe(true);
    expect(notifier.alertRaised({ ...a, text: 'seen again' })).toBe(false); // raised again: no stream
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ title, body: `${kind} happened` });
    shown[0]!.click();
    expect(opened).toEqual([page]);
  });

  it("uses the alert's own fix page when it names one", () => {
    const { notifier, shown, opened } = setup(notifiedFile(dir));
    notifier.alertRaised(alert('backup-failed', { fix: { page: 'settings', label: 'Open Settings' } }));
    shown[0]!.click();
    expect(opened).toEqual(['settings']);
  });

  it('is not repeated after a restart while the alert stays open; is again once it cleared and came back', () => {
    const a = alert('backup-failed');
    const first = setup(notifiedFile(dir));
    first.notifier.alertRaised(a);
    // the app restarts: the service still reports the alert open
    const second = setup(notifiedFile(dir));
    second.notifier.sync([a], []);
    expect(second.shown).toEqual([]);
    // it cleared while the app was closed, then the same cause came back as a new alert
    const third = setup(notifiedFile(dir));
    third.notifier.sync([], []);
    expect(third.notifier.alertRaised(a)).toBe(true);
    expect(third.shown).toHaveLength(1);
  });

  it('notifies at start an alert raised while nothing could show it', () => {
    const { notifier, shown } = setup(notifiedFile(dir));
    notifier.sync([alert('rpo-missed', { severity: 'warning' })], []);
    expect(shown.map((s) => s.title)).toEqual(['A folder has gone too long without a backup']);
  });

  it('keeps quiet for watch-degraded, info alerts and cleared ones', () => {
    const { notifier, shown } = setup(notifiedFile(dir));
    expect(notifier.alertRaised(alert('watch-degraded', { severity: 'warning' }))).toBe(false);
    expect(notifier.alertRaised(alert('anything', { severity: 'info' }))).toBe(false);
    expect(notifier.alertRaised(alert('backup-failed', { active: false }))).toBe(false);
    expect(shown).toEqual([]);
  });

  it('an unknown kind still gets a plain title and opens the Alerts page', () => {
    const { notifier, shown, opened } = setup(notifiedFile(dir));
    notifier.alertRaised(alert('something-new', { severity: 'critical' }));
    expect(shown[0]?.title).toBe('Bulwark needs your attention now');
    shown[0]!.click();
    expect(opened).toEqual(['alerts']);
  });

  it('a target that is not immutable (protection reason) is notified once per target, not on top of its alert', () => {
    const { notifier, shown } = setup(notifiedFile(dir));
    const reason = {
      code: 'target-not-immutable' as const,
      text: 'The backups on Cloud are not locked.',
      fix: { page: 'targets' as const, label: 'Open Targets' },
    };
    const source = (targetId: string) => ({
      target: { id: targetId, name: 'Cloud', kind: 's3' as const, location: 's3://b' },
      protection: { state: 'at-risk' as const, summary: 'At risk', reasons: [reason] },
    });
    notifier.reasons([source('t1'), source('t1')]);
    notifier.reasons([source('t1')]);
    expect(shown.map((s) => s.body)).toEqual(['The backups on Cloud are not locked.']);
    // t2 has a selftest-failed alert open: that alert was the notification
    notifier.alertRaised(alert('selftest-failed', { targetId: 't2', severity: 'warning' }));
    notifier.reasons([source('t2')]);
    expect(shown).toHaveLength(2);
  });

  it('routine successes are quiet unless the setting asks', () => {
    const quiet = setup(notifiedFile(dir));
    expect(quiet.notifier.backupSucceeded('Documents')).toBe(false);
    expect(quiet.shown).toEqual([]);
    const loud = setup(notifiedFile(dir), true);
    expect(loud.notifier.backupSucceeded('Documents')).toBe(true);
    expect(loud.shown.map((s) => s.body)).toEqual(['Documents is backed up.']);
  });

  it('the service going down is notified once per outage', () => {
    const { notifier, shown } = setup(notifiedFile(dir));
    notifier.serviceDown('exit code 1');
    notifier.serviceDown('exit code 1');
    expect(shown).toHaveLength(1);
    notifier.serviceUp();
    notifier.serviceDown('exit code 1');
    expect(shown).toHaveLength(2);
  });

  it('covers every kind the engine raises with a title or a deliberate silence', () => {
    for (const kind of [
      'backup-failed',
      'rpo-missed',
      'target-unreachable',
      'selftest-failed',
      'lock-invariant-broken',
      'repository-damaged',
      'repository-tampered',
      'source-missing',
    ])
      expect(NOTIFIED_KINDS[kind], kind).toBeDefined();
  });
});
