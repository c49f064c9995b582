import type { SourceStatus } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';
export type SaveStatus = 'idle' | 'saving' | 'error';
/** an action on one source that is on its way */
export type SourceAction = 'run' | 'remove' | 'update' | 'pause' | 'resume';

export interface SourcesState {
  status: LoadStatus;
  /** in the service's order (oldest first); kept while a reload runs */
  items: readonly SourceStatus[];
  error: ResultError | undefined;
  /** the "add a folder" form */
  adding: SaveStatus;
  addError: ResultError | undefined;
  busy: Readonly<Record<string, SourceAction>>;
  /** the last failed action per source (run now, remove) */
  actionErrors: Readonly<Record<string, ResultError>>;
}

export const initialState: SourcesState = {
  status: 'idle',
  items: [],
  error: undefined,
  adding: 'idle',
  addError: undefined,
  busy: {},
  actionErrors: {},
};
