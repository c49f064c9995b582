import { ChevronRight, Clock, Eye, FileSearch, FileX, RotateCcw } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import {
  Button as AriaButton,
  Disclosure,
  DisclosurePanel,
  Heading,
  Input,
  Label,
  SearchField,
} from 'react-aria-components';

import type { FileVersion, FindResult } from '../../../../src-main/contract/model.ts';
import {
  fileKey,
  findSelectors,
  findStore,
  flowStore,
  previewStore,
  useFindStore,
} from '../../stores/restore/index.ts';
import { Button } from '../../ui/Button.tsx';
import { formatBytes, formatCount, formatExact } from '../../ui/format.ts';
import { RelativeTime } from '../../ui/RelativeTime.tsx';
import { EmptyState, ErrorState, InlineError, Pending } from '../../ui/States.tsx';
import { StatusBadge } from '../../ui/StatusBadge.tsx';

/** the folder part of where a file was: "/home/ann/Documents/Invoices/a.pdf" → "/home/ann/Documents/Invoices" */
export function folderOf(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i > 0 ? path.slice(0, i) : path;
}

function VersionRow({ result, version, index }: { result: FindResult; version: FileVersion; index: number }) {
  // when this version appeared: the file's modification time (what people remember), to the second
  const when = formatExact(version.mtime);
  const label = `${result.name}, version of ${when}`;
  return (
    <li className="version" data-snapshot-id={version.snapshotId}>
      <span className="version__dot" aria-hidden="true" />
      <div className="version__body">
        <p className="version__title">
          {when}
          {index === 0 && !version.lastSeen ? (
            <StatusBadge tone="info" icon={Clock}>
              Current
            </StatusBadge>
          ) : null}
        </p>
        <p className="version__meta">
          {formatBytes(version.size)} · backed up <RelativeTime iso={version.firstSeen} />
          {version.lastSeen && version.endedBy
            ? ` · ${version.endedBy === 'deleted' ? 'deleted' : 'changed again'} by ${formatExact(version.lastSeen)}`
            : ''}
        </p>
      </div>
      <div className="version__actions">
        <Button
          size="sm"
          variant="ghost"
          icon={Eye}
          aria-label={`Preview ${label}`}
          onPress={() =>
            void previewStore.getState().open({
              sourceId: result.sourceId,
              snapshotId: version.snapshotId,
              path: version.path,
              name: result.name,
            })
          }
        >
          Preview
        </Button>
        <Button
          size="sm"
          icon={RotateCcw}
          aria-label={`Restore ${label}`}
          onPress={() =>
            flowStore.getState().begin({
              sourceId: result.sourceId,
              snapshotId: version.snapshotId,
              paths: [version.path],
              label: result.name,
              time: version.firstSeen,
            })
          }
        >
          Restore
        </Button>
      </div>
    </li>
  );
}

function ResultItem({ result }: { result: FindResult }) {
  const versions = useFindStore(findSelectors.versions(result.sourceId, result.path));
  const items = versions?.status === 'ready' ? versions.items : result.versions;
  const count = Math.max(items.length, result.versions.length);
  return (
    <li className="find-result" data-path={result.path}>
      <Disclosure
        className="find-result__disclosure"
        onExpandedChange={(open) => {
          if (open && versions?.status !== 'ready')
            void findStore.getState().loadVersions(result.sourceId, result.path);
        }}
      >
        <Heading level={2} className="find-result__heading">
          <AriaButton slot="trigger" className="find-result__trigger">
            <ChevronRight aria-hidden="true" size={18} className="find-result__chevron" />
            <span className="find-result__name">{result.name}</span>
            <span className="find-result__where">
              {result.sourceName} · <span className="mono">{folderOf(result.originalPath)}</span>
            </span>
            <span className="find-result__badges">
              <span className="find-result__count">{formatCount(count, 'version')}</span>
              {result.deleted ? (
                <StatusBadge tone="warning" icon={FileX}>
                  Deleted
                </StatusBadge>
              ) : null}
            </span>
          </AriaButton>
        </Heading>
        <DisclosurePanel className="find-result__panel">
          {versions?.status === 'loading' && items.length === 0 ? (
            <Pending>Loading the versions…</Pending>
          ) : null}
          {versions?.status === 'error' && versions.error ? (
            <InlineError error={versions.error} prefix="Could not load every version" />
          ) : null}
          <ol className="timeline" aria-label={`Versions of ${result.name}`}>
            {items.map((v, i) => (
              <VersionRow key={`${v.snapshotId}:${v.firstSeen}`} result={result} version={v} index={i} />
            ))}
          </ol>
        </DisclosurePanel>
      </Disclosure>
    </li>
  );
}

/** Find a file by (part of) its name, across every backup; open a result for its versions. */
export function FindTab() {
  const status = useFindStore(findSelectors.status);
  const results = useFindStore(findSelectors.results);
  const query = useFindStore(findSelectors.query);
  const truncated = useFindStore(findSelectors.truncated);
  const error = useFindStore(findSelectors.error);
  const [text, setText] = useState(query);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => clearTimeout(timer.current), []);

  function change(value: string) {
    setText(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void findStore.getState().search(value), 300);
  }

  return (
    <div className="find">
      <SearchField
        className="field searchfield"
        value={text}
        onChange={change}
        onSubmit={(v) => {
          clearTimeout(timer.current);
          void findStore.getState().search(v);
        }}
        onClear={() => {
          clearTimeout(timer.current);
          findStore.getState().clear();
        }}
      >
        <Label className="field__label">Find a file</Label>
        <Input className="input input--search" placeholder="Part of a file name, or a pattern like *.xlsx" />
      </SearchField>

      <div className="find__results" aria-busy={status === 'loading'}>
        {status === 'idle' ? (
          <EmptyState icon={FileSearch} title="Look for a lost or changed file">
            <p>
              Type part of its name. Bulwark looks through every backup of every folder, including files that
              were deleted since.
            </p>
          </EmptyState>
        ) : null}
        {status === 'loading' ? <Pending>Searching the backups…</Pending> : null}
        {status === 'error' && error ? (
          <ErrorState
            error={error}
            title="Could not search the backups"
            onRetry={() => void findStore.getState().search(text)}
          />
        ) : null}
        {status === 'ready' && results.length === 0 ? (
          <EmptyState icon={FileSearch} title={`No file matches “${query}”`}>
            <p>Try fewer letters, or a pattern such as *report*.</p>
          </EmptyState>
        ) : null}
        {status === 'ready' && results.length > 0 ? (
          <>
            <p className="find__count" role="status">
              {formatCount(results.length, 'file')} found
              {truncated ? ' (only the first ones are shown: type more to narrow it down)' : ''}
            </p>
            <ul className="find-results" aria-label={`Files matching ${query}`}>
              {results.map((r) => (
                <ResultItem key={fileKey(r.sourceId, r.path)} result={r} />
              ))}
            </ul>
          </>
        ) : null}
      </div>
    </div>
  );
}
