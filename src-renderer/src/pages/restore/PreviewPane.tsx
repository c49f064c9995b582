import { Download, FileQuestion, RotateCcw, X } from 'lucide-react';
import { useState } from 'react';

import type { ResultError } from '../../../../src-main/contract/result.ts';
import { appSelectors, useAppStore } from '../../stores/app/index.ts';
import { flowStore, previewStore, usePreviewStore } from '../../stores/restore/index.ts';
import { Button, IconButton } from '../../ui/Button.tsx';
import { formatBytes } from '../../ui/format.ts';
import { ErrorState, InlineError, Pending } from '../../ui/States.tsx';

/** The start of a backed-up file: text or an image (`restore.preview`), with Restore and Download. */
export function PreviewPane() {
  const target = usePreviewStore((s) => s.target);
  const status = usePreviewStore((s) => s.status);
  const value = usePreviewStore((s) => s.value);
  const error = usePreviewStore((s) => s.error);
  const transport = useAppStore(appSelectors.transport);
  const [downloadError, setDownloadError] = useState<ResultError | undefined>();
  if (!target) return null;

  async function download() {
    if (!target) return;
    setDownloadError(undefined);
    const result = await previewStore.getState().download(target);
    if ('code' in result) {
      setDownloadError(result);
      return;
    }
    // a one-time link of the service (same origin); the browser saves what it answers
    const a = document.createElement('a');
    a.href = result.url;
    a.download = result.name;
    document.body.append(a);
    a.click();
    a.remove();
  }

  return (
    <section className="preview card" aria-labelledby="preview-title">
      <header className="preview__header">
        <h2 id="preview-title" className="preview__title">
          <span className="visually-hidden">Preview of </span>
          {target.name}
        </h2>
        <IconButton
          icon={X}
          label="Close the preview"
          size="sm"
          onPress={() => previewStore.getState().close()}
        />
      </header>
      <div className="preview__body">
        {status === 'loading' ? <Pending>Opening the file…</Pending> : null}
        {status === 'error' && error ? (
          <ErrorState error={error} title="Could not show this file" compact headingLevel={3} />
        ) : null}
        {status === 'ready' && value ? (
          value.kind === 'text' && value.text !== undefined ? (
            <pre className="preview__text" tabIndex={0} aria-label={`Text of ${value.name}`}>
              {value.text}
            </pre>
          ) : value.kind === 'image' && value.dataUrl !== undefined ? (
            <img className="preview__image" src={value.dataUrl} alt={`Picture ${value.name}`} />
          ) : (
            <div className="preview__none">
              <FileQuestion aria-hidden="true" size={32} />
              <p>There is no preview for this kind of file. Restore it to open it.</p>
            </div>
          )
        ) : null}
        {status === 'ready' && value ? (
          <p className="muted small">
            {formatBytes(value.size)}
            {value.truncated ? ' · only the beginning is shown' : ''}
          </p>
        ) : null}
      </div>
      <footer className="preview__footer">
        <Button
          variant="primary"
          size="sm"
          icon={RotateCcw}
          onPress={() =>
            flowStore.getState().begin({
              sourceId: target.sourceId,
              snapshotId: target.snapshotId,
              paths: [target.path],
              label: target.name,
            })
          }
        >
          {`Restore ${target.name}`}
        </Button>
        {transport === 'http' ? (
          <Button size="sm" icon={Download} onPress={() => void download()}>
            {`Download ${target.name}`}
          </Button>
        ) : null}
      </footer>
      {downloadError ? <InlineError error={downloadError} prefix="Could not download" /> : null}
    </section>
  );
}
