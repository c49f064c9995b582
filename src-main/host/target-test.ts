import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, lstat, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { CANNOT_LOCK } from '../contract/providers.ts';
import type {
  TargetCheckStatus,
  TargetPolicy,
  TargetTestCheck,
  TargetTestResult,
} from '../contract/target-test.ts';
import {
  BulwarkError,
  isBulwarkError,
  readConfig,
  systemClock,
  type BlobStore,
  type Clock,
} from '../engine/index.ts';
import type { S3Store } from '../engine/storage/s3.ts';
import type { LockMode } from '../engine/storage/types.ts';
import type { TargetCheck, TargetCheckId, TargetReport } from '../engine/target/check.ts';

/**
 * The target self-test in plain words (targets.test): for S3, the engine's checkTarget (a short-locked
 * probe that these keys try to delete, replace, unlock and bypass) with each check retold for an office
 * manager; for a folder, a write and read-back (a folder is tamper-evident at best). Nothing is saved
 * here; the handlers keep the result with a saved target.
 */

export const HEADLINE = {
  immutable: 'Immutable',
  'tamper-evident': 'Tamper-evident',
  'not-immutable': 'Not immutable with these credentials',
} as const;

/** Where an S3 target is and its keys (absent: the service's environment keys). */
export interface S3Location {
  bucket: string;
  prefix: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

export const s3LocationText = (l: Pick<S3Location, 'bucket' | 'prefix'>): string =>
  `s3://${l.bucket}${l.prefix ? `/${l.prefix}` : ''}`;

/** Opens an S3Store for a location given in the wizard (the SDK is loaded only here). */
export async function openS3Location(l: S3Location, clock?: Clock): Promise<S3Store> {
  const { S3Store } = await import('../engine/storage/s3.ts');
  return new S3Store({
    bucket: l.bucket,
    prefix: l.prefix,
    ...(l.endpoint ? { endpoint: l.endpoint } : {}),
    ...(l.region ? { region: l.region } : {}),
    ...(l.accessKeyId && l.secretAccessKey
      ? { credentials: { accessKeyId: l.accessKeyId, secretAccessKey: l.secretAccessKey } }
      : {}),
    ...(clock ? { clock } : {}),
  });
}

// ---- the checks, retold ------------------------------------------------------------------------------

interface Words {
  title: string;
  passed: string;
  failed: string;
}

const S3_WORDS: Record<TargetCheckId, Words> = {
  reachable: {
    title: 'The storage answers and accepts these keys',
    passed: 'Bulwark reached the bucket with these keys.',
    failed: 'Bulwark could not reach the bucket with these keys.',
  },
  clock: {
    title: 'This computer’s clock agrees with the storage',
    passed: 'The clocks agree; lock dates are taken from the storage’s clock anyway.',
    failed:
      'This computer’s clock is off. Locks still use the storage’s clock, but set this computer’s time ' +
      'right (automatic time) so the storage keeps accepting its requests.',
  },
  versioning: {
    title: 'Versioning is on',
    passed: 'The bucket keeps every version of a file, so nothing can be overwritten.',
    failed:
      'The bucket does not keep old versions. Create a bucket with Object Lock switched on (that also ' +
      'switches versioning on).',
  },
  'object-lock': {
    title: 'Object Lock is on for the bucket',
    passed: 'The bucket can lock files so that nobody can delete them before a date.',
    failed:
      'The bucket cannot lock files. With most providers Object Lock can only be switched on when the ' +
      'bucket is created: create a new bucket with Object Lock switched on.',
  },
  'default-retention': {
    title: 'Default lock of the bucket',
    passed: 'Bulwark sets the lock of every file itself; a default lock of the bucket is not needed.',
    failed: 'Bulwark sets the lock of every file itself; a default lock of the bucket is not needed.',
  },
  'probe-write': {
    title: 'A locked test file can be written',
    passed: 'Bulwark wrote a small locked test file the same way it writes backups.',
    failed: 'Bulwark could not write a locked file: these keys may not write to the bucket.',
  },
  'probe-locked': {
    title: 'The test file is really locked',
    passed: 'The storage reports the lock Bulwark asked for.',
    failed:
      'The storage accepted the lock but does not keep it: it cannot hold immutable backups. Use a ' +
      'provider whose Object Lock works.',
  },
  'extend-lock': {
    title: 'Locks can be extended',
    passed: 'Bulwark can lengthen locks, so files reused by later backups stay protected.',
    failed:
      'These keys cannot lengthen locks: Bulwark then uploads reused data again, which costs more space.',
  },
  'legal-hold': {
    title: 'Legal holds can be placed',
    passed: 'Bulwark can hold a backup beyond its lock (for example after a ransomware alarm).',
    failed: 'These keys cannot place legal holds. Locks still work.',
  },
  'delete-version': {
    title: 'Deleting a locked backup is refused',
    passed: 'The storage refused to delete the locked test file.',
    failed: 'The locked test file could be deleted with these keys: backups here are not safe.',
  },
  overwrite: {
    title: 'Replacing a locked backup keeps the original',
    passed: 'Writing over the test file kept the locked original, unchanged.',
    failed: 'Writing over the test file changed or removed the locked original.',
  },
  'shorten-lock': {
    title: 'Shortening a lock is refused',
    passed: 'The storage refused to make the lock shorter.',
    failed: 'These keys could make a lock shorter, so backups could be deleted early.',
  },
  'delete-marker': {
    title: 'A plain delete only hides the name',
    passed: 'A delete only hides the file’s name; the locked original stays and Bulwark still reads it.',
    failed: 'A plain delete removed the locked original.',
  },
  'bypass-governance': {
    title: 'Lifting the lock is refused',
    passed: 'Even with the “bypass” permission, the lock could not be lifted with these keys.',
    failed: 'These keys can lift the lock (governance bypass): whoever steals them could delete the backups.',
  },
};

function statusOf(c: TargetCheck): TargetCheckStatus {
  if (c.skipped) return 'skipped';
  if (c.ok) return 'passed';
  return c.severity === 'fail' ? 'failed' : c.severity === 'warn' ? 'warning' : 'info';
}

function retell(c: TargetCheck): TargetTestCheck {
  const w = S3_WORDS[c.id];
  const status = statusOf(c);
  const explanation =
    status === 'skipped'
      ? 'Not tested, because an earlier check failed.'
      : status === 'passed'
        ? w.passed
        : w.failed;
  return { id: c.id, title: w.title, status, explanation, detail: c.detail };
}

function policyText(r: TargetReport): TargetPolicy | undefined {
  const p = r.policy;
  if (!p) return undefined;
  return {
    bucketPolicy: JSON.stringify(p.awsBucketPolicy, null, 2),
    userPolicy: JSON.stringify(p.awsIamPolicy, null, 2),
    b2Capabilities: [...p.b2Capabilities],
    b2ForbiddenCapabilities: [...p.b2ForbiddenCapabilities],
    explanation: p.explanation,
  };
}

/** A provider that looks like S3 but cannot lock, recognised by its address. */
function cannotLockProvider(endpoint: string | undefined): { name: string; why: string } | undefined {
  if (!endpoint) return undefined;
  const host = (() => {
    try {
      return new URL(endpoint).hostname;
    } catch {
      return '';
    }
  })();
  if (host.endsWith('r2.cloudflarestorage.com')) return CANNOT_LOCK.find((p) => p.name.includes('R2'));
  if (host === 'storage.googleapis.com') return CANNOT_LOCK.find((p) => p.name.includes('Google'));
  return undefined;
}

async function existingRepository(store: BlobStore): Promise<TargetTestResult['existingRepository']> {
  try {
    const config = await readConfig(store);
    return config.lock ? { lock: { mode: config.lock.mode, days: config.lock.days } } : {};
  } catch (e) {
    if (isBulwarkError(e, 'REPO_NOT_FOUND')) return undefined;
    throw e;
  }
}

/** Rewords the errors of a bucket that cannot be used at all, for a person. */
export function plainReachError(e: unknown, where: string): unknown {
  if (!isBulwarkError(e)) return e;
  switch (e.code) {
    case 'REPO_NOT_FOUND':
      return new BulwarkError('NOT_FOUND', `The bucket of ${where} does not exist at this address.`, {
        cause: e,
        hint:
          'Check the bucket name and the region (or the address). If the bucket is new, create it first, ' +
          'with Object Lock switched on.',
      });
    case 'PERMISSION':
      return new BulwarkError(
        'PERMISSION',
        /clock/.test(e.message)
          ? 'The storage refused the request because this computer’s clock is wrong.'
          : 'The storage refused these keys.',
        {
          cause: e,
          hint: /clock/.test(e.message)
            ? 'Set this computer’s date and time right (automatic time), then test again.'
            : 'Check the access key and the secret key (copy them again), and that they are allowed to list this bucket.',
        },
      );
    case 'NETWORK':
      return new BulwarkError('NETWORK', 'The storage service did not answer.', {
        cause: e,
        hint: 'Check the address of the service and this computer’s connection, then test again.',
      });
    case 'INVALID_ARGUMENT':
      return new BulwarkError('INVALID_ARGUMENT', 'The storage refused the request for this bucket.', {
        cause: e,
        hint: 'The bucket may be in another region: check the region (or the address) and test again.',
      });
    default:
      return e;
  }
}

/**
 * Tests an S3 location with the keys it was opened with. Throws (with plain words) only when the bucket
 * cannot be reached at all; everything else is a check in the result.
 */
export async function testS3(
  store: S3Store,
  opts: { mode?: LockMode; endpoint?: string | undefined; clock?: Clock } = {},
): Promise<TargetTestResult> {
  const clock = opts.clock ?? systemClock;
  const { checkTarget, reachTarget } = await import('../engine/target/check.ts');
  try {
    await reachTarget(store, clock);
  } catch (e) {
    throw plainReachError(e, store.location);
  }
  const existing = await existingRepository(store);
  const mode: LockMode = opts.mode ?? existing?.lock?.mode ?? 'COMPLIANCE';
  const report = await checkTarget(store, { mode, clock }).catch((e: unknown) => {
    throw plainReachError(e, store.location);
  });
  const checks = report.checks.map(retell);
  const advice = [...report.advice];
  const refused = cannotLockProvider(opts.endpoint);
  if (refused) advice.unshift(`${refused.name} cannot keep backups immutable: ${refused.why}`);
  let reason: string;
  if (report.immutable) {
    reason =
      mode === 'COMPLIANCE'
        ? 'Backups written with these keys cannot be deleted, replaced or unlocked before their lock ends — not even by the account owner (compliance mode).'
        : 'Backups written with these keys cannot be deleted, replaced or unlocked before their lock ends (governance mode: only an account allowed to bypass it could).';
  } else {
    // the bucket's lock setting first: without it nothing else can help
    const first =
      checks.find((c) => c.id === 'object-lock' && c.status === 'failed') ??
      checks.find((c) => c.status === 'failed');
    reason = refused
      ? `${refused.name} cannot lock files. ${refused.why}`
      : (first?.explanation ?? 'The storage did not keep the test file locked.');
  }
  const result: TargetTestResult = {
    verdict: report.immutable ? 'immutable' : 'not-immutable',
    headline: report.immutable ? HEADLINE.immutable : HEADLINE['not-immutable'],
    reason,
    location: store.location,
    mode,
    testedAt: clock.now().toISOString(),
    checks,
    advice,
  };
  const policy = policyText(report);
  if (policy) result.policy = policy;
  if (existing) result.existingRepository = existing;
  return result;
}

// ---- folders -----------------------------------------------------------------------------------------

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const FOLDER_LOCK_CHECK: TargetTestCheck = {
  id: 'folder-lock',
  title: 'Nobody can delete the backups',
  status: 'info',
  explanation:
    'A folder cannot stop anyone: whoever can write to it (or a virus running as them) can delete backups. ' +
    'Bulwark writes each file once, read-only, and detects any change or deletion when it checks the backups.',
  detail: 'folder targets are tamper-evident, not immutable',
};

/**
 * Tests a folder: it exists (or its parent does, and Bulwark will create it), a file can be written,
 * read back and removed, and how much room there is. A folder is tamper-evident at best.
 */
export async function testFolder(path: string, clock: Clock = systemClock): Promise<TargetTestResult> {
  const checks: TargetTestCheck[] = [];
  const base = { location: path, testedAt: clock.now().toISOString(), advice: [] as string[] };
  const fail = (reason: string): TargetTestResult => ({
    ...base,
    verdict: 'not-immutable',
    headline: 'This folder cannot be used',
    reason,
    checks: [...checks, FOLDER_LOCK_CHECK],
  });

  const st = await statOrUndefined(path);
  let probeDir = path;
  if (st === undefined) {
    const parent = dirname(path);
    const pst = await statOrUndefined(parent);
    if (!pst?.isDirectory()) {
      checks.push({
        id: 'folder-reachable',
        title: 'The folder can be reached',
        status: 'failed',
        explanation: 'Neither the folder nor the folder it would go in exists. Is the drive connected?',
        detail: `${path}: not found; ${parent}: not found`,
      });
      return fail('The folder does not exist. Connect the drive or network share, or choose another folder.');
    }
    probeDir = parent;
    checks.push({
      id: 'folder-reachable',
      title: 'The folder can be reached',
      status: 'passed',
      explanation: 'The folder does not exist yet; Bulwark will create it.',
      detail: `${path}: not found; ${parent}: a folder`,
    });
  } else if (!st.isDirectory()) {
    checks.push({
      id: 'folder-reachable',
      title: 'The folder can be reached',
      status: 'failed',
      explanation: 'This is a file, not a folder.',
      detail: `${path}: not a folder`,
    });
    return fail('This is a file, not a folder: choose a folder.');
  } else {
    checks.push({
      id: 'folder-reachable',
      title: 'The folder can be reached',
      status: 'passed',
      explanation: 'The folder exists.',
      detail: `${path}: a folder`,
    });
  }

  const probe = join(probeDir, `.bulwark-test-${randomBytes(6).toString('hex')}`);
  const body = `bulwark folder test ${base.testedAt}\n`;
  try {
    await access(probeDir, constants.W_OK);
    await writeFile(probe, body, { flag: 'wx' });
    const back = await readFile(probe, 'utf8');
    if (back !== body) throw new Error('read back different bytes');
    checks.push({
      id: 'folder-writable',
      title: 'Bulwark can write there',
      status: 'passed',
      explanation: 'A test file was written, read back and removed.',
      detail: `${probe}: written and read back`,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    checks.push({
      id: 'folder-writable',
      title: 'Bulwark can write there',
      status: 'failed',
      explanation:
        code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'Bulwark is not allowed to write in this folder.'
          : 'Writing a test file failed.',
      detail: `${probe}: ${code ?? (e instanceof Error ? e.message : String(e))}`,
    });
    return fail('Bulwark cannot write in this folder. Choose a folder this computer’s account may write to.');
  } finally {
    await rm(probe, { force: true });
  }

  try {
    const fs = await statfs(probeDir);
    const free = fs.bavail * fs.bsize;
    const gb = free / 1e9;
    checks.push({
      id: 'folder-space',
      title: 'Room for backups',
      status: gb < 1 ? 'warning' : 'passed',
      explanation:
        gb < 1
          ? 'Less than 1 GB is free: backups will soon stop. Free up space or choose a larger drive.'
          : `${gb >= 100 ? Math.round(gb) : gb.toFixed(1)} GB free.`,
      detail: `${free} bytes available`,
    });
  } catch (e) {
    checks.push({
      id: 'folder-space',
      title: 'Room for backups',
      status: 'warning',
      explanation: 'The free space could not be read.',
      detail: e instanceof Error ? e.message : String(e),
    });
  }
  checks.push(FOLDER_LOCK_CHECK);

  let existing: TargetTestResult['existingRepository'];
  if (st !== undefined) {
    const { FsStore } = await import('../engine/storage/fs.ts');
    existing = await existingRepository(new FsStore({ root: path }));
  }
  return {
    ...base,
    verdict: 'tamper-evident',
    headline: HEADLINE['tamper-evident'],
    reason:
      'Bulwark detects any change to the backups here, but cannot stop someone who can write to this folder from deleting them.',
    checks,
    advice: [
      'For backups nobody can delete, add cloud storage with Object Lock, or the S3 service of your NAS, as a second target.',
    ],
    ...(existing ? { existingRepository: existing } : {}),
  };
}
