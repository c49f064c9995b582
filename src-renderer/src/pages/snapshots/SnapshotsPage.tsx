import { Archive, PauseCircle, PlayCircle, ShieldCheck } from 'lucide-react';
import { useEffect, useState } from 'react';

import type { SnapshotSummary, SourceStatus, Target } from '../../../../src-main/contract/model.ts';
import type { LockTier, MaintenanceTarget } from '../../../../src-main/contract/retention.ts';
import { hrefOf } from '../../stores/router/index.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { targetsSelectors, useTargetsStore } from '../../stores/targets/index.ts';
import { Button, LinkButton } from '../../ui/Button.tsx';
import { Card } from '../../ui/Card.tsx';
import { ConfirmDialog } from '../../ui/Dialog.tsx';
import { Select, Switch } from '../../ui/fields.tsx';
import { PageHeader } from '../../ui/PageHeader.tsx';
import { Pagination } from '../../ui/Pagination.tsx';
import { RelativeTime } from '../../ui/RelativeTime.tsx';
import { EmptyState, ErrorState, InlineError, Skeleton } from '../../ui/States.tsx';
import { StatusBadge } from '../../ui/StatusBadge.tsx';
import { formatDate, formatExact } from '../../ui/format.ts';
import { RetentionCard } from './RetentionCard.tsx';
import { useAction, useChannel } from './useSnapshotsData.ts';
import './snapshots.css';

const PAGE_SIZE = 20;

/** "Kept as" words for a tier. */
export const TIER_LABEL: Record<LockTier, string> = {
  daily: 'Daily',
  weekly: 'Weekly',
  monthly: 'Monthly',
  yearly: 'Yearly',
};

/** The exact time on hover and for screen readers, the date on screen. */
function When({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {formatExact(iso)}
    </time>
  );
}

function ProtectedUntil({ snapshot, lockable }: { snapshot: SnapshotSummary; lockable: boolean }) {
  if (!lockable) return <span className="snapshots__muted">Not locked (folder)</span>;
  if (!snapshot.protectedUntil) return <span className="snapshots__muted">Not checked yet</span>;
  const ended = Date.parse(snapshot.protectedUntil) <= Date.now();
  return ended ? (
    <span className="snapshots__muted">Lock ended {formatDate(snapshot.protectedUntil)}</span>
  ) : (
    <time dateTime={snapshot.protectedUntil} title={formatExact(snapshot.protectedUntil)}>
      {formatDate(snapshot.protectedUntil)}
    </time>
  );
}

