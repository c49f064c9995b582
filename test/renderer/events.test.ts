import { describe, expect, it } from 'vitest';

import type { EventName, EventOf } from '../../src-main/contract/ipc.ts';
import { ok } from '../../src-main/contract/result.ts';
import type { BulwarkClient } from '../../src-renderer/src/api/client.ts';
import { createAlertsStore } from '../../src-renderer/src/stores/alerts/store.ts';
import { connectEvents } from '../../src-renderer/src/stores/events.ts';
import { createJobsStore } from '../../src-renderer/src/stores/jobs/store.ts';
import { createFlowStore } from '../../src-renderer/src/stores/restore/flow.ts';
import { createServiceStore } from '../../src-renderer/src/stores/service/store.ts';
import { createSnapshotsStore } from '../../src-renderer/src/stores/snapshots/store.ts';
import { createSourcesStore } from '../../src-renderer/src/stores/sources/store.ts';
import { fakeClient } from './fake-client.ts';

const at = '2026-03-01T10:00:00.000Z';

/** A client whose events the test emits; calls stay pending (fakeClient). */
function eventClient() {
  const { client, calls } = fakeClient();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const withEvents: BulwarkClient = {
    ...client,
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const entry = listener as (payload: unknown) => void;
      set.add(entry);
      return () => set.delete(entry);
    },
  };
  const emit = <E extends EventName>(event: E, payload: EventOf<E>) => {
    for (const l of listeners.get(event) ?? []) l(payload);
  };
  const count = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
  return { client: withEvents, calls, emit, count };
}

describe('connectEvents (the one event subscriber)', () => {
  it('feeds every domain store and stops when asked', () => {
    const { client, calls, emit, count } = eventClient();
    const jobs = createJobsStore(() => client);
    const sources = createSourcesStore(() => client);
    const alerts = createAlertsStore(() => client);
    const snapshots = createSnapshotsStore(() => client);
    const stop = connectEvents(client, { jobs, sources, alerts, snapshots });
    expect(count()).toBe(6);

    emit('bulwark:job.state', { jobId: 'j', kind: 'backup', state: 'running', at, sourceId: 's' });
    emit('bulwark:job.progress', {
      jobId: 'j',
      sourceId: 's',
      phase: 'backing-up',
      bytesDone: 5,
      filesDone: 1,
      rate: 1,
    });
    expect(jobs.getState().byId.j).toMatchObject({
      state: 'running',
      sourceId: 's',
      progress: { bytesDone: 5 },
    });
    expect(calls).toHaveLength(0);

    // a finished backup: the history and the snapshot list are fetched again
    emit('bulwark:job.state', {
      jobId: 'j',
      kind: 'backup',
      state: 'succeeded',
      at,
      sourceId: 's',
      snapshotId: 'snap',
    });
    expect(calls.map((c) => c.channel)).toEqual(['bulwark:jobs.list', 'bulwark:snapshots.list']);
    calls[0]?.resolve(ok({ paused: false, jobs: [], history: [] }));

    emit('bulwark:source.changed', {
      sourceId: 's',
      removed: false,
      source: {
        id: 's',
        name: 'Docs',
        paths: ['/d'],
        include: [],
        exclude: [],
        targetId: 'default',
        rpoMinutes: 60,
        quietSeconds: 1,
        rescanMinutes: 60,
        enabled: true,
        createdAt: at,
        protected: true,
        protection: { state: 'protected', summary: 'Protected', reasons: [] },
        rpoState: 'ok',
      },
    });
    expect(sources.getState().items.map((s) => s.name)).toEqual(['Docs']);

    const a = {
      id: 1,
      kind: 'backup-failed',
      severity: 'error',
      text: 'The backup of Docs failed',
      raisedAt: at,
      lastSeenAt: at,
      count: 1,
      active: true,
    } as const;
    emit('bulwark:alert.raised', a);
    emit('bulwark:alert.acknowledged', { ...a, acknowledgedAt: at });
    expect(alerts.getState().items).toMatchObject([{ id: 1, acknowledgedAt: at }]);
    emit('bulwark:alert.cleared', { ...a, active: false, clearedAt: at });
    expect(alerts.getState().items).toMatchObject([{ id: 1, active: false }]);

    stop();
    expect(count()).toBe(0);
  });
  it('asks for the overall answer again when it may have changed, routes restore jobs and announces new alerts', () => {
    const { client, emit } = eventClient();
    const jobs = createJobsStore(() => client);
    let reloads = 0;
    const service = createServiceStore(() => client, {
      setTimer: () => {
        reloads++;
        return 0;
      },
    });
    const restore = createFlowStore(() => client);
    restore.setState({ step: 'running', jobId: 'r1' });
    const announced: string[] = [];
    const stop = connectEvents(client, { jobs, service, restore, onAlertRaised: (t) => announced.push(t) });

    emit('bulwark:job.progress', { jobId: 'r1', phase: 'restoring', bytesDone: 7, filesDone: 1, rate: 1 });
    expect(restore.getState().progress?.bytesDone).toBe(7);
    emit('bulwark:job.state', { jobId: 'b1', kind: 'backup', state: 'running', at, sourceId: 's' });
    expect(reloads).toBe(1);
    const a = {
      id: 2,
      kind: 'rpo-missed',
      severity: 'warning',
      text: 'Office was not backed up for 2 hours',
      raisedAt: at,
      lastSeenAt: at,
      count: 1,
      active: true,
    } as const;
    emit('bulwark:alert.raised', a);
    expect(announced).toEqual(['Office was not backed up for 2 hours']);
    stop();
  });
});
