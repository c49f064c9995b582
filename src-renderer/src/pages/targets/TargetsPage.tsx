import { Cloud, HardDrive, Lock, Plus, ShieldAlert, ShieldCheck } from 'lucide-react';
import { useState } from 'react';

import type { Target } from '../../../../src-main/contract/model.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { targetsSelectors, targetsStore, useTargetsStore } from '../../stores/targets/index.ts';
import { Button } from '../../ui/Button.tsx';
import { Dialog } from '../../ui/Dialog.tsx';
import { formatDate, formatRate } from '../../ui/format.ts';
import { PageHeader } from '../../ui/PageHeader.tsx';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States.tsx';
import { immutabilityLabel, targetKindLabel } from '../../ui/words.ts';

function UsedBy({ targetId }: { targetId: string }) {
  const sources = useSourcesStore(sourcesSelectors.items);
  const names = sources.filter((s) => s.targetId === targetId).map((s) => s.name);
  if (names.length === 0) return <>No folder yet</>;
  return <>{names.join(', ')}</>;
}

function TargetCard({ target }: { target: Target }) {
  const imm = immutabilityLabel(target);
  const ImmIcon = imm.tone === 'success' ? Lock : imm.tone === 'warning' ? ShieldAlert : ShieldCheck;
  const Icon = target.kind === 's3' ? Cloud : HardDrive;
  const titleId = `target-${target.id}`;
  return (
    <article
      className="card target-card"
      aria-labelledby={titleId}
      data-target-id={target.id}
      data-immutability={target.immutability}
    >
      <header className="target-card__header">
        <Icon aria-hidden="true" size={24} className="target-card__icon" />
        <div>
          <h2 id={titleId} className="target-card__title">
            {target.name}
          </h2>
          <p className="target-card__kind">
            {targetKindLabel(target.kind)}
            {target.isDefault ? ' · built in, on this computer' : ''}
          </p>
        </div>
      </header>
      <p className={`target-card__immutability text-${imm.tone}`}>
        <ImmIcon aria-hidden="true" size={18} />
        <span>{imm.long}</span>
      </p>
      <dl className="facts">
        <div>
          <dt>Location</dt>
          <dd className="mono break">{target.location}</dd>
        </div>
        <div>
          <dt>Used by</dt>
          <dd>
            <UsedBy targetId={target.id} />
          </dd>
        </div>
        {target.bytesPerSecond ? (
          <div>
            <dt>Speed limit</dt>
            <dd>{formatRate(target.bytesPerSecond)}</dd>
          </div>
        ) : null}
        <div>
          <dt>Added</dt>
          <dd>{formatDate(target.createdAt)}</dd>
        </div>
      </dl>
    </article>
  );
}

/**
 * Where the backups are kept. "Add target" opens a placeholder for now: the guided setup (a folder or
 * cloud storage, its password, the immutability check) is the target wizard's, built next.
 */
export function TargetsPage() {
  const items = useTargetsStore(targetsSelectors.items);
  const error = useTargetsStore(targetsSelectors.error);
  const initialLoading = useTargetsStore(targetsSelectors.isInitialLoading);
  const empty = useTargetsStore(targetsSelectors.isEmpty);
  const [adding, setAdding] = useState(false);

  let body;
  if (error && items.length === 0)
    body = (
      <ErrorState
        error={error}
        title="Could not load the targets"
        onRetry={() => void targetsStore.getState().load()}
      />
    );
  else if (initialLoading || (items.length === 0 && !empty))
    body = <Skeleton lines={3} label="Loading the targets…" />;
  else if (empty)
    body = (
      <EmptyState icon={HardDrive} title="No place to keep backups yet">
        <p>Add a target: a drive, a network share or cloud storage where nobody can change the backups.</p>
      </EmptyState>
    );
  else
    body = (
      <div className="card-grid card-grid--wide">
        {items.map((t) => (
          <TargetCard key={t.id} target={t} />
        ))}
      </div>
    );

  return (
    <>
      <PageHeader
        title="Targets"
        description="Where Bulwark keeps the backups, and how well they are protected there."
        actions={
          <Button variant="primary" icon={Plus} onPress={() => setAdding(true)}>
            Add target
          </Button>
        }
      />
      {body}
      <Dialog
        isOpen={adding}
        onClose={() => setAdding(false)}
        title="Add a target"
        size="sm"
        footer={
          <Button variant="primary" onPress={() => setAdding(false)}>
            OK
          </Button>
        }
      >
        <p>
          Adding a new place for backups (a network drive, a NAS or cloud storage with immutable backups)
          comes in the next version of Bulwark, with a guided setup that checks nobody can delete the backups
          there.
        </p>
        <p>Until then, backups are kept in the targets listed on this page.</p>
      </Dialog>
    </>
  );
}
