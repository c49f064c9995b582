import { Download, ScrollText } from 'lucide-react';
import { useCallback, useEffect, useState } from 'react';

import type { ResponseOf } from '../../../../src-main/contract/ipc.ts';
import type { AuditEntryView } from '../../../../src-main/contract/oversight.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import { getClient } from '../../api/index.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { sourcesSelectors, sourcesStore, useSourcesStore } from '../../stores/sources/index.ts';
import { targetsSelectors, targetsStore, useTargetsStore } from '../../stores/targets/index.ts';
import { Banner } from '../../ui/Banner.tsx';
import { Button } from '../../ui/Button.tsx';
import { Card } from '../../ui/Card.tsx';
import { Select } from '../../ui/fields.tsx';
import { formatCount, formatExact } from '../../ui/format.ts';
import { Pagination } from '../../ui/Pagination.tsx';
import { EmptyState, ErrorState, Skeleton } from '../../ui/States.tsx';
import { auditActionLabel, auditOrigin, auditSummary, refusalText } from './oversight-words.ts';
import { auditCsv, csvFileName } from './audit-csv.ts';
import './settings.css';

const PAGE_SIZE = 50;
/** the CSV is fetched in pages of this many entries */
const EXPORT_PAGE = 1000;
const DAY = 24 * 60 * 60 * 1000;

const PERIODS = [
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
  { value: '90', label: 'Last 90 days' },
  { value: '365', label: 'Last 12 months' },
  { value: 'all', label: 'All time' },
] as const;
type Period = (typeof PERIODS)[number]['value'];

const ALL = 'all';

interface Filters {
  period: Period;
  action: string;
  sourceId: string;
  targetId: string;
}

type AuditPage = ResponseOf<'bulwark:audit.list'>;

function request(f: Filters, now: number) {
  return {
    ...(f.period !== 'all' ? { since: new Date(now - Number(f.period) * DAY).toISOString() } : {}),
    ...(f.action !== ALL ? { action: f.action } : {}),
    ...(f.sourceId !== ALL ? { sourceId: f.sourceId } : {}),
    ...(f.targetId !== ALL ? { targetId: f.targetId } : {}),
  };
}

/**
 * The Audit log tab of Settings: who did what and when (backups, restores, removals, legal holds, retention
 * changes), newest first, filtered by period, kind of action, folder and destination, with a CSV export of
 * everything the filters select. The CSV is made here from the listed entries and saved through a Blob: it
 * works the same in the desktop app (which has no HTTP server for download links) and in a browser, and
 * nothing is kept on the service for it.
 */
