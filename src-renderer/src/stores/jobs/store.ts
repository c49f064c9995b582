import { createStore, type StoreApi } from 'zustand/vanilla';

import type { EventOf } from '../../../../src-main/contract/ipc.ts';
import type { JobKind, JobProgress, JobState } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';

export interface JobView {
  jobId: string;
  kind: JobKind | undefined;
  state: JobState;
  progress: JobProgress | undefined;
  error: ResultError | undefined;
}

export interface JobsState {
  byId: Readonly<Record<string, JobView>>;
  /** job ids in the order they were first seen */
  order: readonly string[];
}

export const initialState: JobsState = { byId: {}, order: [] };

export interface JobsActions {
  applyProgress(progress: JobProgress): void;
  applyState(event: EventOf<'bulwark:job.state'>): void;
  /** forgets finished jobs */
  clearFinished(): void;
}

export type JobsStore = JobsState & JobsActions;

const FINAL: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'canceled', 'interrupted']);
export const isFinal = (state: JobState): boolean => FINAL.has(state);

export const jobsSelectors = {
  order: (s: JobsStore) => s.order,
  byId: (s: JobsStore) => s.byId,
  job: (jobId: string) => (s: JobsStore) => s.byId[jobId],
  activeCount: (s: JobsStore) => Object.values(s.byId).filter((job) => !isFinal(job.state)).length,
};

function upsert(s: JobsState, job: JobView): Partial<JobsState> {
  const known = job.jobId in s.byId;
  return { byId: { ...s.byId, [job.jobId]: job }, order: known ? s.order : [...s.order, job.jobId] };
}

/** The jobs a main-side event stream reports. Written only by the event subscriber (stores/events.ts). */
export function createJobsStore(): StoreApi<JobsStore> {
  return createStore<JobsStore>()((set) => ({
    ...initialState,

    applyProgress(progress) {
      set((s) => {
        const job = s.byId[progress.jobId];
        // progress is throttled and may arrive after the final state: a finished job stays finished
        if (job && isFinal(job.state)) return s;
        return upsert(s, {
          jobId: progress.jobId,
          kind: job?.kind,
          state: 'running',
          progress,
          error: undefined,
        });
      });
    },

    applyState(event) {
      set((s) => {
        const job = s.byId[event.jobId];
        return upsert(s, {
          jobId: event.jobId,
          kind: event.kind,
          state: event.state,
          progress: job?.progress,
          error: event.error,
        });
      });
    },

    clearFinished() {
      set((s) => {
        const byId: Record<string, JobView> = {};
        for (const id of s.order) {
          const job = s.byId[id];
          if (job && !isFinal(job.state)) byId[id] = job;
        }
        return { byId, order: s.order.filter((id) => id in byId) };
      });
    },
  }));
}