/** The last lock check of the target, its next one, "Check now"; the clean-up (prune) and its pause. */
function UpkeepCard({
  target,
  upkeep,
  prunePaused,
  pruneReason,
  onChanged,
}: {
  target: Target;
  upkeep: MaintenanceTarget | undefined;
  prunePaused: boolean;
  pruneReason: string | undefined;
  onChanged: () => void;
}) {
  const check = useAction('bulwark:maintenance.checkLocks');
  const pause = useAction('bulwark:maintenance.pausePrune');
  const resume = useAction('bulwark:maintenance.resumePrune');
  const [confirmResume, setConfirmResume] = useState(false);
  const lockable = target.immutability === 'object-lock';
  const lc = upkeep?.lockCheck;
  return (
    <Card title={`Lock check of ${target.name}`} headingLevel={2} data-testid="lock-check">
      {!lockable ? (
        <p className="snapshots__note">
          {target.name} is a folder: its backups are not locked by a storage service, so there are no locks to
          check. Bulwark detects changes to them instead.
        </p>
      ) : lc ? (
        <div className="upkeep__row">
          <StatusBadge tone={lc.ok ? 'success' : 'danger'}>
            {lc.ok ? 'Locked as promised' : 'Problem found'}
          </StatusBadge>
          <p className="upkeep__text">
            {lc.summary} Checked <RelativeTime iso={lc.checkedAt} />.
          </p>
        </div>
      ) : (
        <p className="snapshots__note">
          Not checked yet. Bulwark checks the locks of every backup once a day.
        </p>
      )}
      {upkeep?.lockCheckError ? (
        <p className="snapshots__note">The last check could not run: {upkeep.lockCheckError}.</p>
      ) : null}
      {lockable ? (
        <div className="upkeep__actions">
          {upkeep?.nextLockCheckAt ? (
            <span className="snapshots__muted">
              Next check <RelativeTime iso={upkeep.nextLockCheckAt} />
            </span>
          ) : null}
          <Button
            size="sm"
            icon={ShieldCheck}
            isPending={check.pending}
            onPress={() =>
              void check.run({ targetId: target.id }).then((r) => r && setTimeout(onChanged, 1500))
            }
          >
            Check locks now
          </Button>
        </div>
      ) : null}
      {check.error ? <InlineError error={check.error} prefix="Could not start the check" /> : null}

      <h3 className="upkeep__heading">Clean-up of old backups</h3>
      <div className="upkeep__row">
        <StatusBadge tone={prunePaused ? 'warning' : 'success'}>
          {prunePaused ? 'Paused' : 'Weekly'}
        </StatusBadge>
        <p className="upkeep__text">
          {prunePaused
            ? `Nothing is deleted while the clean-up is paused${pruneReason ? ` (${pruneReason})` : ''}. Backups still run.`
            : 'Once a week Bulwark frees the space of backups your settings no longer keep, never before their lock ends.'}{' '}
          {upkeep?.lastPrune && upkeep.lastPruneAt ? (
            <>
              Last clean-up <RelativeTime iso={upkeep.lastPruneAt} />: {upkeep.lastPrune}
            </>
          ) : null}
        </p>
      </div>
      <div className="upkeep__actions">
        {prunePaused ? (
          <Button
            size="sm"
            icon={PlayCircle}
            isPending={resume.pending}
            onPress={() => setConfirmResume(true)}
          >
            Resume clean-up
          </Button>
        ) : (
          <Button
            size="sm"
            icon={PauseCircle}
            isPending={pause.pending}
            onPress={() => void pause.run({ reason: 'paused from the app' }).then(onChanged)}
          >
            Pause clean-up
          </Button>
        )}
      </div>
      {pause.error ? <InlineError error={pause.error} prefix="Could not pause" /> : null}
      {resume.error ? <InlineError error={resume.error} prefix="Could not resume" /> : null}
      <ConfirmDialog
        isOpen={confirmResume}
        onCancel={() => setConfirmResume(false)}
        onConfirm={() =>
          void resume.run({}).then(() => {
            setConfirmResume(false);
            onChanged();
          })
        }
        title="Resume the clean-up?"
        confirmLabel="Resume clean-up"
        variant="primary"
        isPending={resume.pending}
      >
        <p>
          The weekly clean-up deletes backups your settings no longer keep, once their lock has ended. If the
          clean-up was paused because of an incident, make sure it has been dealt with first.
        </p>
      </ConfirmDialog>
    </Card>
  );
}

