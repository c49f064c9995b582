import { CircleCheck, CircleX, FolderOpen, RotateCcw, Square, TriangleAlert } from 'lucide-react';
import { useEffect, useState } from 'react';

import type { RestorePlanItem } from '../../../../src-main/contract/model.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { flowSelectors, flowStore, useFlowStore } from '../../stores/restore/index.ts';
import { Banner } from '../../ui/Banner.tsx';
import { Button } from '../../ui/Button.tsx';
import { VirtualList } from '../../ui/DataList.tsx';
import { Dialog } from '../../ui/Dialog.tsx';
import { RadioGroup } from '../../ui/fields.tsx';
import { FolderPicker } from '../../ui/FolderPicker.tsx';
import { formatBytes, formatCount, formatExact } from '../../ui/format.ts';
import { JobProgressView } from '../../ui/ProgressBar.tsx';
import { InlineError, Pending } from '../../ui/States.tsx';
import { POLICY_CHOICES } from '../../ui/words.ts';

function Destination() {
  const destination = useFlowStore(flowSelectors.destination);
  const error = useFlowStore(flowSelectors.error);
  const [picking, setPicking] = useState(false);
  const folder = destination.kind === 'folder' ? destination.path : '';
  return (
    <div className="restore-step">
      <RadioGroup
        label="Where should the files go?"
        value={destination.kind}
        onChange={(kind) =>
          flowStore
            .getState()
            .setDestination(kind === 'original' ? { kind: 'original' } : { kind: 'folder', path: folder })
        }
        choices={[
          {
            value: 'original',
            label: 'Back where they were',
            description:
              'Into the same folders as when they were backed up. You decide next what happens to files that are there now.',
          },
          {
            value: 'folder',
            label: 'Into another folder',
            description: 'A safe choice: nothing that exists now is touched.',
          },
        ]}
      />
      {destination.kind === 'folder' ? (
        <div className="field">
          <span className="field__label">Folder</span>
          <div className="chosen-folder">
            <span className="mono chosen-folder__path">{folder || 'No folder chosen yet'}</span>
            <Button icon={FolderOpen} size="sm" onPress={() => setPicking(true)}>
              {folder ? 'Choose another folder…' : 'Choose a folder…'}
            </Button>
          </div>
        </div>
      ) : null}
      {error ? <InlineError error={error} prefix="Could not prepare the restore" /> : null}
      <FolderPicker
        isOpen={picking}
        title="Restore into which folder?"
        purpose="restore-destination"
        onClose={() => setPicking(false)}
        onChoose={(path) => {
          setPicking(false);
          flowStore.getState().setDestination({ kind: 'folder', path });
        }}
      />
    </div>
  );
}

/** the path and two lines of facts (kept in step with .conflict in pages.css) */
const CONFLICT_ROW_HEIGHT = 68;

function ConflictRow({ item }: { item: RestorePlanItem }) {
  return (
    <div className="conflict">
      <span className="mono conflict__path ellipsis-start" title={item.destination}>
        <bdi dir="ltr">{item.destination}</bdi>
      </span>
      {/* one fact a line: side by side they did not fit the dialog (the second was cut off) */}
      <span className="conflict__facts">
        In the backup: {formatBytes(item.size)}
        {item.mtime ? `, changed ${formatExact(item.mtime)}` : ''}
      </span>
      {item.existing ? (
        <span className="conflict__facts">
          There now: {formatBytes(item.existing.size)}, changed {formatExact(item.existing.mtime)}
        </span>
      ) : null}
    </div>
  );
}

