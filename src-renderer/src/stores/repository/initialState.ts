import type { RepositoryInfo } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface RepositoryState {
  status: LoadStatus;
  info: RepositoryInfo | undefined;
  error: ResultError | undefined;
}

export const initialState: RepositoryState = {
  status: 'idle',
  info: undefined,
  error: undefined,
};
