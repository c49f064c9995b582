import { useCallback, useEffect, useRef, useState } from 'react';

import type { ChannelName, RequestOf, ResponseOf } from '../../../../src-main/contract/ipc.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import { getClient } from '../../api/index.ts';

/** What one call to the service gives a page: its answer, whether it is loading, the error in full. */
export interface Loaded<T> {
  value: T | undefined;
  loading: boolean;
  error: ResultError | undefined;
  reload: () => void;
}

/**
 * Calls a channel when the request changes (keyed by its JSON) and keeps the latest answer; an answer to
 * an older request that arrives late is dropped. `request: undefined` calls nothing (nothing chosen yet).
 * The answer kept is that of the request it was asked for: from the render in which the request changes
 * (a choice clicked), `loading` is true until the new answer is in, and an older request's error is not
 * this one's, so nobody reads a preview of settings no longer chosen as the preview of the new ones.
 */
export function useChannel<C extends ChannelName>(
  channel: C,
  request: RequestOf<C> | undefined,
): Loaded<ResponseOf<C>> {
  const [answer, setAnswer] = useState<{ key: string; value: ResponseOf<C> } | undefined>(undefined);
  const [failure, setFailure] = useState<{ key: string; error: ResultError } | undefined>(undefined);
  const [pending, setPending] = useState(false);
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  const key = request === undefined ? undefined : JSON.stringify(request);

  useEffect(() => {
    if (key === undefined) {
      setAnswer(undefined);
      return;
    }
    const ticket = ++latest.current;
    setPending(true);
    void getClient()
      .call(channel, JSON.parse(key) as RequestOf<C>)
      .then((r) => {
        if (ticket !== latest.current) return;
        setPending(false);
        if (r.ok) {
          setAnswer({ key, value: r.value });
          setFailure(undefined);
        } else setFailure({ key, error: r.error });
      });
  }, [channel, key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const answered = key !== undefined && (answer?.key === key || failure?.key === key);
  return {
    value: answer?.value,
    loading: pending || (key !== undefined && !answered),
    error: failure !== undefined && failure.key === key ? failure.error : undefined,
    reload,
  };
}

/** One action's call: its pending state and error, for a button and the message under it. */
export function useAction<C extends ChannelName>(
  channel: C,
): {
  run: (request: RequestOf<C>) => Promise<ResponseOf<C> | undefined>;
  pending: boolean;
  error: ResultError | undefined;
  clearError: () => void;
} {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ResultError | undefined>(undefined);
  const run = useCallback(
    async (request: RequestOf<C>) => {
      setPending(true);
      setError(undefined);
      const r = await getClient().call(channel, request);
      setPending(false);
      if (r.ok) return r.value;
      setError(r.error);
      return undefined;
    },
    [channel],
  );
  return { run, pending, error, clearError: useCallback(() => setError(undefined), []) };
}
