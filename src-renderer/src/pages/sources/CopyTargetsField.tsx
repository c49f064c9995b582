import { Checkbox, CheckboxGroup, Label, Text } from 'react-aria-components';

import type { Target } from '../../../../src-main/contract/model.ts';
import './copies.css';

/** Where a destination keeps its copy, in a few words (a cloud bucket is the off-site one). */
function placeWords(t: Target): string {
  if (t.kind === 's3') return 'Cloud bucket — off-site';
  if (t.isDefault) return 'On this computer';
  return `Folder ${t.location}`;
}

/**
 * "Also copy to": the other destinations a source's backups are copied to after each backup (3-2-1). The
 * destination it backs up to is left out (a copy there would be no second copy). With no other destination
 * there is nothing to choose, and the field says how to get one.
 */
export function CopyTargetsField({
  targets,
  primaryId,
  value,
  onChange,
}: {
  targets: readonly Target[];
  primaryId: string;
  value: readonly string[];
  onChange: (ids: string[]) => void;
}) {
  const others = targets.filter((t) => t.id !== primaryId);
  if (others.length === 0)
    return (
      <div className="field">
        <span className="field__label">Also copy to</span>
        <p className="field__description">
          Add a second destination on the Targets page (a cloud bucket is best: it is off-site) to keep an
          extra copy of these backups.
        </p>
      </div>
    );
  return (
    <CheckboxGroup
      className="field copy-targets"
      value={value.filter((id) => id !== primaryId)}
      onChange={onChange}
    >
      <Label className="field__label">Also copy to</Label>
      <Text slot="description" className="field__description">
        After each backup, Bulwark copies it to these destinations too. Three copies in two kinds of places,
        one of them off-site, keep your files safe from a fire, a theft or a failed disk.
      </Text>
      <div className="copy-targets__choices">
        {others.map((t) => (
          <Checkbox key={t.id} value={t.id} className="copy-choice">
            <span className="checkbox__box" aria-hidden="true" />
            <span className="copy-choice__text">
              <span>{t.name}</span>
              <span className="copy-choice__hint">{placeWords(t)}</span>
            </span>
          </Checkbox>
        ))}
      </div>
    </CheckboxGroup>
  );
}