function Review() {
  const plan = useFlowStore(flowSelectors.plan);
  const policy = useFlowStore(flowSelectors.policy);
  const error = useFlowStore(flowSelectors.error);
  if (!plan) return null;
  const { totals } = plan;
  const conflicts = plan.items.filter((i) => i.action === 'conflict');
  return (
    <div className="restore-step">
      <p>
        {formatCount(totals.files, 'file')} ({formatBytes(totals.bytes)}) will be restored into{' '}
        <span className="mono">{plan.destination}</span>.
      </p>
      {/* a count of 0 says nothing, except for conflicts: "0 files differ" is the reassurance */}
      <ul className="plan-totals">
        {totals.create > 0 ? (
          <li>
            <CircleCheck aria-hidden="true" size={16} className="text-success" />{' '}
            {formatCount(totals.create, 'file')} to create
          </li>
        ) : null}
        {totals.identical > 0 ? (
          <li>
            <CircleCheck aria-hidden="true" size={16} className="text-success" />{' '}
            {formatCount(totals.identical, 'file')} already there, the same (left alone)
          </li>
        ) : null}
        <li>
          <TriangleAlert
            aria-hidden="true"
            size={16}
            className={totals.conflicts > 0 ? 'text-warning' : 'text-success'}
          />{' '}
          {formatCount(totals.conflicts, 'file')} there now with different content
        </li>
      </ul>
      {totals.conflicts > 0 ? (
        <>
          <h3 className="restore-step__subtitle">Files that are there now and differ</h3>
          <VirtualList
            count={conflicts.length}
            rowHeight={CONFLICT_ROW_HEIGHT}
            maxHeight="min(12rem, 30vh)"
            label="Files that differ"
            renderRow={(i) => (conflicts[i] ? <ConflictRow item={conflicts[i]} /> : null)}
          />
          {plan.truncated || conflicts.length < totals.conflicts ? (
            <p className="muted small">
              The first {formatCount(conflicts.length, 'file')} of {totals.conflicts.toLocaleString('en')} are
              listed.
            </p>
          ) : null}
          <RadioGroup
            label="What should happen to them?"
            value={policy}
            onChange={(p) => flowStore.getState().setPolicy(p)}
            choices={POLICY_CHOICES}
          />
        </>
      ) : null}
      {error ? <InlineError error={error} prefix="Could not start the restore" /> : null}
    </div>
  );
}

function Running() {
  const progress = useFlowStore(flowSelectors.progress);
  const request = useFlowStore(flowSelectors.request);
  const jobState = useFlowStore(flowSelectors.jobState);
  const error = useFlowStore(flowSelectors.error);
  return (
    <div className="restore-step">
      <JobProgressView progress={progress} label={`Restore of ${request?.label ?? 'files'}`} />
      {jobState === 'canceling' ? <Pending>Stopping…</Pending> : null}
      {error ? <InlineError error={error} /> : null}
    </div>
  );
}

