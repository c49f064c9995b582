import { Check, Copy, Lock, ShieldAlert, ShieldCheck } from 'lucide-react';
import { useState } from 'react';
import { Button as AriaButton, Disclosure, DisclosurePanel, Heading } from 'react-aria-components';

import type {
  TargetCheckStatus,
  TargetPolicy,
  TargetTestResult,
} from '../../../../src-main/contract/target-test.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { Button } from '../../ui/Button.tsx';
import { StatusBadge, type Tone } from '../../ui/StatusBadge.tsx';

const STATUS: Record<TargetCheckStatus, { tone: Tone; label: string }> = {
  passed: { tone: 'success', label: 'Passed' },
  failed: { tone: 'danger', label: 'Failed' },
  warning: { tone: 'warning', label: 'Needs attention' },
  info: { tone: 'neutral', label: 'Good to know' },
  skipped: { tone: 'neutral', label: 'Not tested' },
};

export function verdictTone(verdict: TargetTestResult['verdict']): 'success' | 'info' | 'danger' {
  return verdict === 'immutable' ? 'success' : verdict === 'tamper-evident' ? 'info' : 'danger';
}

/** The verdict, large: what the office manager needs to read first. */
export function Verdict({ result }: { result: TargetTestResult }) {
  const tone = verdictTone(result.verdict);
  const Icon = tone === 'success' ? Lock : tone === 'info' ? ShieldCheck : ShieldAlert;
  return (
    <section
      className={`verdict verdict--${tone}`}
      aria-label="Test result"
      data-verdict={result.verdict}
      role="status"
    >
      <Icon aria-hidden="true" size={28} className="verdict__icon" />
      <div>
        <p className="verdict__headline">{result.headline}</p>
        <p className="verdict__reason">{result.reason}</p>
      </div>
    </section>
  );
}

async function copyText(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    notifyStore.getState().toast(`${what} copied`);
  } catch {
    notifyStore
      .getState()
      .toast(`Could not copy the ${what.toLowerCase()}: select the text and copy it by hand`, 'warning');
  }
}

function CopyBlock({ label, text, copyLabel }: { label: string; text: string; copyLabel: string }) {
  const [copied, setCopied] = useState(false);
  const id = `copy-${copyLabel.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <div className="copy-block">
      <div className="copy-block__header">
        <span className="field__label" id={id}>
          {label}
        </span>
        <Button
          size="sm"
          icon={copied ? Check : Copy}
          onPress={() => {
            void copyText(text, copyLabel).then(() => setCopied(true));
          }}
        >
          {copyLabel === 'Policy' ? 'Copy policy' : `Copy ${copyLabel.toLowerCase()}`}
        </Button>
      </div>
      <pre className="copy-block__text mono" aria-labelledby={id} tabIndex={0}>
        {text}
      </pre>
    </div>
  );
}

/** The least-privilege permissions to give the backup keys, ready to copy. */
function PolicyView({ policy }: { policy: TargetPolicy }) {
  return (
    <section className="policy" aria-labelledby="policy-title">
      <h3 id="policy-title" className="policy__title">
        Give Bulwark keys that can only add backups
      </h3>
      <p>
        Create a separate user (or application key) for Bulwark with only these permissions, then test again
        with its keys. Whoever manages the storage account can apply it.
      </p>
      <CopyBlock
        label="Bucket policy (Amazon S3, Wasabi, MinIO, Ceph)"
        text={policy.bucketPolicy}
        copyLabel="Policy"
      />
      <Disclosure className="details">
        <Heading level={4} className="details__heading">
          <AriaButton slot="trigger" className="details__trigger">
            Other forms: a user policy, or a Backblaze B2 key
          </AriaButton>
        </Heading>
        <DisclosurePanel className="details__panel">
          <CopyBlock
            label="User policy (the same, without the principal)"
            text={policy.userPolicy}
            copyLabel="User policy"
          />
          <p>
            <strong>Backblaze B2 application key</strong>, for this bucket only, with the capabilities:{' '}
            <span className="mono">{policy.b2Capabilities.join(', ')}</span>. It must not have:{' '}
            <span className="mono">{policy.b2ForbiddenCapabilities.join(', ')}</span>.
          </p>
          <pre className="copy-block__text mono">{policy.explanation}</pre>
        </DisclosurePanel>
      </Disclosure>
    </section>
  );
}

/** Every check of the self-test in plain words, with what the server answered under "Technical details". */
export function TestResultView({ result }: { result: TargetTestResult }) {
  return (
    <div className="test-result">
      <Verdict result={result} />
      <ul className="check-list" aria-label="Checks">
        {result.checks.map((c) => {
          const s = STATUS[c.status];
          return (
            <li key={c.id} className="check" data-check={c.id} data-status={c.status}>
              <div className="check__head">
                <span className="check__title">{c.title}</span>
                <StatusBadge tone={s.tone}>{s.label}</StatusBadge>
              </div>
              <p className="check__explanation">{c.explanation}</p>
            </li>
          );
        })}
      </ul>
      {result.advice.length > 0 ? (
        <section aria-labelledby="advice-title" className="advice">
          <h3 id="advice-title" className="policy__title">
            What to do
          </h3>
          <ul className="advice__list">
            {result.advice.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ul>
        </section>
      ) : null}
      {result.policy ? <PolicyView policy={result.policy} /> : null}
      <Disclosure className="details">
        <Heading level={3} className="details__heading">
          <AriaButton slot="trigger" className="details__trigger">
            Technical details (what the storage answered)
          </AriaButton>
        </Heading>
        <DisclosurePanel className="details__panel">
          <ul className="check-details">
            {result.checks.map((c) => (
              <li key={c.id}>
                <strong>{c.title}:</strong> <span className="mono break">{c.detail}</span>
              </li>
            ))}
          </ul>
        </DisclosurePanel>
      </Disclosure>
    </div>
  );
}
