import { CalendarX, FolderPlus, RotateCcw } from 'lucide-react';
import { useEffect, useState } from 'react';
import { useStore } from 'zustand';

import { getClient } from '../../api/index.ts';
import { flowStore } from '../../stores/restore/index.ts';
import { hrefOf } from '../../stores/router/index.ts';
import { createSnapshotsStore } from '../../stores/snapshots/store.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { Button, LinkButton } from '../../ui/Button.tsx';
import { Select } from '../../ui/fields.tsx';
import { formatBytes, formatCount, formatExact } from '../../ui/format.ts';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States.tsx';
import { SnapshotPicker } from './SnapshotPicker.tsx';

/** Restore everything: a whole folder as it was at a point in time, guided in three steps. */
export function EverythingTab() {
  const sources = useSourcesStore(sourcesSelectors.items);
  const sourcesEmpty = useSourcesStore(sourcesSelectors.isEmpty);
  const [store] = useState(() => createSnapshotsStore(getClient));
  const snapshots = useStore(store, (s) => s.items);
  const status = useStore(store, (s) => s.status);
  const error = useStore(store, (s) => s.error);
  const [sourceId, setSourceId] = useState<string | undefined>(sources[0]?.id);
  const [snapshotId, setSnapshotId] = useState<string | undefined>();
  const source = sources.find((s) => s.id === sourceId);
  const snapshot = snapshots.find((s) => s.id === snapshotId) ?? snapshots[0];

  useEffect(() => {
    if (sourceId === undefined && sources[0]) setSourceId(sources[0].id);
  }, [sourceId, sources]);
  useEffect(() => {
    if (sourceId === undefined) return;
    setSnapshotId(undefined);
    void store.getState().load({ sourceId });
  }, [sourceId, store]);

  if (sourcesEmpty)
    return (
      <EmptyState
        icon={FolderPlus}
        title="No folder is protected yet"
        action={<LinkButton href={hrefOf('sources')}>Add a folder</LinkButton>}
      >
        <p>Once a folder is backed up, you can bring all of it back from here.</p>
      </EmptyState>
    );

  return (
    <ol className="steps">
      <li className="step">
        <h2 className="step__title">
          <span className="step__number" aria-hidden="true">
            1
          </span>
          Which folder?
        </h2>
        {sourceId !== undefined ? (
          <Select
            label="Folder"
            value={sourceId}
            onChange={setSourceId}
            choices={sources.map((s) => ({ value: s.id, label: s.name }))}
          />
        ) : (
          <Skeleton lines={1} />
        )}
      </li>
      <li className="step">
        <h2 className="step__title">
          <span className="step__number" aria-hidden="true">
            2
          </span>
          As it was when?
        </h2>
        {status === 'loading' ? <Skeleton lines={2} label="Loading the backups…" /> : null}
        {status === 'error' && error ? (
          <ErrorState
            error={error}
            title="Could not list the backups"
            onRetry={() => sourceId && void store.getState().load({ sourceId })}
            compact
            headingLevel={2}
          />
        ) : null}
        {status === 'ready' && snapshots.length === 0 ? (
          <EmptyState
            icon={CalendarX}
            title={`No backups of ${source?.name ?? 'this folder'} yet`}
            headingLevel={2}
          />
        ) : null}
        {status === 'ready' && snapshot ? (
          <SnapshotPicker
            snapshots={snapshots}
            selectedId={snapshot.id}
            onSelect={(s) => setSnapshotId(s.id)}
          />
        ) : null}
      </li>
      <li className="step">
        <h2 className="step__title">
          <span className="step__number" aria-hidden="true">
            3
          </span>
          Where to?
        </h2>
        {snapshot && source ? (
          <>
            <p>
              Everything in <strong>{source.name}</strong> as it was on {formatExact(snapshot.time)}:{' '}
              {formatCount(snapshot.stats.files, 'file')}, {formatBytes(snapshot.stats.bytes)}. You choose the
              place next, and see what will happen before anything is written.
            </p>
            <Button
              variant="primary"
              icon={RotateCcw}
              onPress={() =>
                flowStore.getState().begin({
                  sourceId: source.id,
                  snapshotId: snapshot.id,
                  paths: [''],
                  label: `everything in ${source.name}`,
                  time: snapshot.time,
                })
              }
            >
              Choose where to restore…
            </Button>
          </>
        ) : (
          <p className="muted">Choose a folder and a point in time first.</p>
        )}
      </li>
    </ol>
  );
}
