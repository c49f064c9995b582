import { CloudUpload, FolderPlus, Pause, Pencil, Play, Trash2 } from 'lucide-react';
import { useState } from 'react';

import type { SourceStatus } from '../../../../src-main/contract/model.ts';
import { isActive } from '../../stores/jobs/index.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { sourcesSelectors, sourcesStore, useSourcesStore } from '../../stores/sources/index.ts';
import { targetsSelectors, useTargetsStore } from '../../stores/targets/index.ts';
import { Button, IconButton } from '../../ui/Button.tsx';
import { ConfirmDialog } from '../../ui/Dialog.tsx';
import { PageHeader } from '../../ui/PageHeader.tsx';
import { clampPage, Pagination } from '../../ui/Pagination.tsx';
import { RelativeTime } from '../../ui/RelativeTime.tsx';
import { EmptyState, InlineError } from '../../ui/States.tsx';
import { StatusBadge } from '../../ui/StatusBadge.tsx';
import { PROTECTION_LABEL, scheduleLabel, watchLabel } from '../../ui/words.ts';
import { PROTECTION_TONE } from '../protection.ts';
import { DrillPanel } from './DrillPanel.tsx';
import { SourceFormDialog } from './SourceFormDialog.tsx';
import { useSourceListLoadState } from './SourceListLoadState.tsx';

export const SOURCES_PAGE_SIZE = 20;

function SourceRow({
  sourceId,
  onEdit,
  onRemove,
}: {
  sourceId: string;
  onEdit: (s: SourceStatus) => void;
  onRemove: (s: SourceStatus) => void;
}) {
  const source = useSourcesStore(sourcesSelectors.source(sourceId));
  const busy = useSourcesStore(sourcesSelectors.busy(sourceId));
  const actionError = useSourcesStore(sourcesSelectors.actionError(sourceId));
  const target = useTargetsStore(targetsSelectors.target(source?.targetId));
  if (!source) return null;
  const { name } = source;
  const job = source.job;
  const working = job !== undefined && (isActive(job.state) || job.state === 'queued');
  const titleId = `row-${source.id}`;

  async function runNow() {
    await sourcesStore.getState().runNow(sourceId);
    if (!sourcesStore.getState().actionErrors[sourceId])
      notifyStore.getState().toast(`Backup of ${name} started`);
  }
  async function toggle() {
    const enable = !source?.enabled;
    await sourcesStore.getState().setEnabled(sourceId, enable);
    if (!sourcesStore.getState().actionErrors[sourceId])
      notifyStore
        .getState()
        .toast(enable ? `${name} is protected again` : `${name} is paused`, enable ? 'success' : 'warning');
  }

  return (
    <li
      className="source-row"
      aria-labelledby={titleId}
      data-source-id={source.id}
      data-protection={source.protection.state}
    >
      <div className="source-row__main">
        <div className="source-row__head">
          <h2 id={titleId} className="source-row__title">
            {name}
          </h2>
          <StatusBadge tone={PROTECTION_TONE[source.protection.state]}>
            {PROTECTION_LABEL[source.protection.state]}
          </StatusBadge>
          {!source.enabled ? (
            <StatusBadge tone="neutral" icon={Pause}>
              Paused
            </StatusBadge>
          ) : null}
        </div>
        <ul className="source-row__paths" aria-label={`Folders of ${name}`}>
          {source.paths.map((p) => (
            <li key={p} className="mono">
              {p}
            </li>
          ))}
        </ul>
        <p className="source-row__facts">
          <span>{scheduleLabel(source.rpoMinutes)}</span>
          {source.watch ? <span>{watchLabel(source.watch.mode, source.rescanMinutes)}</span> : null}
          {target ? <span>Backups go to: {target.name}</span> : null}
          <span>
            {source.lastSnapshotAt ? (
              <RelativeTime iso={source.lastSnapshotAt} prefix="Last backup " />
            ) : (
              'Not backed up yet'
            )}
          </span>
          {working ? <span>{job?.state === 'queued' ? 'Waiting to start' : 'Backing up now'}</span> : null}
        </p>
        {source.protection.reasons.length > 0 ? (
          <ul
            className="source-row__reasons"
            aria-label={`Why ${name} is ${PROTECTION_LABEL[source.protection.state].toLowerCase()}`}
          >
            {source.protection.reasons.map((r) => (
              <li key={r.code} className="source-row__reason" data-code={r.code}>
                {r.text}
              </li>
            ))}
          </ul>
        ) : null}
        {actionError ? <InlineError error={actionError} /> : null}
        <DrillPanel source={source} />
      </div>
      <div className="source-row__actions">
        <Button
          size="sm"
          icon={CloudUpload}
          onPress={() => void runNow()}
          isDisabled={working || !source.enabled}
          isPending={busy === 'run'}
        >
          {`Back up ${name} now`}
        </Button>
        <IconButton icon={Pencil} label={`Change ${name}`} onPress={() => onEdit(source)} />
        <IconButton
          icon={source.enabled ? Pause : Play}
          label={source.enabled ? `Pause ${name}` : `Resume ${name}`}
          onPress={() => void toggle()}
          isDisabled={busy !== undefined}
        />
        <IconButton
          icon={Trash2}
          label={`Remove ${name}`}
          onPress={() => onRemove(source)}
          isDisabled={busy !== undefined}
        />
      </div>
    </li>
  );
}

