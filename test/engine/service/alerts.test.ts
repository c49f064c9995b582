import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import {
  ALERT_FIX,
  ALERT_KINDS,
  AlertCenter,
  DEFAULT_ACTION,
  type Alert,
} from '../../../src-main/engine/service/alerts.ts';
import { tempDir } from './helpers/util.ts';

describe('AlertCenter', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()?.();
  });

  it('raises once per kind and scope, clears, acknowledges, and keeps the history in the catalog', () => {
    const t = tempDir('alerts');
    const path = join(t.dir, 'service.db');
    const clock = new FakeClock();
    let catalog = Catalog.open(path, { clock });
    cleanups.push(() => {
      catalog.close();
      t.cleanup();
    });
    const center = new AlertCenter(catalog, clock);
    const raised: Alert[] = [];
    const cleared: Alert[] = [];
    center.on('alert.raised', (a) => raised.push(a));
    center.on('alert.cleared', (a) => cleared.push(a));

    const a = center.raise({ kind: 'backup-failed', sourceId: 's1', text: 'first' });
    clock.advance(1000);
    const again = center.raise({ kind: 'backup-failed', sourceId: 's1', text: 'second' });
    const other = center.raise({ kind: 'backup-failed', sourceId: 's2', text: 'other source' });
    const target = center.raise({ kind: 'target-unreachable', targetId: 't1', text: 'gone' });
    expect(again.id).toBe(a.id);
    expect(again).toMatchObject({ count: 2, text: 'second', severity: 'error', active: true });
    expect(again.lastSeenAt - again.raisedAt).toBe(1000);
    expect(a.action).toMatch(/Back up now/);
    expect(raised.map((x) => x.id)).toEqual([a.id, other.id, target.id]); // a repeat is not a new alert
    expect(center.list({ active: true })).toHaveLength(3);

    const acked = center.acknowledge(a.id);
    expect(acked.acknowledgedAt).toBe(clock.now().getTime());
    expect(acked.active).toBe(true); // acknowledged is not resolved

    expect(center.clear('backup-failed', { sourceId: 's1' }).map((x) => x.id)).toEqual([a.id]);
    expect(cleared.map((x) => x.id)).toEqual([a.id]);
    expect(center.clear('backup-failed', { sourceId: 's1' })).toEqual([]); // nothing open any more
    // raised again after it was cleared: a new alert
    const b = center.raise({ kind: 'backup-failed', sourceId: 's1', text: 'third' });
    expect(b.id).not.toBe(a.id);

    // persisted: a new process sees the same alerts and history
    catalog.close();
    catalog = Catalog.open(path, { clock });
    const center2 = new AlertCenter(catalog, clock);
    expect(
      center2
        .list({ active: true })
        .map((x) => x.id)
        .sort(),
    ).toEqual([other.id, target.id, b.id].sort());
    expect(center2.list({ active: false }).map((x) => [x.id, x.acknowledgedAt !== null])).toEqual([
      [a.id, true],
    ]);
    expect(center2.list({ sourceId: 's1' })).toHaveLength(2);
    expect(() => center2.acknowledge(9999)).toThrow(/no alert/);
  });

  it('every kind says what to do for a person without a terminal, and links to the page that fixes it', () => {
    for (const kind of ALERT_KINDS) {
      const action = DEFAULT_ACTION[kind];
      expect(action, kind).not.toMatch(
        /`|bulwark (init|verify|serve|backup)|--[a-z]|sudo|sysctl|inotify|\binit\b|creat|Open the last run/i,
      );
      expect(action.length, kind).toBeGreaterThan(40);
      expect(['overview', 'restore', 'sources', 'snapshots', 'targets', 'alerts', 'settings']).toContain(
        ALERT_FIX[kind].page,
      );
    }
    expect(DEFAULT_ACTION['source-missing']).toMatch(/Reconnect the disk or network share.*moved or renamed/);
    expect(DEFAULT_ACTION['target-unreachable']).toMatch(/^Reconnect it/);
  });

  it('an alert carries the page that fixes its kind', () => {
    const t = tempDir('alerts-fix');
    const catalog = Catalog.open(join(t.dir, 'service.db'));
    cleanups.push(() => {
      catalog.close();
      t.cleanup();
    });
    const center = new AlertCenter(catalog, new FakeClock());
    expect(center.raise({ kind: 'source-missing', sourceId: 's', text: 'gone' })).toMatchObject({
      severity: 'error',
      action: DEFAULT_ACTION['source-missing'],
      fix: { page: 'sources', label: 'Open Sources' },
    });
  });
});
