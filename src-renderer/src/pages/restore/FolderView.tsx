import { ChevronRight, File, FileImage, FileText, Folder, Link2, RotateCcw, X } from 'lucide-react';
import { useCallback } from 'react';
import { Breadcrumb, Breadcrumbs, Button as AriaButton, Checkbox, Link } from 'react-aria-components';

import type { SnapshotEntry } from '../../../../src-main/contract/model.ts';
import {
  breadcrumbs,
  browseSelectors,
  browseStore,
  flowStore,
  previewStore,
  useBrowseStore,
} from '../../stores/restore/index.ts';
import { Button } from '../../ui/Button.tsx';
import { VirtualList } from '../../ui/DataList.tsx';
import { formatBytes, formatCount, formatDate } from '../../ui/format.ts';
import { ErrorState, Skeleton } from '../../ui/States.tsx';
import { Banner } from '../../ui/Banner.tsx';

export const ROW_HEIGHT = 44;

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg|heic|tiff?)$/i;
const TEXT = /\.(txt|csv|md|log|json|xml|html?|ini|cfg|conf|rtf)$/i;

function iconOf(entry: SnapshotEntry) {
  if (entry.type === 'dir') return Folder;
  if (entry.type === 'symlink') return Link2;
  if (IMAGE.test(entry.name)) return FileImage;
  if (TEXT.test(entry.name)) return FileText;
  return File;
}

function Row({ index, sourceId, snapshotId }: { index: number; sourceId: string; snapshotId: string }) {
  const entry = useBrowseStore(browseSelectors.entryAt(index));
  const selected = useBrowseStore(browseSelectors.isSelected(entry?.path ?? '\u0000'));
  if (!entry)
    return (
      <div className="entry entry--loading" aria-hidden="true">
        <span className="skeleton__line entry__skeleton" />
      </div>
    );
  const Icon = iconOf(entry);
  const isDir = entry.type === 'dir';
  return (
    <div className={`entry${selected ? ' is-selected' : ''}`} data-path={entry.path}>
      <Checkbox
        className="checkbox"
        isSelected={selected}
        onChange={() => browseStore.getState().toggle(entry)}
        aria-label={`Select ${entry.name}`}
      >
        <span className="checkbox__box" aria-hidden="true" />
      </Checkbox>
      <Icon aria-hidden="true" size={18} className={isDir ? 'entry__icon entry__icon--dir' : 'entry__icon'} />
      <AriaButton
        className="entry__name"
        onPress={() =>
          isDir
            ? void browseStore.getState().open(entry.path)
            : void previewStore.getState().open({ sourceId, snapshotId, path: entry.path, name: entry.name })
        }
        aria-label={isDir ? `Open folder ${entry.name}` : `Preview ${entry.name}`}
      >
        {entry.name}
      </AriaButton>
      <span className="entry__size">
        {isDir ? 'Folder' : entry.size !== undefined ? formatBytes(entry.size) : ''}
      </span>
      <span className="entry__date">{entry.mtime ? formatDate(entry.mtime) : ''}</span>
    </div>
  );
}

/** The folder of a snapshot: breadcrumbs, a virtual list with checkboxes, and what to restore. */
export function FolderView({
  sourceId,
  snapshotId,
  rootName,
  time,
}: {
  sourceId: string;
  snapshotId: string;
  rootName: string;
  time: string | undefined;
}) {
  const folder = useBrowseStore((s) => s.folder);
  const selected = useBrowseStore((s) => s.selected);
  const selectedCount = Object.keys(selected).length;
  const onRange = useCallback(
    (first: number, last: number) => browseStore.getState().ensureRange(first, last),
    [],
  );
  const crumbs = breadcrumbs(folder.path);
  const folderName = crumbs[crumbs.length - 1]?.name ?? rootName;

  function restoreSelected() {
    const entries = Object.values(selected);
    flowStore.getState().begin({
      sourceId,
      snapshotId,
      paths: entries.map((e) => e.path),
      label: entries.length === 1 ? entries[0]!.name : formatCount(entries.length, 'item'),
      time,
    });
  }

  function restoreFolder() {
    flowStore.getState().begin({ sourceId, snapshotId, paths: [folder.path], label: folderName, time });
  }

  return (
    <section className="folder" aria-labelledby="folder-title">
      <nav aria-label="Folder path" className="crumbs-nav">
        <Breadcrumbs className="crumbs" onAction={(key) => void browseStore.getState().open(String(key))}>
          <Breadcrumb id="" className="crumbs__item">
            <Link className="crumbs__link">{rootName}</Link>
            {crumbs.length > 0 ? <ChevronRight aria-hidden="true" size={14} /> : null}
          </Breadcrumb>
          {crumbs.map((c, i) => (
            <Breadcrumb key={c.path} id={c.path} className="crumbs__item">
              <Link className="crumbs__link">{c.name}</Link>
              {i < crumbs.length - 1 ? <ChevronRight aria-hidden="true" size={14} /> : null}
            </Breadcrumb>
          ))}
        </Breadcrumbs>
      </nav>
      <h2 id="folder-title" className="visually-hidden">
        Contents of {folderName}
      </h2>

      <div className="folder__toolbar" role="toolbar" aria-label="Restore">
        <span className="folder__count" role="status">
          {folder.status === 'ready' ? formatCount(folder.total, 'item') : ''}
          {selectedCount > 0 ? ` · ${selectedCount} selected` : ''}
        </span>
        {selectedCount > 0 ? (
          <>
            <Button
              size="sm"
              variant="ghost"
              icon={X}
              onPress={() => browseStore.getState().clearSelection()}
            >
              Clear selection
            </Button>
            <Button size="sm" variant="primary" icon={RotateCcw} onPress={restoreSelected}>
              {`Restore ${selectedCount} selected…`}
            </Button>
          </>
        ) : (
          <Button size="sm" icon={RotateCcw} onPress={restoreFolder} isDisabled={folder.status !== 'ready'}>
            {`Restore all of ${folderName}…`}
          </Button>
        )}
      </div>

      {folder.damaged ? (
        <Banner tone="warning" title="Part of this folder could not be read">
          {folder.damaged}
        </Banner>
      ) : null}

      {Object.keys(folder.pageErrors).length > 0 && folder.status === 'ready' ? (
        <Banner
          tone="warning"
          title="Some items could not be loaded"
          actions={
            <Button
              size="sm"
              onPress={() => {
                for (const page of Object.keys(folder.pageErrors))
                  void browseStore.getState().retryPage(Number(page));
              }}
            >
              Try again
            </Button>
          }
        />
      ) : null}

      {folder.status === 'loading' ? <Skeleton lines={6} label="Opening the folder…" /> : null}
      {folder.status === 'error' && folder.error ? (
        <ErrorState
          error={folder.error}
          title="Could not open this folder"
          onRetry={() => void browseStore.getState().retryPage(0)}
          headingLevel={2}
        />
      ) : null}
      {folder.status === 'ready' && folder.total === 0 ? (
        <p className="muted">This folder was empty.</p>
      ) : null}
      {folder.status === 'ready' && folder.total > 0 ? (
        <div className="entries">
          <div className="entries__head" aria-hidden="true">
            <span />
            <span />
            <span>Name</span>
            <span>Size</span>
            <span>Modified</span>
          </div>
          <VirtualList
            count={folder.total}
            rowHeight={ROW_HEIGHT}
            label={`Items in ${folderName}`}
            onRange={onRange}
            maxHeight="min(28rem, 60vh)"
            renderRow={(index) => <Row index={index} sourceId={sourceId} snapshotId={snapshotId} />}
          />
        </div>
      ) : null}
    </section>
  );
}
