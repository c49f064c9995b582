import { CalendarX, FolderPlus } from 'lucide-react';
import { useEffect } from 'react';

import { hrefOf } from '../../stores/router/index.ts';
import { browseStore, useBrowseStore } from '../../stores/restore/index.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { LinkButton } from '../../ui/Button.tsx';
import { Select } from '../../ui/fields.tsx';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States.tsx';
import { FolderView } from './FolderView.tsx';
import { SnapshotPicker } from './SnapshotPicker.tsx';

/** Browse a point in time: which folder, which backup, then its files. */
export function BrowseTab() {
  const sources = useSourcesStore(sourcesSelectors.items);
  const sourcesEmpty = useSourcesStore(sourcesSelectors.isEmpty);
  const sourceId = useBrowseStore((s) => s.sourceId);
  const snapshots = useBrowseStore((s) => s.snapshots);
  const snapshotId = useBrowseStore((s) => s.snapshotId);
  const source = sources.find((s) => s.id === sourceId);
  const snapshot = snapshots.items.find((s) => s.id === snapshotId);

  // start with the first folder and its newest backup
  useEffect(() => {
    const first = sources[0];
    if (sourceId === undefined && first) void browseStore.getState().chooseSource(first.id);
  }, [sourceId, sources]);
  useEffect(() => {
    const newest = snapshots.items[0];
    if (snapshotId === undefined && snapshots.status === 'ready' && newest)
      void browseStore.getState().chooseSnapshot(newest.id);
  }, [snapshotId, snapshots]);

  if (sourcesEmpty)
    return (
      <EmptyState
        icon={FolderPlus}
        title="No folder is protected yet"
        action={<LinkButton href={hrefOf('sources')}>Add a folder</LinkButton>}
      >
        <p>Once a folder is backed up, you can go back to any of its backups here.</p>
      </EmptyState>
    );

  return (
    <div className="browse">
      <div className="browse__pick">
        {sources.length > 0 && sourceId !== undefined ? (
          <Select
            label="Folder"
            value={sourceId}
            onChange={(id) => void browseStore.getState().chooseSource(id)}
            choices={sources.map((s) => ({ value: s.id, label: s.name }))}
          />
        ) : (
          <Skeleton lines={1} label="Loading the folders…" />
        )}
        {snapshots.status === 'loading' ? <Skeleton lines={3} label="Loading the backups…" /> : null}
        {snapshots.status === 'error' && snapshots.error ? (
          <ErrorState
            error={snapshots.error}
            title="Could not list the backups"
            onRetry={() => void browseStore.getState().reloadSnapshots()}
            compact
            headingLevel={2}
          />
        ) : null}
        {snapshots.status === 'ready' && snapshots.items.length > 0 ? (
          <SnapshotPicker
            snapshots={snapshots.items}
            selectedId={snapshotId}
            onSelect={(s) => void browseStore.getState().chooseSnapshot(s.id)}
          />
        ) : null}
      </div>
      <div className="browse__folder">
        {snapshots.status === 'ready' && snapshots.items.length === 0 ? (
          <EmptyState
            icon={CalendarX}
            title={`No backups of ${source?.name ?? 'this folder'} yet`}
            headingLevel={2}
          >
            <p>The first backup appears here as soon as it is done.</p>
          </EmptyState>
        ) : null}
        {sourceId !== undefined && snapshotId !== undefined ? (
          <FolderView
            sourceId={sourceId}
            snapshotId={snapshotId}
            rootName={source?.name ?? 'Backup'}
            time={snapshot?.time}
          />
        ) : null}
      </div>
    </div>
  );
}
