import { CircleCheck, TriangleAlert } from 'lucide-react';

import type { CopyMedium, SourceStatus } from '../../../../src-main/contract/model.ts';
import { hrefOf } from '../../stores/router/index.ts';
import { LinkButton } from '../../ui/Button.tsx';
import '../sources/copies.css';

/** Each kind of media in a few words, as an office manager would say it. */
export const MEDIUM_LABEL: Readonly<Record<CopyMedium, string>> = {
  'this-disk': 'this computer’s disk',
  'other-disk': 'another disk',
  nas: 'network folder (NAS)',
  cloud: 'cloud bucket',
};

/**
 * The 3-2-1 line of a source card: "2 copies · 1 off-site ✓" when the rule is met, else what is short
 * ("Only one copy — add an off-site copy") with a link to the Sources page; the places are listed under it.
 * A service that does not say (an older one) shows nothing rather than a guess.
 */
export function CopiesPanel({ source }: { source: SourceStatus }) {
  const copies = source.copies;
  if (!copies) return null;
  const id = `copies-${source.id}`;
  const places = copies.places.map((p) => {
    const state = p.behind ? ', late' : p.newestAt === undefined ? ', nothing there yet' : '';
    return `${p.name} (${MEDIUM_LABEL[p.medium]}${p.offsite ? ', off-site' : ''}${state})`;
  });
  return (
    <section className="copies" aria-labelledby={id}>
      <p className={`copies-line ${copies.met ? 'copies-line--met' : 'copies-line--short'}`}>
        {copies.met ? (
          <CircleCheck size={16} aria-hidden="true" />
        ) : (
          <TriangleAlert size={16} aria-hidden="true" />
        )}
        <span id={id}>
          <span className="visually-hidden">Copies of the backups: </span>
          {copies.summary}
          {copies.met ? <span className="visually-hidden"> (3-2-1 met)</span> : null}
        </span>
        {!copies.met ? (
          <LinkButton href={hrefOf('sources')} size="sm" variant="ghost">
            {`Add a copy of ${source.name}`}
          </LinkButton>
        ) : null}
      </p>
      {places.length > 0 ? (
        <p className="copies-line copies-line__places">{`In: ${places.join(' · ')}`}</p>
      ) : null}
      {!copies.met && copies.missing.length > 1 ? (
        <ul className="copies-missing" aria-label={`What ${source.name} still needs`}>
          {copies.missing.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
