import { FolderPlus, X } from 'lucide-react';
import { useEffect, useState } from 'react';
import {
  Button as AriaButton,
  Disclosure,
  DisclosurePanel,
  Heading,
  Label,
  TextArea,
  TextField as AriaTextField,
  Text,
} from 'react-aria-components';

import type { SourceStatus } from '../../../../src-main/contract/model.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import { baseName } from '../../stores/folders/store.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { sourcesSelectors, sourcesStore, useSourcesStore } from '../../stores/sources/index.ts';
import { targetsSelectors, useTargetsStore } from '../../stores/targets/index.ts';
import { Button, IconButton } from '../../ui/Button.tsx';
import { Dialog } from '../../ui/Dialog.tsx';
import { Select, TextField } from '../../ui/fields.tsx';
import { FolderPicker } from '../../ui/FolderPicker.tsx';
import { InlineError } from '../../ui/States.tsx';
import { SCHEDULE_CHOICES } from '../../ui/words.ts';
import { formatEvery } from '../../ui/format.ts';
import { CopyTargetsField } from './CopyTargetsField.tsx';

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** A refusal of the form: the contract words its field messages for people, so they are shown as they are. */
function formMessage(error: ResultError): string | undefined {
  return error.code === 'INVALID_ARGUMENT' ? error.message : undefined;
}

/** Add a folder to protect, or change one: its name, its folders, how often at least, where it goes. */
export function SourceFormDialog({
  isOpen,
  onClose,
  source,
}: {
  isOpen: boolean;
  onClose: () => void;
  /** the source to edit; absent: a new one */
  source?: SourceStatus;
}) {
  return (
    <Dialog
      isOpen={isOpen}
      onClose={onClose}
      title={source ? `Change ${source.name}` : 'Add a folder to protect'}
      size="md"
    >
      {isOpen ? <SourceForm source={source} onDone={onClose} /> : null}
    </Dialog>
  );
}