export function SourcesPage() {
  const items = useSourcesStore(sourcesSelectors.items);
  const empty = useSourcesStore(sourcesSelectors.isEmpty);
  const loadState = useSourceListLoadState({
    errorTitle: 'Could not load the folders',
    loadingLabel: 'Loading the folders…',
  });
  const [page, setPage] = useState(0);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<SourceStatus | undefined>();
  const [removing, setRemoving] = useState<SourceStatus | undefined>();
  const [removePending, setRemovePending] = useState(false);

  const current = clampPage(page, SOURCES_PAGE_SIZE, items.length);
  const shown = items.slice(current * SOURCES_PAGE_SIZE, (current + 1) * SOURCES_PAGE_SIZE);

  async function confirmRemove() {
    if (!removing) return;
    setRemovePending(true);
    await sourcesStore.getState().remove(removing.id);
    setRemovePending(false);
    if (!sourcesStore.getState().actionErrors[removing.id])
      notifyStore.getState().toast(`${removing.name} is no longer protected. Its backups are kept.`, 'info');
    setRemoving(undefined);
  }

  let body;
  if (loadState) body = loadState;
  else if (empty)
    body = (
      <EmptyState
        icon={FolderPlus}
        title="Add the first folder to protect"
        action={
          <Button variant="primary" icon={FolderPlus} onPress={() => setAdding(true)}>
            Add a folder
          </Button>
        }
      >
        <p>A folder can be on this computer or on a network share. You can add as many as you like.</p>
      </EmptyState>
    );
  else
    body = (
      <>
        <ul className="source-list" aria-label="Protected folders">
          {shown.map((s) => (
            <SourceRow key={s.id} sourceId={s.id} onEdit={setEditing} onRemove={setRemoving} />
          ))}
        </ul>
        <Pagination
          page={current}
          pageSize={SOURCES_PAGE_SIZE}
          total={items.length}
          onChange={setPage}
          label="Pages of folders"
        />
      </>
    );

  return (
    <>
      <PageHeader
        title="Sources"
        description="The folders Bulwark protects, and how often."
        actions={
          items.length > 0 ? (
            <Button variant="primary" icon={FolderPlus} onPress={() => setAdding(true)}>
              Add a folder
            </Button>
          ) : undefined
        }
      />
      {body}
      <SourceFormDialog isOpen={adding} onClose={() => setAdding(false)} />
      <SourceFormDialog
        isOpen={editing !== undefined}
        onClose={() => setEditing(undefined)}
        source={editing}
      />
      <ConfirmDialog
        isOpen={removing !== undefined}
        onCancel={() => setRemoving(undefined)}
        onConfirm={() => void confirmRemove()}
        title={removing ? `Stop protecting ${removing.name}?` : 'Stop protecting?'}
        confirmLabel={removing ? `Remove ${removing.name}` : 'Remove'}
        isPending={removePending}
      >
        <p>
          Bulwark stops backing up {removing?.name ?? 'this folder'}. Nothing on your computer is deleted, and
          the backups already made are kept: you can still restore them until their retention ends.
        </p>
      </ConfirmDialog>
    </>
  );
}
