import { CalendarClock } from 'lucide-react';
import { useEffect, useState } from 'react';

import type { SourceStatus } from '../../../../src-main/contract/model.ts';
import type {
  RetentionPolicy,
  RetentionPreviewItem,
  RetentionTemplateId,
} from '../../../../src-main/contract/retention.ts';
import { Button } from '../../ui/Button.tsx';
import { Card } from '../../ui/Card.tsx';
import { Dialog } from '../../ui/Dialog.tsx';
import { RadioGroup, TextField } from '../../ui/fields.tsx';
import { ErrorState, InlineError, Skeleton } from '../../ui/States.tsx';
import { StatusBadge, type Tone } from '../../ui/StatusBadge.tsx';
import { formatDate, formatExact } from '../../ui/format.ts';
import { useAction, useChannel } from './useSnapshotsData.ts';

const OUTCOME: Record<RetentionPreviewItem['outcome'], { label: string; tone: Tone }> = {
  keep: { label: 'Kept', tone: 'success' },
  locked: { label: 'Removed after its lock', tone: 'warning' },
  remove: { label: 'Removed', tone: 'neutral' },
};

const TIER_WORD = { daily: 'daily', weekly: 'weekly', monthly: 'monthly', yearly: 'yearly' } as const;

/** The numbers a person may change in a custom policy, with their labels. */
const CUSTOM_FIELDS: readonly {
  key: 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly';
  label: string;
}[] = [
  { key: 'keepDaily', label: 'Days with a backup to keep' },
  { key: 'keepWeekly', label: 'Weeks to keep' },
  { key: 'keepMonthly', label: 'Months to keep' },
  { key: 'keepYearly', label: 'Years to keep' },
];
const LOCK_FIELDS: readonly { key: 'daily' | 'weekly' | 'monthly' | 'yearly'; label: string }[] = [
  { key: 'daily', label: 'Daily backups locked for (days)' },
  { key: 'weekly', label: 'Weekly backups locked for (days)' },
  { key: 'monthly', label: 'Monthly backups locked for (days)' },
  { key: 'yearly', label: 'Yearly backups locked for (days)' },
];

function whole(text: string): number | undefined {
  return /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** The numbers of a custom policy as text fields; a field that is not a whole number says so. */
function CustomPolicy({
  policy,
  onChange,
}: {
  policy: RetentionPolicy;
  onChange: (p: RetentionPolicy | undefined) => void;
}) {
  const [text, setText] = useState<Record<string, string>>(() => ({
    ...Object.fromEntries(CUSTOM_FIELDS.map((f) => [f.key, String(policy[f.key] ?? 0)])),
    ...Object.fromEntries(LOCK_FIELDS.map((f) => [`lock.${f.key}`, String(policy.lockDays[f.key])])),
  }));
  const update = (key: string, value: string): void => {
    const next = { ...text, [key]: value };
    setText(next);
    const num = (k: string): number | undefined => whole(next[k] ?? '');
    const lock = Object.fromEntries(LOCK_FIELDS.map((f) => [f.key, num(`lock.${f.key}`)]));
    const counts = Object.fromEntries(CUSTOM_FIELDS.map((f) => [f.key, num(f.key)]));
    if ([...Object.values(lock), ...Object.values(counts)].some((v) => v === undefined)) {
      onChange(undefined);
      return;
    }
    onChange({
      ...(counts as Record<string, number>),
      lockDays: lock as RetentionPolicy['lockDays'],
      timeZone: policy.timeZone,
    });
  };
  const field = (key: string, label: string) => (
    <TextField
      key={key}
      label={label}
      value={text[key] ?? ''}
      onChange={(v) => update(key, v)}
      errorMessage={whole(text[key] ?? '') === undefined ? 'Enter a whole number, 0 or more.' : undefined}
      maxLength={5}
    />
  );
  return (
    <div className="retention__custom">
      <fieldset className="retention__fieldset">
        <legend>How many backups to keep</legend>
        {CUSTOM_FIELDS.map((f) => field(f.key, f.label))}
      </fieldset>
      <fieldset className="retention__fieldset">
        <legend>How long nobody can delete them</legend>
        {LOCK_FIELDS.map((f) => field(`lock.${f.key}`, f.label))}
      </fieldset>
    </div>
  );
}

function PreviewTable({ items, total }: { items: RetentionPreviewItem[]; total: number }) {
  if (items.length === 0)
    return <p className="snapshots__note">There are no backups of this folder yet: nothing to preview.</p>;
  return (
    <div className="snapshots__scroll retention__preview">
      <table className="snapshots__table" aria-label="Preview: what happens to each existing backup">
        <thead>
          <tr>
            <th scope="col">Backup</th>
            <th scope="col">With these settings</th>
            <th scope="col">Lock ends</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.snapshotId} data-snapshot-id={i.snapshotId} data-outcome={i.outcome}>
              <th scope="row">
                <time dateTime={i.time}>{formatExact(i.time)}</time>
              </th>
              <td>
                <StatusBadge tone={OUTCOME[i.outcome].tone}>
                  {i.outcome === 'keep' && i.tier ? `Kept as ${TIER_WORD[i.tier]}` : OUTCOME[i.outcome].label}
                </StatusBadge>
                {i.held ? <span className="snapshots__muted"> · under legal hold</span> : null}
              </td>
              <td data-col="lock-ends">
                {i.lockEndsAt ? (
                  <time dateTime={i.lockEndsAt} title={formatExact(i.lockEndsAt)}>
                    {formatDate(i.lockEndsAt)}
                    {i.lockedLonger ? ' (locked longer)' : ''}
                  </time>
                ) : (
                  <span className="snapshots__muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {total > items.length ? (
        <p className="snapshots__note">
          Showing the newest {items.length} of {total} backups.
        </p>
      ) : null}
    </div>
  );
}

