import { describe, expect, it } from 'vitest';

import type { Job, JobProgress } from '../../src-main/contract/model.ts';
import { err, ok } from '../../src-main/contract/result.ts';
import { createJobsStore, jobsSelectors as sel } from '../../src-renderer/src/stores/jobs/store.ts';
import { fakeClient } from './fake-client.ts';

const progress = (jobId: string, bytesDone: number): JobProgress => ({
  jobId,
  phase: 'backing-up',
  bytesDone,
  bytesTotal: 1000,
  filesDone: 1,
  rate: 10,
});
const at = '2026-03-01T10:00:00Z';

describe('useJobsStore', () => {
  it('tracks jobs from state and progress events, in first-seen order', () => {
    const store = createJobsStore(() => fakeClient().client);
    const { applyState, applyProgress } = store.getState();
    applyState({ jobId: 'j1', kind: 'backup', state: 'queued', at });
    applyProgress(progress('j2', 5));
    applyProgress(progress('j1', 50));
    const s = store.getState();
    expect(sel.order(s)).toEqual(['j1', 'j2']);
    expect(sel.job('j1')(s)).toMatchObject({ kind: 'backup', state: 'running', progress: { bytesDone: 50 } });
    expect(sel.job('j2')(s)).toMatchObject({ kind: undefined, state: 'running' });
    expect(sel.activeCount(s)).toBe(2);
  });

  it('a late progress event does not revive a finished job', () => {
    const store = createJobsStore(() => fakeClient().client);
    store.getState().applyProgress(progress('j1', 900));
    store.getState().applyState({
      jobId: 'j1',
      kind: 'backup',
      state: 'failed',
      at,
      error: { code: 'NETWORK', message: 'bucket unreachable' },
    });
    store.getState().applyProgress(progress('j1', 950));
    const job = sel.job('j1')(store.getState());
    expect(job?.state).toBe('failed');
    expect(job?.progress?.bytesDone).toBe(900);
    expect(job?.error?.code).toBe('NETWORK');
    expect(sel.activeCount(store.getState())).toBe(0);
  });

  it('clearFinished forgets finished jobs and keeps running ones', () => {
    const store = createJobsStore(() => fakeClient().client);
    store.getState().applyState({ jobId: 'done', kind: 'backup', state: 'succeeded', at });
    store.getState().applyState({ jobId: 'busy', kind: 'verify', state: 'running', at });
    store.getState().applyState({ jobId: 'gone', kind: 'backup', state: 'interrupted', at });
    store.getState().clearFinished();
    expect(sel.order(store.getState())).toEqual(['busy']);
    expect(Object.keys(sel.byId(store.getState()))).toEqual(['busy']);
  });
});

const job = (id: string, state: Job['state'], extra: Partial<Job> = {}): Job => ({
  id,
  kind: 'backup',
  sourceId: 'src-1',
  reason: 'watch',
  state,
  changes: 3,
  queuedAt: at,
  ...extra,
});

describe('useJobsStore with the service', () => {
  it('load: takes the jobs, the pause state and the history; a finished job stays finished', async () => {
    const { client, calls } = fakeClient();
    const store = createJobsStore(() => client);
    store.getState().applyState({ jobId: 'old', kind: 'backup', state: 'succeeded', at });
    const loading = store.getState().load();
    expect(calls.map((c) => [c.channel, c.request])).toEqual([['bulwark:jobs.list', { historyLimit: 20 }]]);
    expect(sel.status(store.getState())).toBe('loading');
    calls[0]?.resolve(
      ok({
        paused: true,
        jobs: [
          job('run', 'running', { progress: progress('run', 10) }),
          job('wait', 'queued'),
          job('old', 'running'),
        ],
        history: [{ runId: 7, state: 'succeeded', startedAt: at, sourceId: 'src-1', files: 2 }],
      }),
    );
    await loading;
    const s = store.getState();
    expect(sel.status(s)).toBe('ready');
    expect(sel.paused(s)).toBe(true);
    expect(sel.history(s).map((r) => r.runId)).toEqual([7]);
    expect(sel.job('run')(s)).toMatchObject({ state: 'running', sourceId: 'src-1', reason: 'watch' });
    expect(sel.job('old')(s)?.state).toBe('succeeded');
    expect(sel.progressOfSource('src-1')(s)?.bytesDone).toBe(10);
    expect(sel.runningCount(s)).toBe(1);
  });

  it('cancel, pauseAll and resumeAll call the service and keep its answer; a refusal is shown', async () => {
    const { client, calls } = fakeClient();
    const store = createJobsStore(() => client);
    store.getState().applyProgress(progress('j1', 5));
    const canceling = store.getState().cancel('j1');
    expect(sel.pending(store.getState())).toBe(true);
    calls[0]?.resolve(ok({ job: job('j1', 'canceling') }));
    await canceling;
    expect(sel.job('j1')(store.getState())).toMatchObject({ state: 'canceling', progress: { bytesDone: 5 } });
    // a late progress event keeps it canceling
    store.getState().applyProgress(progress('j1', 6));
    expect(sel.job('j1')(store.getState())?.state).toBe('canceling');

    const pausing = store.getState().pauseAll();
    calls[1]?.resolve(ok({ paused: true }));
    await pausing;
    expect(sel.paused(store.getState())).toBe(true);
    const resuming = store.getState().resumeAll();
    calls[2]?.resolve(err('CANCELED', 'the backup service is stopped'));
    await resuming;
    expect(sel.paused(store.getState())).toBe(true);
    expect(sel.actionError(store.getState())?.code).toBe('CANCELED');
    expect(sel.pending(store.getState())).toBe(false);
    expect(calls.map((c) => c.channel)).toEqual([
      'bulwark:jobs.cancel',
      'bulwark:jobs.pauseAll',
      'bulwark:jobs.resumeAll',
    ]);
  });
});
