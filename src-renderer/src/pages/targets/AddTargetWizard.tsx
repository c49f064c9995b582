import { ArrowLeft, ArrowRight, FolderOpen, ShieldQuestion } from 'lucide-react';
import { useState } from 'react';
import { Button as AriaButton, Disclosure, DisclosurePanel, Heading } from 'react-aria-components';

import type { RequestOf } from '../../../../src-main/contract/ipc.ts';
import {
  CANNOT_LOCK,
  estimateLockCost,
  formatDollars,
  PROVIDERS,
  providerById,
  providerEndpoint,
  type ProviderId,
  type ProviderPreset,
} from '../../../../src-main/contract/providers.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import type { TargetTestResult } from '../../../../src-main/contract/target-test.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { targetsStore } from '../../stores/targets/index.ts';
import { Banner } from '../../ui/Banner.tsx';
import { Button } from '../../ui/Button.tsx';
import { Dialog } from '../../ui/Dialog.tsx';
import { RadioGroup, Select, Switch, TextField } from '../../ui/fields.tsx';
import { FolderPicker } from '../../ui/FolderPicker.tsx';
import { InlineError } from '../../ui/States.tsx';
import { TestResultView } from './TestResult.tsx';

type Step = 'provider' | 'location' | 'protection' | 'test' | 'save' | 'done';
type LockMode = 'COMPLIANCE' | 'GOVERNANCE';

const STEP_NAMES: Record<Exclude<Step, 'done'>, string> = {
  provider: 'Kind of storage',
  location: 'Where and keys',
  protection: 'Protection',
  test: 'Test',
  save: 'Backups',
};

const LOCK_DAYS_CHOICES = [7, 14, 30, 60, 90, 180, 365, 730, 2555, 3650] as const;

function daysLabel(days: number): string {
  if (days % 365 === 0) return days === 365 ? '1 year' : `${days / 365} years`;
  if (days === 2555) return '7 years';
  return `${days} days`;
}

interface LocationForm {
  region: string;
  endpoint: string;
  bucket: string;
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  path: string;
}

const emptyLocation = (p: ProviderPreset): LocationForm => ({
  region: p.regions[0]?.id ?? '',
  endpoint: providerEndpoint(p, p.regions[0]?.id ?? '') ?? '',
  bucket: '',
  prefix: 'bulwark',
  accessKeyId: '',
  secretAccessKey: '',
  path: '',
});

/** A refusal of a form field: the contract words these for people, so they are shown as they are. */
const formMessage = (e: ResultError): string | undefined =>
  e.code === 'INVALID_ARGUMENT' ? e.message : undefined;

function ErrorView({ error, prefix }: { error: ResultError; prefix: string }) {
  const friendly = formMessage(error);
  return friendly ? (
    <p className="inline-error" role="alert">
      {friendly}
    </p>
  ) : (
    <InlineError error={error} prefix={prefix} />
  );
}

/** "Add target": kind of storage → where and keys → protection and cost → test → new or existing backups. */
export function AddTargetWizard({ isOpen, onClose }: { isOpen: boolean; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <Dialog isOpen={isOpen} onClose={onClose} title="Add a target" size="lg" dismissable={!busy}>
      {isOpen ? <Wizard onClose={onClose} onBusy={setBusy} /> : null}
    </Dialog>
  );
}