function Done() {
  const summary = useFlowStore(flowSelectors.summary);
  const jobState = useFlowStore(flowSelectors.jobState);
  const error = useFlowStore(flowSelectors.error);
  const ok = jobState === 'succeeded';
  return (
    <div className="restore-step" data-state={jobState}>
      <Banner
        tone={
          ok
            ? summary && summary.failed > 0
              ? 'warning'
              : 'success'
            : jobState === 'failed'
              ? 'danger'
              : 'neutral'
        }
        title={
          ok
            ? summary && summary.failed > 0
              ? 'Restored, with some files missing'
              : 'Restored'
            : jobState === 'failed'
              ? 'The restore failed'
              : 'The restore was stopped'
        }
      >
        {summary ? (
          <p>
            Into <span className="mono">{summary.destination}</span>.
          </p>
        ) : null}
      </Banner>
      {summary ? (
        <dl className="facts facts--columns summary-facts">
          <div>
            <dt>Restored</dt>
            <dd>
              {formatCount(summary.restored, 'file')} ({formatBytes(summary.bytes)})
            </dd>
          </div>
          <div>
            <dt>Left alone</dt>
            <dd>{formatCount(summary.skipped, 'file')}</dd>
          </div>
          {summary.keptBoth > 0 ? (
            <div>
              <dt>Saved next to the existing one</dt>
              <dd>{formatCount(summary.keptBoth, 'file')}</dd>
            </div>
          ) : null}
          <div>
            <dt>Failed</dt>
            <dd className={summary.failed > 0 ? 'text-danger' : undefined}>
              {formatCount(summary.failed, 'file')}
            </dd>
          </div>
        </dl>
      ) : ok ? (
        <Pending>Collecting the summary…</Pending>
      ) : null}
      {summary && summary.failures.length > 0 ? (
        <>
          <h3 className="restore-step__subtitle">Files that could not be restored</h3>
          <ul className="failures">
            {summary.failures.slice(0, 50).map((f) => (
              <li key={f.path}>
                <CircleX aria-hidden="true" size={14} className="text-danger" />{' '}
                <span className="mono">{f.path}</span>: {f.message}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {error && !ok ? <InlineError error={error} /> : null}
    </div>
  );
}

/**
 * The restore dialog (one for the whole app, driven by stores/restore/flow.ts): destination, the plan and
 * the conflict policy, progress with Cancel, then what happened.
 */
export function RestoreDialog() {
  const isOpen = useFlowStore(flowSelectors.isOpen);
  const step = useFlowStore(flowSelectors.step);
  const hidden = useFlowStore(flowSelectors.hidden);
  const request = useFlowStore(flowSelectors.request);
  const canPlan = useFlowStore(flowSelectors.canPlan);
  const plan = useFlowStore(flowSelectors.plan);
  const summary = useFlowStore(flowSelectors.summary);
  const jobState = useFlowStore(flowSelectors.jobState);

  // a restore that finishes while its dialog is hidden says so
  useEffect(() => {
    if (hidden && step === 'done')
      notifyStore
        .getState()
        .toast(
          jobState === 'succeeded'
            ? `Restore finished${summary ? `: ${formatCount(summary.restored, 'file')} restored` : ''}`
            : 'The restore did not finish',
          jobState === 'succeeded' ? 'success' : 'warning',
        );
  }, [hidden, step, jobState, summary]);

  const working = step === 'running' || step === 'starting';
  const title = request ? `Restore ${request.label}` : 'Restore';

  let body;
  let footer;
  switch (step) {
    case 'destination':
      body = <Destination />;
      footer = (
        <>
          <Button onPress={() => flowStore.getState().close()}>Cancel</Button>
          <Button
            variant="primary"
            isDisabled={!canPlan}
            onPress={() => void flowStore.getState().makePlan()}
          >
            Next: check what will happen
          </Button>
        </>
      );
      break;
    case 'planning':
      body = <Pending>Checking what restoring will do… Nothing is written yet.</Pending>;
      footer = <Button onPress={() => flowStore.getState().close()}>Cancel</Button>;
      break;
    case 'review':
    case 'starting':
      body = <Review />;
      footer = (
        <>
          <Button onPress={() => flowStore.getState().back()} isDisabled={step === 'starting'}>
            Back
          </Button>
          <Button
            variant="primary"
            icon={RotateCcw}
            isPending={step === 'starting'}
            isDisabled={(plan?.totals.files ?? 0) === 0}
            onPress={() => void flowStore.getState().start()}
          >
            {plan ? `Restore ${formatCount(plan.totals.files, 'file')}` : 'Restore'}
          </Button>
        </>
      );
      break;
    case 'running':
      body = <Running />;
      footer = (
        <>
          <Button onPress={() => flowStore.getState().hide()}>Hide (it keeps going)</Button>
          <Button
            variant="danger"
            icon={Square}
            isDisabled={jobState === 'canceling'}
            onPress={() => void flowStore.getState().cancel()}
          >
            Stop restoring
          </Button>
        </>
      );
      break;
    case 'done':
      body = <Done />;
      footer = (
        <Button variant="primary" onPress={() => flowStore.getState().close()}>
          Close
        </Button>
      );
      break;
    case 'closed':
      body = null;
  }

  return (
    <Dialog
      isOpen={isOpen}
      onClose={() => (working ? flowStore.getState().hide() : flowStore.getState().close())}
      title={title}
      size="md"
      footer={footer}
    >
      {request?.time ? <p className="muted">As it was on {formatExact(request.time)}.</p> : null}
      {body}
    </Dialog>
  );
}