function SnapshotTable({ source, target }: { source: SourceStatus; target: Target }) {
  const [page, setPage] = useState(0);
  const list = useChannel('bulwark:snapshots.list', {
    sourceId: source.id,
    offset: page * PAGE_SIZE,
    limit: PAGE_SIZE,
  });
  const hold = useAction('bulwark:snapshots.legalHold');
  const [asking, setAsking] = useState<{ snapshot: SnapshotSummary; on: boolean } | undefined>(undefined);
  const lockable = target.immutability === 'object-lock';

  useEffect(() => setPage(0), [source.id]);

  if (list.error && !list.value)
    return <ErrorState error={list.error} title="Could not load the backups" onRetry={list.reload} />;
  if (!list.value) return <Skeleton lines={4} label="Loading the backups…" />;
  const { snapshots, total = snapshots.length } = list.value;
  if (total === 0)
    return (
      <EmptyState icon={Archive} title="No backups yet" headingLevel={3}>
        <p>
          {source.name} has not been backed up yet. Its backups appear here, newest first, after the first
          one.
        </p>
      </EmptyState>
    );
  return (
    <>
      {hold.error ? <InlineError error={hold.error} prefix="Could not change the legal hold" /> : null}
      <div className="snapshots__scroll">
        <table className="snapshots__table" aria-label={`Backups of ${source.name}`}>
          <thead>
            <tr>
              <th scope="col">Backup</th>
              <th scope="col">Protected until</th>
              <th scope="col">Kept as</th>
              <th scope="col">Legal hold</th>
            </tr>
          </thead>
          <tbody>
            {snapshots.map((s) => (
              <tr key={s.id} data-snapshot-id={s.id}>
                <th scope="row" className="snapshots__when">
                  <When iso={s.time} />
                  <span className="snapshots__muted">
                    {s.stats.files.toLocaleString('en')} {s.stats.files === 1 ? 'file' : 'files'}
                  </span>
                </th>
                <td data-col="protected-until">
                  <ProtectedUntil snapshot={s} lockable={lockable} />
                </td>
                <td>{s.tier ? TIER_LABEL[s.tier] : <span className="snapshots__muted">—</span>}</td>
                <td>
                  <Switch
                    isSelected={s.held === true}
                    isDisabled={!lockable || hold.pending}
                    onChange={(on) => setAsking({ snapshot: s, on })}
                  >
                    <span className="visually-hidden">Legal hold on the backup of {formatExact(s.time)}</span>
                    <span aria-hidden="true">{s.held ? 'On' : 'Off'}</span>
                  </Switch>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!lockable ? (
        <p className="snapshots__note">
          Legal holds need a storage bucket with Object Lock; {target.name} is a folder.
        </p>
      ) : null}
      <Pagination page={page} pageSize={PAGE_SIZE} total={total} onChange={setPage} label="Backup pages" />
      <ConfirmDialog
        isOpen={asking !== undefined}
        onCancel={() => setAsking(undefined)}
        onConfirm={() => {
          const a = asking;
          if (!a) return;
          void hold.run({ sourceId: source.id, snapshotId: a.snapshot.id, on: a.on }).then(() => {
            setAsking(undefined);
            list.reload();
          });
        }}
        title={asking?.on ? 'Put this backup under legal hold?' : 'Lift the legal hold?'}
        confirmLabel={asking?.on ? 'Put under legal hold' : 'Lift legal hold'}
        variant={asking?.on ? 'primary' : 'danger'}
        isPending={hold.pending}
      >
        {asking?.on ? (
          <p>
            The backup of {asking ? formatExact(asking.snapshot.time) : ''} and every file it needs will be
            kept on {target.name}, whatever your settings say, until the hold is lifted. Use it for a lawsuit,
            an audit or an investigation.
          </p>
        ) : (
          <p>
            The backup of {asking ? formatExact(asking.snapshot.time) : ''} will again be kept only as long as
            your settings and its lock say. Files another held backup needs stay held.
          </p>
        )}
      </ConfirmDialog>
    </>
  );
}

export function SnapshotsPage() {
  const sources = useSourcesStore(sourcesSelectors.items);
  const sourcesLoading = useSourcesStore(sourcesSelectors.isInitialLoading);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const source = sources.find((s) => s.id === chosen) ?? sources[0];
  const target = useTargetsStore(targetsSelectors.target(source?.targetId));
  const status = useChannel('bulwark:maintenance.status', {});

  if (sourcesLoading)
    return (
      <>
        <PageHeader title="Snapshots" />
        <Skeleton lines={4} label="Loading…" />
      </>
    );
  if (!source)
    return (
      <>
        <PageHeader title="Snapshots" />
        <EmptyState icon={Archive} title="No folders yet" headingLevel={2}>
          <p>Add a folder on the Sources page; its backups and how long they are kept are shown here.</p>
          <LinkButton href={hrefOf('sources')} variant="primary">
            Open Sources
          </LinkButton>
        </EmptyState>
      </>
    );
  const upkeep = status.value?.targets.find((t) => t.targetId === source.targetId);
  return (
    <>
      <PageHeader
        title="Snapshots"
        description="Every backup of a folder, until when nobody can delete it, and how long backups are kept."
      />
      {sources.length > 1 ? (
        <div className="snapshots__picker">
          <Select
            label="Folder"
            value={source.id}
            onChange={setChosen}
            choices={sources.map((s) => ({ value: s.id, label: s.name }))}
          />
        </div>
      ) : null}
      <div className="snapshots__grid">
        <Card
          title={`Backups of ${source.name}`}
          headingLevel={2}
          className="snapshots__list"
          data-testid="snapshot-list"
        >
          {target ? (
            <SnapshotTable source={source} target={target} />
          ) : (
            <Skeleton lines={3} label="Loading…" />
          )}
        </Card>
        {target ? (
          <UpkeepCard
            target={target}
            upkeep={upkeep}
            prunePaused={status.value?.prune.paused ?? false}
            pruneReason={status.value?.prune.reason}
            onChanged={status.reload}
          />
        ) : null}
        <RetentionCard source={source} />
      </div>
    </>
  );
}