function Wizard({ onClose, onBusy }: { onClose: () => void; onBusy: (busy: boolean) => void }) {
  const [step, setStep] = useState<Step>('provider');
  const [providerId, setProviderId] = useState<ProviderId>('aws');
  const provider = providerById(providerId);
  const [loc, setLoc] = useState<LocationForm>(() => emptyLocation(provider));
  const [missing, setMissing] = useState<Partial<Record<keyof LocationForm, string>>>({});
  const [picking, setPicking] = useState(false);
  const [mode, setMode] = useState<LockMode>('COMPLIANCE');
  const [lockDays, setLockDays] = useState('30');
  const [sizeGb, setSizeGb] = useState('200');
  const [testing, setTesting] = useState(false);
  const [testError, setTestError] = useState<ResultError | undefined>();
  const [result, setResult] = useState<TargetTestResult | undefined>();
  const [acceptRisk, setAcceptRisk] = useState(false);
  const [repository, setRepository] = useState<'new' | 'existing'>('new');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [password2, setPassword2] = useState('');
  const [saveMissing, setSaveMissing] = useState<{ name?: string; password?: string; password2?: string }>(
    {},
  );
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<ResultError | undefined>();
  const [savedName, setSavedName] = useState('');

  const isS3 = provider.kind === 's3';
  const steps: Exclude<Step, 'done'>[] = isS3
    ? ['provider', 'location', 'protection', 'test', 'save']
    : ['provider', 'location', 'test', 'save'];
  const index = step === 'done' ? steps.length : steps.indexOf(step);

  const update = (patch: Partial<LocationForm>) => {
    setLoc((l) => ({ ...l, ...patch }));
    setResult(undefined);
    setTestError(undefined);
    setAcceptRisk(false);
    setMissing((m) => {
      const next = { ...m };
      for (const k of Object.keys(patch)) delete next[k as keyof LocationForm];
      return next;
    });
  };

  function chooseProvider(id: ProviderId) {
    setProviderId(id);
    setLoc(emptyLocation(providerById(id)));
    setMissing({});
    setResult(undefined);
    setTestError(undefined);
  }

  function checkLocation(): boolean {
    const m: Partial<Record<keyof LocationForm, string>> = {};
    if (!isS3) {
      if (loc.path.trim() === '') m.path = 'Choose a folder, or type its full path.';
    } else {
      if (loc.bucket.trim() === '') m.bucket = 'Give the name of the bucket.';
      if (!provider.endpointTemplate && providerId !== 'aws' && loc.endpoint.trim() === '')
        m.endpoint = `Give the address of the service, for example ${provider.endpointExample ?? 'https://…'}.`;
      if (!provider.regionOptional && loc.region.trim() === '') m.region = 'Choose the region of the bucket.';
      if (loc.accessKeyId.trim() === '') m.accessKeyId = 'Give the access key (key ID) for Bulwark.';
      if (loc.secretAccessKey === '')
        m.secretAccessKey = 'Give the secret key that goes with the access key.';
    }
    setMissing(m);
    return Object.keys(m).length === 0;
  }

  const endpoint = (): string | undefined => {
    if (providerId === 'aws') return undefined;
    const e = loc.endpoint.trim();
    return e === '' ? undefined : e;
  };

  const s3Where = () => ({
    kind: 's3' as const,
    bucket: loc.bucket.trim(),
    ...(loc.prefix.trim() !== '' ? { prefix: loc.prefix.trim().replace(/^\/+|\/+$/g, '') } : {}),
    ...(endpoint() ? { endpoint: endpoint() } : {}),
    ...(loc.region.trim() !== '' ? { region: loc.region.trim() } : {}),
    accessKeyId: loc.accessKeyId.trim(),
    secretAccessKey: loc.secretAccessKey,
  });

  async function runTest() {
    setTesting(true);
    onBusy(true);
    setTestError(undefined);
    setResult(undefined);
    setAcceptRisk(false);
    const request: RequestOf<'bulwark:targets.test'> = isS3
      ? { ...s3Where(), mode }
      : { kind: 'fs', path: loc.path.trim() };
    const r = await targetsStore.getState().test(request);
    setTesting(false);
    onBusy(false);
    if (!r.ok) {
      setTestError(r.error);
      return;
    }
    setResult(r.value);
    setRepository(r.value.existingRepository ? 'existing' : 'new');
    if (name === '')
      setName(
        isS3
          ? `${provider.id === 's3-other' ? 'Cloud' : provider.name} – ${loc.bucket.trim()}`
          : 'Network drive',
      );
  }

  async function save() {
    const m = {
      name: name.trim() === '' ? 'Give the target a name, for example “Office cloud”.' : undefined,
      password: password === '' ? 'Give the password of the backups.' : undefined,
      password2:
        repository === 'new' && password !== password2 ? 'The two passwords are not the same.' : undefined,
    };
    setSaveMissing(m);
    if (m.name || m.password || m.password2) return;
    setSaving(true);
    onBusy(true);
    setSaveError(undefined);
    const common = { name: name.trim(), password, repository };
    const request: RequestOf<'bulwark:targets.add'> = isS3
      ? {
          ...s3Where(),
          ...common,
          ...(repository === 'new' ? { objectLock: { mode, days: Number(lockDays) } } : {}),
        }
      : { kind: 'fs', path: loc.path.trim(), ...common };
    const r = await targetsStore.getState().add(request);
    setSaving(false);
    onBusy(false);
    if (!r.ok) {
      setSaveError(r.error);
      return;
    }
    setSavedName(r.value.name);
    notifyStore.getState().toast(`${r.value.name} was added`);
    setStep('done');
  }

  const canContinueAfterTest =
    result !== undefined &&
    (result.verdict !== 'not-immutable' || (acceptRisk && result.headline !== 'This folder cannot be used'));

  function next() {
    if (step === 'provider') setStep('location');
    else if (step === 'location') {
      if (!checkLocation()) return;
      setStep(isS3 ? 'protection' : 'test');
    } else if (step === 'protection') setStep('test');
    else if (step === 'test' && canContinueAfterTest) setStep('save');
  }

  function back() {
    const i = steps.indexOf(step as Exclude<Step, 'done'>);
    const prev = steps[i - 1];
    if (prev) setStep(prev);
  }

  const estimate = estimateLockCost({
    storedGb: Number(sizeGb),
    lockDays: Number(lockDays),
    pricePerGbMonth: provider.pricePerGbMonth,
    minStorageDays: provider.minStorageDays,
  });

  return (
    <div className="wizard">
      {step !== 'done' ? (
        <ol className="wizard__steps" aria-label="Steps">
          {steps.map((s, i) => (
            <li
              key={s}
              className={`wizard__step${i === index ? ' is-current' : ''}${i < index ? ' is-done' : ''}`}
              aria-current={i === index ? 'step' : undefined}
            >
              <span className="wizard__step-number" aria-hidden="true">
                {i + 1}
              </span>
              <span>{STEP_NAMES[s]}</span>
            </li>
          ))}
        </ol>
      ) : null}

      {step === 'provider' ? (
        <section className="wizard__panel" aria-label={STEP_NAMES.provider}>
          <RadioGroup
            label="Where should the backups go?"
            value={providerId}
            onChange={chooseProvider}
            choices={PROVIDERS.map((p) => ({ value: p.id, label: p.name, description: p.summary }))}
          />
          <Disclosure className="details">
            <Heading level={3} className="details__heading">
              <AriaButton slot="trigger" className="details__trigger">
                Why are Cloudflare R2 and Google Cloud Storage not listed?
              </AriaButton>
            </Heading>
            <DisclosurePanel className="details__panel">
              <ul className="advice__list">
                {CANNOT_LOCK.map((p) => (
                  <li key={p.name}>
                    <strong>{p.name}:</strong> {p.why}
                  </li>
                ))}
              </ul>
              <p>
                Backups there could be deleted by anyone who steals the keys, so Bulwark does not offer them.
              </p>
            </DisclosurePanel>
          </Disclosure>
        </section>
      ) : null}

      {step === 'location' ? (
        <section className="wizard__panel" aria-label={STEP_NAMES.location}>
          {isS3 ? (
            <>
              <Banner tone="info" title={`About ${provider.name}`}>
                <p>{provider.lockNote}</p>
              </Banner>
              <div className="form-grid">
                {provider.regions.length > 0 ? (
                  <Select
                    label="Region"
                    value={loc.region}
                    onChange={(region) =>
                      update({
                        region,
                        ...(provider.endpointTemplate
                          ? { endpoint: providerEndpoint(provider, region) ?? '' }
                          : {}),
                      })
                    }
                    choices={provider.regions.map((r) => ({ value: r.id, label: `${r.label}` }))}
                  />
                ) : (
                  <TextField
                    label="Region (if the service asks for one)"
                    value={loc.region}
                    onChange={(region) => update({ region })}
                    placeholder="us-east-1"
                    maxLength={100}
                  />
                )}
                {providerId !== 'aws' ? (
                  <TextField
                    label="Address of the service"
                    type="url"
                    value={loc.endpoint}
                    onChange={(e) => update({ endpoint: e })}
                    placeholder={provider.endpointExample}
                    errorMessage={missing.endpoint}
                    description={provider.endpointTemplate ? 'Filled in from the region.' : undefined}
                  />
                ) : null}
                <TextField
                  label="Bucket"
                  value={loc.bucket}
                  onChange={(bucket) => update({ bucket })}
                  placeholder="office-backups"
                  errorMessage={missing.bucket}
                  maxLength={63}
                />
                <TextField
                  label="Folder in the bucket"
                  description="Several computers can share a bucket, each in its own folder."
                  value={loc.prefix}
                  onChange={(prefix) => update({ prefix })}
                  maxLength={512}
                />
                <TextField
                  label="Access key"
                  value={loc.accessKeyId}
                  onChange={(accessKeyId) => update({ accessKeyId })}
                  errorMessage={missing.accessKeyId}
                  maxLength={1024}
                />
                <TextField
                  label="Secret key"
                  type="password"
                  value={loc.secretAccessKey}
                  onChange={(secretAccessKey) => update({ secretAccessKey })}
                  errorMessage={missing.secretAccessKey}
                  maxLength={1024}
                />
              </div>
              <div className="wizard__note">
                <p className="field__label">Which keys to use</p>
                <ul className="advice__list">
                  {provider.keyAdvice.map((a) => (
                    <li key={a}>{a}</li>
                  ))}
                </ul>
                <p className="field__description">
                  The keys stay on this computer; Bulwark never shows them again.
                </p>
              </div>
            </>
          ) : (
            <>
              <Banner tone="info" title="A folder is tamper-evident, not immutable">
                <p>{provider.lockNote}</p>
              </Banner>
              <TextField
                label="Folder"
                description="A folder on this computer, a USB disk, or a network share that is connected."
                value={loc.path}
                onChange={(path) => update({ path })}
                errorMessage={missing.path}
                placeholder="/mnt/nas/backups"
              />
              <div>
                <Button icon={FolderOpen} onPress={() => setPicking(true)}>
                  Choose a folder…
                </Button>
              </div>
              <FolderPicker
                isOpen={picking}
                purpose="target"
                onClose={() => setPicking(false)}
                onChoose={(p) => {
                  setPicking(false);
                  update({ path: p });
                }}
                startPath={loc.path || undefined}
              />
            </>
          )}
        </section>
      ) : null}

      {step === 'protection' ? (
        <section className="wizard__panel" aria-label={STEP_NAMES.protection}>
          <RadioGroup
            label="How strict is the lock?"
            value={mode}
            onChange={(m) => {
              setMode(m);
              setResult(undefined);
            }}
            choices={[
              {
                value: 'COMPLIANCE',
                label: 'Strict (compliance mode) — recommended',
                description:
                  'Nobody can delete or change a backup before its lock ends: not you, not the storage provider’s support, not someone who steals the keys.',
              },
              {
                value: 'GOVERNANCE',
                label: 'Flexible (governance mode)',
                description:
                  'An account with the special “bypass” permission can still delete backups early. Safe only if the keys Bulwark uses do not have it — the test checks that.',
              },
            ]}
          />
          <div className="form-grid">
            <Select
              label="Keep every backup locked for"
              value={lockDays}
              onChange={setLockDays}
              choices={LOCK_DAYS_CHOICES.map((d) => ({ value: String(d), label: daysLabel(d) }))}
              description="Backups cannot be deleted during this time, even when a retention rule would remove them."
            />
            <TextField
              label="Size of the backups (GB), for the estimate"
              value={sizeGb}
              onChange={setSizeGb}
              maxLength={9}
            />
          </div>
          <CostEstimate provider={provider} estimate={estimate} sizeGb={sizeGb} lockDays={Number(lockDays)} />
        </section>
      ) : null}

      {step === 'test' ? (
        <section className="wizard__panel" aria-label={STEP_NAMES.test}>
          <p>
            {isS3
              ? 'Bulwark writes a small test file locked for one day, then tries everything someone holding these keys could try: delete it, replace it, shorten or lift its lock. Nothing else in the bucket is touched.'
              : 'Bulwark writes a small test file in the folder, reads it back and removes it.'}
          </p>
          <div>
            <Button
              variant={result ? 'secondary' : 'primary'}
              icon={ShieldQuestion}
              onPress={() => void runTest()}
              isPending={testing}
            >
              {result || testError ? 'Test again' : 'Test'}
            </Button>
          </div>
          {testing ? (
            <p className="muted" role="status">
              Testing… this takes a few seconds.
            </p>
          ) : null}
          {testError ? <ErrorView error={testError} prefix="The test could not run" /> : null}
          {result ? <TestResultView result={result} /> : null}
          {result?.verdict === 'not-immutable' && result.headline !== 'This folder cannot be used' ? (
            <Switch isSelected={acceptRisk} onChange={setAcceptRisk}>
              Use it anyway: I understand that backups here could be deleted
            </Switch>
          ) : null}
        </section>
      ) : null}

      {step === 'save' && result ? (
        <section className="wizard__panel" aria-label={STEP_NAMES.save}>
          <RadioGroup
            label="Backups in this place"
            value={repository}
            onChange={(r) => {
              setRepository(r);
              setSaveError(undefined);
            }}
            choices={[
              {
                value: 'new',
                label: 'Create new backups',
                description:
                  'Start a new, empty set of backups here, protected by a password you choose now.',
              },
              {
                value: 'existing',
                label: 'Connect to existing backups',
                description:
                  'Use backups made earlier (by this computer before a reinstall, or another one). Bulwark reads their list from there; give their password.',
              },
            ]}
          />
          {result.existingRepository ? (
            <Banner tone="info" title="Bulwark found backups in this place">
              <p>
                {result.existingRepository.lock
                  ? `They are locked in ${result.existingRepository.lock.mode === 'COMPLIANCE' ? 'strict (compliance)' : 'flexible (governance)'} mode for ${daysLabel(result.existingRepository.lock.days)}; connecting keeps their settings.`
                  : 'Connecting keeps their settings.'}
              </p>
            </Banner>
          ) : null}
          <TextField
            label="Name"
            description="How this target is called in Bulwark."
            value={name}
            onChange={(v) => {
              setName(v);
              setSaveMissing((m) => ({ ...m, name: undefined }));
            }}
            maxLength={200}
            errorMessage={saveMissing.name}
          />
          <TextField
            label={repository === 'new' ? 'Password for the backups' : 'Password of the backups'}
            type="password"
            description={
              repository === 'new'
                ? 'Backups are encrypted with it. Write it down and keep it safe: without it nobody can read the backups, not even Bulwark.'
                : 'The password given when these backups were created.'
            }
            value={password}
            onChange={(v) => {
              setPassword(v);
              setSaveMissing((m) => ({ ...m, password: undefined }));
            }}
            maxLength={1024}
            errorMessage={saveMissing.password}
          />
          {repository === 'new' ? (
            <TextField
              label="Password again"
              type="password"
              value={password2}
              onChange={(v) => {
                setPassword2(v);
                setSaveMissing((m) => ({ ...m, password2: undefined }));
              }}
              maxLength={1024}
              errorMessage={saveMissing.password2}
            />
          ) : null}
          {saving ? (
            <p className="muted" role="status">
              {repository === 'existing'
                ? 'Connecting and reading the list of backups… this can take a minute.'
                : 'Creating the backups…'}
            </p>
          ) : null}
          {saveError ? <ErrorView error={saveError} prefix="Could not save the target" /> : null}
        </section>
      ) : null}

      {step === 'done' ? (
        <section className="wizard__panel" aria-label="Saved">
          <Banner tone="success" title={`${savedName} is ready`}>
            <p>
              {result ? `${result.headline}. ` : ''}
              Choose it for a folder on the Sources page to start keeping backups there.
            </p>
          </Banner>
        </section>
      ) : null}

      <div className="dialog__footer">
        {step === 'done' ? (
          <Button variant="primary" onPress={onClose}>
            Done
          </Button>
        ) : (
          <>
            <Button onPress={onClose} isDisabled={testing || saving}>
              Cancel
            </Button>
            {index > 0 ? (
              <Button icon={ArrowLeft} onPress={back} isDisabled={testing || saving}>
                Back
              </Button>
            ) : null}
            {step === 'save' ? (
              <Button variant="primary" onPress={() => void save()} isPending={saving}>
                Save target
              </Button>
            ) : (
              <Button
                variant="primary"
                icon={ArrowRight}
                onPress={next}
                isDisabled={testing || (step === 'test' && !canContinueAfterTest)}
              >
                Next
              </Button>
            )}
          </>
        )}
      </div>
    </div>
  );
}

