import type { SnapshotSummary } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface SnapshotsState {
  status: LoadStatus;
  /** newest first; kept while a reload is running */
  items: readonly SnapshotSummary[];
  error: ResultError | undefined;
}

export const initialState: SnapshotsState = {
  status: 'idle',
  items: [],
  error: undefined,
};
