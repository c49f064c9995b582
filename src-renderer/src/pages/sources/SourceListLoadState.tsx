import type { ReactNode } from 'react';

import { sourcesSelectors, sourcesStore, useSourcesStore } from '../../stores/sources/index.ts';
import { ErrorState, Skeleton } from '../../ui/States.tsx';

/**
 * What a page that lists the sources shows before it has them: the error with a retry when the first load
 * failed, a skeleton while it loads; undefined once there is a list (empty or not) to show.
 */
export function useSourceListLoadState(texts: { errorTitle: string; loadingLabel: string }): ReactNode {
  const hasItems = useSourcesStore((s) => sourcesSelectors.items(s).length > 0);
  const error = useSourcesStore(sourcesSelectors.error);
  const initialLoading = useSourcesStore(sourcesSelectors.isInitialLoading);
  const empty = useSourcesStore(sourcesSelectors.isEmpty);
  if (error && !hasItems)
    return (
      <ErrorState
        error={error}
        title={texts.errorTitle}
        onRetry={() => void sourcesStore.getState().load()}
      />
    );
  if (initialLoading || (!hasItems && !empty)) return <Skeleton lines={4} label={texts.loadingLabel} />;
  return undefined;
}
