import { describe, expect, it } from 'vitest';

import type { Alert } from '../../src-main/contract/model.ts';
import { err, ok } from '../../src-main/contract/result.ts';
import { alertsSelectors as sel, createAlertsStore } from '../../src-renderer/src/stores/alerts/store.ts';
import { fakeClient } from './fake-client.ts';

const at = '2026-03-01T10:00:00.000Z';

function alert(id: number, extra: Partial<Alert> = {}): Alert {
  return {
    id,
    kind: 'rpo-missed',
    severity: 'warning',
    sourceId: 's1',
    text: 'Docs was last backed up 2 h ago.',
    action: 'Choose "Back up now".',
    raisedAt: at,
    lastSeenAt: at,
    count: 1,
    active: true,
    ...extra,
  };
}

describe('useAlertsStore', () => {
  it('load keeps alerts newest first and counts open, unacknowledged and history', async () => {
    const { client, calls } = fakeClient();
    const store = createAlertsStore(() => client);
    const loading = store.getState().load();
    expect(calls[0]?.request).toEqual({ limit: 200 });
    calls[0]?.resolve(
      ok({
        alerts: [
          alert(1, { active: false, clearedAt: at }),
          alert(3, { acknowledgedAt: at }),
          alert(2, { kind: 'backup-failed', severity: 'error' }),
        ],
      }),
    );
    await loading;
    const s = store.getState();
    expect(sel.items(s).map((a) => a.id)).toEqual([3, 2, 1]);
    expect(sel.activeCount(s)).toBe(2);
    expect(sel.unacknowledgedCount(s)).toBe(1);
    expect(sel.historyCount(s)).toBe(1);
  });

  it('events raise, clear and acknowledge alerts in place', () => {
    const store = createAlertsStore(() => fakeClient().client);
    store.getState().applyAlert(alert(5));
    store.getState().applyAlert(alert(6, { kind: 'target-unreachable', severity: 'error' }));
    store.getState().applyAlert(alert(5, { active: false, clearedAt: at }));
    const s = store.getState();
    expect(sel.items(s).map((a) => [a.id, a.active])).toEqual([
      [6, true],
      [5, false],
    ]);
    expect(sel.activeCount(s)).toBe(1);
  });

  it('acknowledge: pending, then the answer; a refusal is shown', async () => {
    const { client, calls } = fakeClient();
    const store = createAlertsStore(() => client);
    store.getState().applyAlert(alert(9));
    const acking = store.getState().acknowledge(9);
    expect(sel.acknowledging(9)(store.getState())).toBe(true);
    expect(calls[0]).toMatchObject({ channel: 'bulwark:alerts.acknowledge', request: { alertId: 9 } });
    calls[0]?.resolve(ok({ alert: alert(9, { acknowledgedAt: at }) }));
    await acking;
    expect(sel.acknowledging(9)(store.getState())).toBe(false);
    expect(sel.unacknowledgedCount(store.getState())).toBe(0);

    const failing = store.getState().acknowledge(10);
    calls[1]?.resolve(err('NOT_FOUND', 'no alert 10'));
    await failing;
    expect(sel.actionError(store.getState())?.code).toBe('NOT_FOUND');
  });

  it('an alert raised or cleared while the list was on its way is not taken back by it', async () => {
    const { client, calls } = fakeClient();
    const store = createAlertsStore(() => client);
    const loading = store.getState().load();
    store.getState().applyAlert(alert(5, { kind: 'backup-failed', severity: 'error' }));
    store.getState().applyAlert(alert(2, { active: false, clearedAt: at }));
    calls[0]?.resolve(ok({ alerts: [alert(2), alert(1)] })); // computed before both
    await loading;
    const items = sel.items(store.getState());
    expect(items.map((a) => a.id)).toEqual([5, 2, 1]);
    expect(items.find((a) => a.id === 2)?.active).toBe(false);
    expect(sel.activeCount(store.getState())).toBe(2);
  });
});