export function AuditSection() {
  const sources = useSourcesStore(sourcesSelectors.items);
  const targets = useTargetsStore(targetsSelectors.items);
  const [filters, setFilters] = useState<Filters>({
    period: '30',
    action: ALL,
    sourceId: ALL,
    targetId: ALL,
  });
  const [page, setPage] = useState(0);
  const [data, setData] = useState<AuditPage | undefined>(undefined);
  const [error, setError] = useState<ResultError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<ResultError | undefined>(undefined);

  useEffect(() => {
    if (sourcesStore.getState().status === 'idle') void sourcesStore.getState().load();
    if (targetsStore.getState().status === 'idle') void targetsStore.getState().load();
  }, []);

  const load = useCallback(async () => {
    setLoading(true);
    const result = await getClient().call('bulwark:audit.list', {
      ...request(filters, Date.now()),
      offset: page * PAGE_SIZE,
      limit: PAGE_SIZE,
    });
    setLoading(false);
    if (result.ok) {
      setData(result.value);
      setError(undefined);
    } else setError(result.error);
  }, [filters, page]);

  useEffect(() => {
    void load();
  }, [load]);

  const setFilter = (patch: Partial<Filters>) => {
    setFilters({ ...filters, ...patch });
    setPage(0);
  };

  async function exportCsv() {
    setExporting(true);
    setExportError(undefined);
    const base = request(filters, Date.now());
    const rows: AuditEntryView[] = [];
    for (let offset = 0; ; offset += EXPORT_PAGE) {
      const result = await getClient().call('bulwark:audit.list', { ...base, offset, limit: EXPORT_PAGE });
      if (!result.ok) {
        setExporting(false);
        setExportError(result.error);
        return;
      }
      rows.push(...result.value.entries);
      if (result.value.entries.length < EXPORT_PAGE || rows.length >= result.value.total) break;
    }
    const url = URL.createObjectURL(new Blob([auditCsv(rows)], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = csvFileName(new Date());
    document.body.append(a);
    a.click();
    a.remove();
    // the download has its own copy once started
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setExporting(false);
    notifyStore
      .getState()
      .toast(`Saved ${formatCount(rows.length, 'entry', 'entries')} as a CSV file`, 'success');
  }

  const actionChoices = [
    { value: ALL, label: 'Everything' },
    ...(data?.actions ?? []).map((a) => ({ value: a, label: auditActionLabel(a) })),
  ];
  const sourceChoices = [
    { value: ALL, label: 'All folders' },
    ...sources.map((s) => ({ value: s.id, label: s.name })),
  ];
  const targetChoices = [
    { value: ALL, label: 'All destinations' },
    ...targets.map((t) => ({ value: t.id, label: t.name })),
  ];

  return (
    <div className="settings settings--wide">
      <p className="settings__intro">
        Every backup, restore, removal, legal hold and retention change is recorded here. Each record is also
        written, unchangeable and chained to the one before, into the backup destination, so it survives the
        loss of this computer and any change to it shows.
      </p>
      <Card
        title="Audit log"
        actions={
          <Button
            icon={Download}
            onPress={() => void exportCsv()}
            isPending={exporting}
            isDisabled={!data || data.total === 0}
          >
            Export CSV
          </Button>
        }
      >
        <div className="audit__filters">
          <Select
            label="Period"
            value={filters.period}
            onChange={(period) => setFilter({ period })}
            choices={PERIODS}
          />
          <Select
            label="Kind of action"
            value={filters.action}
            onChange={(action) => setFilter({ action })}
            choices={actionChoices}
          />
          <Select
            label="Folder"
            value={filters.sourceId}
            onChange={(sourceId) => setFilter({ sourceId })}
            choices={sourceChoices}
          />
          <Select
            label="Destination"
            value={filters.targetId}
            onChange={(targetId) => setFilter({ targetId })}
            choices={targetChoices}
          />
        </div>
        {exportError ? (
          <Banner tone="danger" title="The CSV file could not be made">
            {refusalText(exportError)}
          </Banner>
        ) : null}
        {error && !data ? (
          <ErrorState
            error={error}
            title="Could not load the audit log"
            onRetry={() => void load()}
            compact
          />
        ) : !data ? (
          <Skeleton lines={5} label="Loading the audit log…" />
        ) : data.total === 0 ? (
          <EmptyState icon={ScrollText} title="Nothing recorded for these filters" headingLevel={3}>
            Choose a longer period or “Everything”. Records appear with the first backup.
          </EmptyState>
        ) : (
          <>
            <div className="audit__bar">
              <p className="audit__count" aria-live="polite">
                {loading ? 'Loading…' : formatCount(data.total, 'entry', 'entries')}
              </p>
            </div>
            <div className="audit__scroll">
              <AuditTable entries={data.entries} />
            </div>
            <Pagination
              page={page}
              pageSize={PAGE_SIZE}
              total={data.total}
              onChange={setPage}
              label="Audit log pages"
            />
          </>
        )}
      </Card>
    </div>
  );
}

function AuditTable({ entries }: { entries: readonly AuditEntryView[] }) {
  return (
    <table className="audit__table">
      <caption className="visually-hidden">Audit log, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Action</th>
          <th scope="col">What happened</th>
          <th scope="col">Folder</th>
          <th scope="col">Destination</th>
          <th scope="col" className="audit__col-origin">
            By
          </th>
          <th scope="col">Kept at the destination</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.id}>
            <td className="audit__time">{formatExact(e.time)}</td>
            <td className="audit__action">{auditActionLabel(e.action)}</td>
            <td className="audit__summary">{auditSummary(e)}</td>
            <td>{e.sourceName ?? <span className="audit__muted">—</span>}</td>
            <td>{e.targetName ?? <span className="audit__muted">—</span>}</td>
            <td className="audit__col-origin audit__muted">{auditOrigin(e)}</td>
            <td>{e.stored ? 'Yes' : <span className="audit__muted">Not yet</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
