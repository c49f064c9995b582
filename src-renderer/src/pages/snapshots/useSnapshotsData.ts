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
 */
export function useChannel<C extends ChannelName>(
  channel: C,
  request: RequestOf<C> | undefined,
): Loaded<ResponseOf<C>> {
  const [value, setValue] = useState<ResponseOf<C> | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ResultError | undefined>(undefined);
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  const key = request === undefined ? undefined : JSON.stringify(request);

  useEffect(() => {
    if (key === undefined) {
      setValue(undefined);
      return;
    }
    const ticket = ++latest.current;
    setLoading(true);
    void getClient()
      .call(channel, JSON.parse(key) as RequestOf<C>)
      .then((r) => {
        if (ticket !== latest.current) return;
        setLoading(false);
        if (r.ok) {
          setValue(r.value);
          setError(undefined);
        } else setError(r.error);
      });
  }, [channel, key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { value, loading, error, reload };
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