function CostEstimate({
  provider,
  estimate,
  sizeGb,
  lockDays,
}: {
  provider: ProviderPreset;
  estimate: ReturnType<typeof estimateLockCost>;
  sizeGb: string;
  lockDays: number;
}) {
  const size = Number(sizeGb);
  return (
    <section className="cost" aria-labelledby="cost-title">
      <h3 id="cost-title" className="policy__title">
        What it costs
      </h3>
      {!Number.isFinite(size) || size < 0 || sizeGb.trim() === '' ? (
        <p>Give the size of the backups in GB for an estimate.</p>
      ) : estimate ? (
        <>
          <p className="cost__figure" data-testid="cost-estimate">
            About <strong>{formatDollars(estimate.monthlyCost)} a month</strong> to keep {size} GB; every GB
            written is billed for at least {estimate.billedDays} days ({formatDollars(estimate.lockedCost)}{' '}
            for {size} GB).
          </p>
          {estimate.minimumApplies ? (
            <p>
              {provider.name} bills {provider.minStorageDays} days at least, so a lock of {lockDays} days
              costs the same as {provider.minStorageDays} days.
            </p>
          ) : null}
          <p className="field__description">
            At the list price of {provider.name} (${provider.pricePerGbMonth} per GB and month,{' '}
            {provider.priceSource}) when this version of Bulwark was made; check the current price there.
            Older backups kept by the retention rules add to this.
          </p>
        </>
      ) : (
        <p>The price depends on your own storage; Bulwark cannot estimate it.</p>
      )}
      {provider.minStorageNote && !estimate?.minimumApplies ? (
        <p className="field__description">{provider.minStorageNote}</p>
      ) : null}
    </section>
  );
}
