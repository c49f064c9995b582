import { describe, expect, it } from 'vitest';

import type { JobProgress } from '../../src-main/contract/model.ts';
import { createJobsStore, jobsSelectors as sel } from '../../src-renderer/src/stores/jobs/store.ts';

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
    const store = createJobsStore();
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
    const store = createJobsStore();
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
    const store = createJobsStore();
    store.getState().applyState({ jobId: 'done', kind: 'backup', state: 'succeeded', at });
    store.getState().applyState({ jobId: 'busy', kind: 'verify', state: 'running', at });
    store.getState().applyState({ jobId: 'gone', kind: 'backup', state: 'interrupted', at });
    store.getState().clearFinished();
    expect(sel.order(store.getState())).toEqual(['busy']);
    expect(Object.keys(sel.byId(store.getState()))).toEqual(['busy']);
  });
});