function SourceForm({ source, onDone }: { source?: SourceStatus; onDone: () => void }) {
  const targets = useTargetsStore(targetsSelectors.items);
  const adding = useSourcesStore(sourcesSelectors.adding);
  const addError = useSourcesStore(sourcesSelectors.addError);
  const [name, setName] = useState(source?.name ?? '');
  const [nameTouched, setNameTouched] = useState(source !== undefined);
  const [paths, setPaths] = useState<string[]>(source ? [...source.paths] : []);
  const [rpo, setRpo] = useState(String(source?.rpoMinutes ?? 60));
  const [targetId, setTargetId] = useState(
    source?.targetId ?? targets.find((t) => t.isDefault)?.id ?? targets[0]?.id ?? '',
  );
  const [copyTargetIds, setCopyTargetIds] = useState<string[]>(source?.copyTargetIds ?? []);
  const [excludes, setExcludes] = useState((source?.exclude ?? []).join('\n'));
  const [picking, setPicking] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<ResultError | undefined>();
  const [missing, setMissing] = useState<{ name?: string; paths?: string }>({});

  useEffect(() => () => sourcesStore.getState().clearAddError(), []);

  const scheduleChoices = SCHEDULE_CHOICES.some((c) => String(c.minutes) === rpo)
    ? SCHEDULE_CHOICES
    : [...SCHEDULE_CHOICES, { minutes: Number(rpo), label: formatEvery(Number(rpo)).replace(/^e/, 'E') }];

  function addPath(path: string) {
    setPicking(false);
    setPaths((p) => (p.includes(path) ? p : [...p, path]));
    setMissing((m) => ({ ...m, paths: undefined }));
    if (!nameTouched && name.trim() === '') setName(baseName(path));
  }

  async function save() {
    const problems = {
      name: name.trim() === '' ? 'Give the folder a name, for example “Accounting”.' : undefined,
      paths: paths.length === 0 ? 'Choose at least one folder.' : undefined,
    };
    setMissing(problems);
    if (problems.name || problems.paths) return;
    const exclude = lines(excludes);
    const rpoMinutes = Number(rpo);
    // a copy to the destination it now backs up to would be no second copy
    const copies = copyTargetIds.filter((id) => id !== targetId);
    setSaving(true);
    setError(undefined);
    if (source) {
      const failure = await sourcesStore.getState().update({
        sourceId: source.id,
        name: name.trim(),
        paths,
        exclude,
        rpoMinutes,
        ...(targetId !== '' && targetId !== source.targetId ? { targetId } : {}),
        copyTargetIds: copies,
      });
      setSaving(false);
      if (failure) {
        setError(failure);
        return;
      }
      notifyStore.getState().toast(`${name.trim()} was changed`);
      onDone();
      return;
    }
    const added = await sourcesStore.getState().add({
      name: name.trim(),
      paths,
      ...(exclude.length > 0 ? { exclude } : {}),
      rpoMinutes,
      ...(targetId !== '' ? { targetId } : {}),
      ...(copies.length > 0 ? { copyTargetIds: copies } : {}),
    });
    setSaving(false);
    if (added) {
      notifyStore.getState().toast(`${name.trim()} is protected now: its first backup has started`);
      onDone();
    }
  }

  const shownError = error ?? (adding === 'error' ? addError : undefined);
  const friendly = shownError ? formMessage(shownError) : undefined;

  return (
    <form
      className="form"
      aria-label={source ? `Change ${source.name}` : 'Add a folder'}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="field">
        <span className="field__label" id="folders-label">
          Folders to back up
        </span>
        {paths.length > 0 ? (
          <ul className="path-list" aria-labelledby="folders-label">
            {paths.map((p) => (
              <li key={p} className="path-list__item">
                <span className="mono path-list__path">{p}</span>
                <IconButton
                  icon={X}
                  size="sm"
                  label={`Remove folder ${p}`}
                  onPress={() => setPaths((x) => x.filter((y) => y !== p))}
                />
              </li>
            ))}
          </ul>
        ) : (
          <p className="field__description">No folder chosen yet.</p>
        )}
        <div>
          <Button icon={FolderPlus} onPress={() => setPicking(true)}>
            {paths.length === 0 ? 'Choose a folder…' : 'Add another folder…'}
          </Button>
        </div>
        {missing.paths ? (
          <p className="field__error" role="alert">
            {missing.paths}
          </p>
        ) : null}
      </div>

      <TextField
        label="Name"
        description="How this folder is called in Bulwark, for example “Accounting” or “Patient records”."
        value={name}
        onChange={(v) => {
          setName(v);
          setNameTouched(true);
          setMissing((m) => ({ ...m, name: undefined }));
        }}
        maxLength={200}
        errorMessage={missing.name}
      />

      <Select
        label="Back up at least"
        description="Changes are usually backed up within a minute; this is the longest Bulwark may go without a backup before it warns you."
        value={rpo}
        onChange={setRpo}
        choices={scheduleChoices.map((c) => ({ value: String(c.minutes), label: c.label }))}
      />

      {targets.length > 1 ? (
        <Select
          label="Keep the backups in"
          value={targetId}
          onChange={setTargetId}
          choices={targets.map((t) => ({ value: t.id, label: t.name }))}
        />
      ) : null}

      {targets.length > 0 ? (
        <CopyTargetsField
          targets={targets}
          primaryId={targetId}
          value={copyTargetIds}
          onChange={setCopyTargetIds}
        />
      ) : null}

      <Disclosure className="details" defaultExpanded={(source?.exclude.length ?? 0) > 0}>
        <Heading level={3} className="details__heading">
          <AriaButton slot="trigger" className="details__trigger">
            More options
          </AriaButton>
        </Heading>
        <DisclosurePanel className="details__panel">
          <AriaTextField className="field" value={excludes} onChange={setExcludes}>
            <Label className="field__label">Leave out files matching</Label>
            <TextArea className="input textarea" rows={3} placeholder={'*.tmp\n~$*'} />
            <Text slot="description" className="field__description">
              One pattern per line, for example *.tmp for temporary files.
            </Text>
          </AriaTextField>
        </DisclosurePanel>
      </Disclosure>

      {shownError ? (
        friendly ? (
          <p className="inline-error" role="alert">
            {friendly}
          </p>
        ) : (
          <InlineError error={shownError} prefix={source ? 'Could not save' : 'Could not add the folder'} />
        )
      ) : null}

      <div className="dialog__footer">
        <Button onPress={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" isPending={saving}>
          {source ? 'Save changes' : 'Add and protect'}
        </Button>
      </div>

      <FolderPicker
        isOpen={picking}
        onClose={() => setPicking(false)}
        onChoose={addPath}
        startPath={paths[paths.length - 1]}
      />
    </form>
  );
}