/** The retention editor: templates with their descriptions, custom numbers, the preview, Save. */
function RetentionDialog({
  source,
  current,
  onClose,
  onSaved,
}: {
  source: SourceStatus;
  current: RetentionTemplateId | undefined;
  onClose: () => void;
  onSaved: () => void;
}) {
  const info = useChannel('bulwark:retention.get', { sourceId: source.id });
  const [template, setTemplate] = useState<RetentionTemplateId>(current ?? 'office-files');
  const [custom, setCustom] = useState<RetentionPolicy | undefined>(undefined);
  const templates = info.value?.templates ?? [];
  const base = templates.find((t) => t.id === template);
  useEffect(() => {
    if (template === 'custom' && custom === undefined && base) setCustom(info.value?.policy ?? base.policy);
  }, [template, custom, base, info.value?.policy]);
  const request =
    template === 'custom'
      ? custom && { sourceId: source.id, template, policy: custom }
      : { sourceId: source.id, template };
  const preview = useChannel('bulwark:retention.preview', request);
  const save = useAction('bulwark:retention.set');

  return (
    <Dialog
      isOpen
      onClose={onClose}
      title={`How long to keep the backups of ${source.name}`}
      size="lg"
      footer={
        <>
          <Button onPress={onClose}>Cancel</Button>
          <Button
            variant="primary"
            isPending={save.pending}
            isDisabled={request === undefined || preview.error !== undefined}
            onPress={() => {
              if (!request) return;
              void save.run(request).then((r) => {
                if (r) onSaved();
              });
            }}
          >
            Save
          </Button>
        </>
      }
    >
      {info.error ? (
        <ErrorState error={info.error} title="Could not load the settings" onRetry={info.reload} />
      ) : templates.length === 0 ? (
        <Skeleton lines={4} label="Loading the settings…" />
      ) : (
        <div className="retention__editor">
          <RadioGroup
            label="Keep backups like this"
            value={template}
            onChange={(v) => setTemplate(v)}
            choices={templates.map((t) => ({ value: t.id, label: t.name, description: t.description }))}
          />
          {template === 'custom' && custom ? (
            <CustomPolicy policy={custom} onChange={(p) => setCustom(p)} />
          ) : null}
          <section
            className="retention__preview-section"
            aria-labelledby="retention-preview-title"
            aria-busy={preview.loading}
            data-testid="retention-preview"
          >
            <h3 id="retention-preview-title" className="upkeep__heading">
              Preview with your backups
            </h3>
            {preview.error ? (
              <InlineError error={preview.error} prefix="These settings cannot be used" />
            ) : !preview.value || preview.loading ? (
              <Skeleton lines={3} label="Working out the preview…" />
            ) : (
              <>
                <p className="snapshots__note" data-testid="preview-counts">
                  {preview.value.counts.keep} kept, {preview.value.counts.locked} removed once their lock
                  ends, {preview.value.counts.remove} removed by the next clean-up. Settings take effect after
                  the next backup.
                </p>
                <PreviewTable items={preview.value.items} total={preview.value.total} />
              </>
            )}
          </section>
          {save.error ? <InlineError error={save.error} prefix="Could not save" /> : null}
        </div>
      )}
    </Dialog>
  );
}

export function RetentionCard({ source }: { source: SourceStatus }) {
  const info = useChannel('bulwark:retention.get', { sourceId: source.id });
  const [editing, setEditing] = useState(false);
  const name = info.value?.templates.find((t) => t.id === info.value?.template)?.name;
  return (
    <Card
      title="How long backups are kept"
      headingLevel={2}
      data-testid="retention"
      actions={
        <Button size="sm" icon={CalendarClock} onPress={() => setEditing(true)} isDisabled={!info.value}>
          Change<span className="visually-hidden"> how long the backups of {source.name} are kept</span>
        </Button>
      }
    >
      {info.error ? (
        <ErrorState error={info.error} title="Could not load the settings" onRetry={info.reload} />
      ) : !info.value ? (
        <Skeleton lines={2} label="Loading the settings…" />
      ) : (
        <>
          <p className="retention__current">
            <strong>{info.value.policy ? (name ?? 'Custom') : 'Everything is kept'}</strong>
          </p>
          <ul className="retention__lines">
            {info.value.description.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </>
      )}
      {editing ? (
        <RetentionDialog
          source={source}
          current={info.value?.template}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            info.reload();
          }}
        />
      ) : null}
    </Card>
  );
}
