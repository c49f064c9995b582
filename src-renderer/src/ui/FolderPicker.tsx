import { ArrowUp, Folder, FolderOpen, HardDrive } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import { GridList, GridListItem } from 'react-aria-components';
import { useStore } from 'zustand';

import { getClient } from '../api/index.ts';
import {
  baseName,
  createFolderPickerStore,
  isAbsolutePath,
  type FolderPickerStore,
} from '../stores/folders/store.ts';
import { Button } from './Button.tsx';
import { Dialog } from './Dialog.tsx';
import { TextField } from './fields.tsx';
import { InlineError, Pending } from './States.tsx';

/**
 * Choose a folder on the computer Bulwark runs on. In the desktop app: the computer's own folder dialog
 * (`fs.pickFolder`). In a browser (which cannot open it: UNSUPPORTED), or if it fails: its usual places,
 * then folder by folder (`fs.folders`), or type the path. When the service cannot list folders, typing
 * still works.
 */
export function FolderPicker({
  isOpen,
  onClose,
  onChoose,
  title = 'Choose a folder',
  startPath,
  purpose = 'source',
}: {
  isOpen: boolean;
  onClose: () => void;
  onChoose: (path: string) => void;
  title?: string;
  startPath?: string;
  /** what the folder is for: the native dialog's words */
  purpose?: 'source' | 'target' | 'restore-destination';
}) {
  const [native, setNative] = useState<'idle' | 'asking' | 'unavailable'>('idle');
  const asked = useRef(false);
  useEffect(() => {
    if (!isOpen) {
      asked.current = false;
      if (native === 'asking') setNative('idle');
      return;
    }
    if (asked.current || native === 'unavailable' || getClient().transport !== 'electron') return;
    asked.current = true;
    setNative('asking');
    void getClient()
      .call('bulwark:fs.pickFolder', {
        purpose,
        ...(startPath && isAbsolutePath(startPath) ? { startPath } : {}),
      })
      .then((r) => {
        if (!r.ok) {
          setNative('unavailable'); // the in-app picker below takes over
          return;
        }
        setNative('idle');
        if (r.value.path !== undefined) onChoose(r.value.path);
        else onClose();
      });
  }, [isOpen, native, purpose, startPath, onChoose, onClose]);
  if (native === 'asking') return null;
  const inApp = native === 'unavailable' || getClient().transport !== 'electron';
  return (
    <Dialog isOpen={isOpen && inApp} onClose={onClose} title={title} size="lg">
      {isOpen ? <PickerBody onChoose={onChoose} onClose={onClose} startPath={startPath} /> : null}
    </Dialog>
  );
}

function PickerBody({
  onChoose,
  onClose,
  startPath,
}: {
  onChoose: (path: string) => void;
  onClose: () => void;
  startPath?: string;
}) {
  const [store] = useState(() => createFolderPickerStore(getClient));
  const s = useStore(store, (x: FolderPickerStore) => x);
  const [typed, setTyped] = useState('');
  const [typedError, setTypedError] = useState<string | undefined>();

  useEffect(() => {
    void store.getState().open(startPath && isAbsolutePath(startPath) ? startPath : undefined);
  }, [store, startPath]);

  const unsupported = s.status === 'error' && s.error?.code === 'UNSUPPORTED';

  function chooseTyped() {
    const path = typed.trim();
    if (!isAbsolutePath(path)) {
      setTypedError(
        'Type the full path of the folder, starting from the drive: for example C:\\Users\\Ann\\Documents or /home/ann/Documents.',
      );
      return;
    }
    onChoose(path);
  }

  return (
    <div className="picker">
      {unsupported ? (
        <p className="muted">
          Browsing the folders of this computer is not available here. Type the folder’s full path below.
        </p>
      ) : (
        <div className="picker__browse">
          <div className="picker__places">
            <h3 className="picker__heading">Places</h3>
            <ul className="picker__place-list">
              {s.places.map((p) => (
                <li key={p.path}>
                  <Button
                    variant="ghost"
                    size="sm"
                    icon={HardDrive}
                    className={s.path === p.path ? 'is-current' : undefined}
                    onPress={() => void store.getState().open(p.path)}
                  >
                    {p.label}
                  </Button>
                </li>
              ))}
            </ul>
          </div>
          <div className="picker__folders">
            <div className="picker__where">
              <Button
                size="sm"
                icon={ArrowUp}
                isDisabled={s.parent === undefined}
                onPress={() => void store.getState().open(s.parent)}
              >
                Up one level
              </Button>
              <span className="picker__path mono ellipsis-start" title={s.path}>
                <bdi dir="ltr">{s.path ?? 'Choose a place to start'}</bdi>
              </span>
            </div>
            {s.status === 'loading' ? <Pending>Reading the folders…</Pending> : null}
            {s.status === 'error' && s.error ? <InlineError error={s.error} /> : null}
            {s.status === 'ready' && s.path !== undefined && s.folders.length === 0 ? (
              <p className="muted">This folder has no folders inside.</p>
            ) : null}
            {s.path !== undefined && s.folders.length > 0 ? (
              <GridList
                aria-label={`Folders in ${baseName(s.path)}`}
                className="picker__list"
                items={s.folders}
                onAction={(key) => void store.getState().open(String(key))}
              >
                {(f) => (
                  <GridListItem id={f.path} textValue={f.name} className="picker__item">
                    <Folder aria-hidden="true" size={18} />
                    <span>{f.name}</span>
                  </GridListItem>
                )}
              </GridList>
            ) : null}
            {s.truncated ? <p className="muted small">Only the first 1 000 folders are listed.</p> : null}
          </div>
        </div>
      )}
      <div className="picker__typed">
        <TextField
          label="Or type the folder’s full path"
          value={typed}
          onChange={(v) => {
            setTyped(v);
            setTypedError(undefined);
          }}
          placeholder="C:\Users\Ann\Documents"
          errorMessage={typedError}
        />
        <Button onPress={chooseTyped} isDisabled={typed.trim() === ''}>
          Use this path
        </Button>
      </div>
      <div className="dialog__footer picker__footer">
        <Button onPress={onClose}>Cancel</Button>
        <Button
          variant="primary"
          icon={FolderOpen}
          isDisabled={s.path === undefined}
          onPress={() => s.path !== undefined && onChoose(s.path)}
        >
          {s.path !== undefined ? `Choose “${baseName(s.path)}”` : 'Choose this folder'}
        </Button>
      </div>
    </div>
  );
}
