import { Cloud, HardDrive, Lock, Plus, ShieldAlert, ShieldCheck, ShieldQuestion } from 'lucide-react';
import { useEffect, useState } from 'react';

import type { Target } from '../../../../src-main/contract/model.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { targetsSelectors, targetsStore, useTargetsStore } from '../../stores/targets/index.ts';
import { Button } from '../../ui/Button.tsx';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { TargetTestResult } from '../../../../src-main/contract/target-test.ts';
import { Dialog } from '../../ui/Dialog.tsx';
import { formatDate, formatExact, formatRate } from '../../ui/format.ts';
import { PageHeader } from '../../ui/PageHeader.tsx';
import { EmptyState, ErrorState, InlineError, Skeleton } from '../../ui/States.tsx';
import { immutabilityLabel, targetKindLabel } from '../../ui/words.ts';
import { AddTargetWizard } from './AddTargetWizard.tsx';
import { TestResultView, verdictTone } from './TestResult.tsx';
import { StorageChart } from './StorageChart.tsx';

function UsedBy({ targetId }: { targetId: string }) {
  const sources = useSourcesStore(sourcesSelectors.items);
  const names = sources.filter((s) => s.targetId === targetId).map((s) => s.name);
  if (names.length === 0) return <>No folder yet</>;
  return <>{names.join(', ')}</>;
}

/** The verdict of the target's last self-test, in words; the configured protection until it was tested. */
function verdictOf(target: Target): {
  headline: string;
  text: string;
  tone: 'success' | 'info' | 'warning' | 'danger';
} {
  const t = target.lastTest;
  if (t) return { headline: `${t.headline}.`, text: t.reason, tone: verdictTone(t.verdict) };
  const imm = immutabilityLabel(target);
  return {
    headline: `${imm.short}.`,
    text: `${imm.long.replace(/^[^:]*: /, '')} (not tested yet)`,
    tone: imm.tone,
  };
}

function TargetCard({ target, onTest }: { target: Target; onTest: (t: Target) => void }) {
  const imm = verdictOf(target);
  const ImmIcon =
    imm.tone === 'success'
      ? Lock
      : imm.tone === 'warning' || imm.tone === 'danger'
        ? ShieldAlert
        : ShieldCheck;
  const Icon = target.kind === 's3' ? Cloud : HardDrive;
  const titleId = `target-${target.id}`;
  return (
    <article
      className="card target-card"
      aria-labelledby={titleId}
      data-target-id={target.id}
      data-immutability={target.immutability}
      data-verdict={target.lastTest?.verdict ?? 'untested'}
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
        <span className="target-card__verdict">
          <strong>{imm.headline}</strong> {imm.text}
        </span>
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
        <div>
          <dt>Last tested</dt>
          <dd>{target.lastTest ? formatExact(target.lastTest.testedAt) : 'Never'}</dd>
        </div>
      </dl>
      <div className="target-card__actions">
        <Button size="sm" icon={ShieldQuestion} onPress={() => onTest(target)}>
          {`Test ${target.name}`}
        </Button>
      </div>
    </article>
  );
}

/**
 * Where the backups are kept, each with the verdict of its last self-test in words. "Add target" opens the
 * wizard (kind of storage, where and keys, protection and cost, test, new or existing backups); "Test"
 * runs the self-test of a saved target again.
 */
export function TargetsPage() {
  const items = useTargetsStore(targetsSelectors.items);
  const error = useTargetsStore(targetsSelectors.error);
  const initialLoading = useTargetsStore(targetsSelectors.isInitialLoading);
  const empty = useTargetsStore(targetsSelectors.isEmpty);
  const [adding, setAdding] = useState(false);
  const [testing, setTesting] = useState<Target | undefined>();

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
          <TargetCard key={t.id} target={t} onTest={setTesting} />
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
      {items.length > 0 ? (
        <section className="storage-charts" aria-label="Storage over time">
          {items.map((t) => (
            <StorageChart key={t.id} targetId={t.id} targetName={t.name} headingLevel={2} />
          ))}
        </section>
      ) : null}
      <AddTargetWizard isOpen={adding} onClose={() => setAdding(false)} />
      <SavedTargetTest target={testing} onClose={() => setTesting(undefined)} />
    </>
  );
}

/** The self-test of a saved target, run when the dialog opens; the result is kept with the target. */
function SavedTargetTest({ target, onClose }: { target: Target | undefined; onClose: () => void }) {
  return (
    <Dialog
      isOpen={target !== undefined}
      onClose={onClose}
      title={target ? `Test ${target.name}` : 'Test'}
      size="lg"
      footer={
        <Button variant="primary" onPress={onClose}>
          Close
        </Button>
      }
    >
      {target ? <SavedTestBody key={target.id} target={target} /> : null}
    </Dialog>
  );
}

function SavedTestBody({ target }: { target: Target }) {
  const [state, setState] = useState<
    { kind: 'running' } | { kind: 'done'; result: TargetTestResult } | { kind: 'error'; error: ResultError }
  >({ kind: 'running' });
  useEffect(() => {
    let live = true;
    void targetsStore
      .getState()
      .test({ targetId: target.id })
      .then((r) => {
        if (live) setState(r.ok ? { kind: 'done', result: r.value } : { kind: 'error', error: r.error });
      });
    return () => {
      live = false;
    };
  }, [target.id]);
  if (state.kind === 'running')
    return (
      <p className="muted" role="status">
        Testing {target.name}… this takes a few seconds.
      </p>
    );
  if (state.kind === 'error') return <InlineError error={state.error} prefix="The test could not run" />;
  return <TestResultView result={state.result} />;
}
