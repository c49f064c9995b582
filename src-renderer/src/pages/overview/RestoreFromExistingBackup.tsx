import { DatabaseBackup } from 'lucide-react';
import { useState, type FormEvent } from 'react';

import type { RequestOf } from '../../../../src-main/contract/ipc.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import { getClient } from '../../api/index.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { routerStore } from '../../stores/router/index.ts';
import { snapshotsStore } from '../../stores/snapshots/index.ts';
import { sourcesStore } from '../../stores/sources/index.ts';
import { targetsStore } from '../../stores/targets/index.ts';
import { Button } from '../../ui/Button.tsx';
import { Dialog } from '../../ui/Dialog.tsx';
import { RadioGroup, TextField } from '../../ui/fields.tsx';
import { InlineError } from '../../ui/States.tsx';

type Kind = 'fs' | 's3';

const KIND_CHOICES = [
  {
    value: 'fs',
    label: 'A folder',
    description: 'A disk or a network share (NAS) connected to this computer.',
  },
  {
    value: 's3',
    label: 'Cloud storage (S3)',
    description: 'A bucket at Amazon, Wasabi, Backblaze or a storage server in the office.',
  },
] as const;

/**
 * Disaster recovery on a new or reinstalled computer: "Restore from an existing backup" asks only where the
 * backups are and their password. The service connects (the catalog is rebuilt from the backups), each
 * backed-up folder comes back paused, and its backups appear on the Restore page.
 */
export function RestoreFromExistingBackup() {
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<Kind>('fs');
  const [path, setPath] = useState('');
  const [bucket, setBucket] = useState('');
  const [prefix, setPrefix] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const [accessKeyId, setAccessKeyId] = useState('');
  const [secretAccessKey, setSecretAccessKey] = useState('');
  const [password, setPassword] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ResultError | undefined>();

  function request(): RequestOf<'bulwark:targets.connect'> {
    if (kind === 'fs') return { kind: 'fs', path: path.trim(), password };
    return {
      kind: 's3',
      bucket: bucket.trim(),
      ...(prefix.trim() ? { prefix: prefix.trim() } : {}),
      ...(endpoint.trim() ? { endpoint: endpoint.trim() } : {}),
      ...(accessKeyId.trim() ? { accessKeyId: accessKeyId.trim(), secretAccessKey } : {}),
      password,
    };
  }

  async function connect(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(undefined);
    const r = await getClient().call('bulwark:targets.connect', request());
    setPending(false);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    const folders = r.value.sources.length;
    notifyStore
      .getState()
      .toast(
        `Connected: ${r.value.snapshots} ${r.value.snapshots === 1 ? 'backup' : 'backups'} of ${folders} ${folders === 1 ? 'folder' : 'folders'} found`,
        'success',
      );
    setPassword('');
    setSecretAccessKey('');
    setOpen(false);
    void sourcesStore.getState().load();
    void targetsStore.getState().load();
    void snapshotsStore.getState().load();
    routerStore.getState().navigate('restore');
  }

  return (
    <>
      <Button icon={DatabaseBackup} onPress={() => setOpen(true)}>
        Restore from an existing backup
      </Button>
      <Dialog
        isOpen={open}
        onClose={() => setOpen(false)}
        title="Restore from an existing backup"
        dismissable={!pending}
      >
        <form className="form" onSubmit={(e) => void connect(e)} aria-describedby="dr-intro">
          <p id="dr-intro">
            On a new or reinstalled computer: say where the backups are and give their password. Bulwark reads
            them, and their files appear on the Restore page. Nothing in the backups is changed.
          </p>
          <RadioGroup label="Where are the backups?" value={kind} onChange={setKind} choices={KIND_CHOICES} />
          {kind === 'fs' ? (
            <TextField
              label="Folder"
              description="The full path, for example /mnt/nas/backups"
              value={path}
              onChange={setPath}
              isRequired
              autoFocus
            />
          ) : (
            <>
              <TextField label="Bucket" value={bucket} onChange={setBucket} isRequired autoFocus />
              <TextField label="Folder in the bucket (if any)" value={prefix} onChange={setPrefix} />
              <TextField
                label="Address of the storage service (if not Amazon)"
                description="For example https://s3.wasabisys.com"
                value={endpoint}
                onChange={setEndpoint}
                type="url"
              />
              <TextField label="Access key" value={accessKeyId} onChange={setAccessKeyId} />
              <TextField
                label="Secret key"
                value={secretAccessKey}
                onChange={setSecretAccessKey}
                type="password"
              />
            </>
          )}
          <TextField
            label="Password of the backups"
            value={password}
            onChange={setPassword}
            type="password"
            isRequired
          />
          {error ? <InlineError error={error} prefix="Could not connect" /> : null}
          <div className="dialog__footer">
            <Button variant="ghost" onPress={() => setOpen(false)} isDisabled={pending}>
              Cancel
            </Button>
            <Button variant="primary" type="submit" isPending={pending}>
              Connect and show the backups
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
