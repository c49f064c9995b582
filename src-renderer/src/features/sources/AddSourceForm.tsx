import { useId, useState, type FormEvent } from 'react';

import { sourcesSelectors, sourcesStore, useSourcesStore } from '../../stores/sources/index.ts';
import { ErrorNotice } from '../../ui/StatusView.tsx';

/** Recovery point objectives offered: how old the newest good snapshot may get before an alert. */
const RPO_CHOICES = [
  [15, '15 minutes'],
  [60, '1 hour'],
  [240, '4 hours'],
  [720, '12 hours'],
  [1440, '1 day'],
] as const;

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** Adds a folder source: a name, the folders (absolute paths), exclude patterns and the RPO. */
export function AddSourceForm({ onDone }: { onDone: () => void }) {
  const id = useId();
  const adding = useSourcesStore(sourcesSelectors.adding);
  const error = useSourcesStore(sourcesSelectors.addError);
  const [name, setName] = useState('');
  const [paths, setPaths] = useState('');
  const [excludes, setExcludes] = useState('');
  const [rpo, setRpo] = useState(60);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const exclude = lines(excludes);
    const added = await sourcesStore.getState().add({
      name: name.trim(),
      paths: lines(paths),
      ...(exclude.length > 0 ? { exclude } : {}),
      rpoMinutes: rpo,
    });
    if (added) onDone();
  }

  function cancel() {
    sourcesStore.getState().clearAddError();
    onDone();
  }

  return (
    <form className="form" aria-label="Add a folder" onSubmit={(e) => void submit(e)}>
      <label htmlFor={`${id}-name`}>Name</label>
      <input
        id={`${id}-name`}
        name="name"
        required
        maxLength={200}
        placeholder="Accounting"
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <label htmlFor={`${id}-paths`}>Folders</label>
      <textarea
        id={`${id}-paths`}
        name="paths"
        required
        rows={2}
        placeholder="/home/office/Accounting (one folder per line)"
        value={paths}
        onChange={(e) => setPaths(e.target.value)}
      />
      <label htmlFor={`${id}-exclude`}>Leave out</label>
      <textarea
        id={`${id}-exclude`}
        name="exclude"
        rows={2}
        placeholder="*.tmp, node_modules … (one pattern per line, optional)"
        value={excludes}
        onChange={(e) => setExcludes(e.target.value)}
      />
      <label htmlFor={`${id}-rpo`}>Back up at least every</label>
      <select id={`${id}-rpo`} name="rpo" value={rpo} onChange={(e) => setRpo(Number(e.target.value))}>
        {RPO_CHOICES.map(([minutes, label]) => (
          <option key={minutes} value={minutes}>
            {label}
          </option>
        ))}
      </select>
      <div className="form__actions">
        <button type="submit" disabled={adding === 'saving'}>
          {adding === 'saving' ? 'Adding…' : 'Add and protect'}
        </button>
        <button type="button" onClick={cancel} disabled={adding === 'saving'}>
          Cancel
        </button>
      </div>
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  );
}
