/**
 * The target self-test (DESIGN.md §5): is this S3 target really immutable with THESE credentials?
 *
 * It reads the bucket's settings (never changes one), measures the clock against the server's, then
 * writes a small probe object by the same upload paths as backup data (S3Store.put, from memory and from
 * a file) with a short lock, and tries everything an attacker holding these keys would try: delete the
 * locked version, overwrite it, shorten its lock, bypass GOVERNANCE retention, delete it by name. Each
 * attempt is judged by what the server then reports (is the version still there, byte for byte, and still
 * locked as sent?), never by the status code alone: servers lie (measured on Ceph RGW 16: docs/DECISIONS.md, Immutability).
 *
 * Probes live under `probes/` inside the target's prefix. That folder is not part of a repository (no
 * repository code lists it). A probe stays until its lock (default 1 day) expires and someone with
 * delete rights removes it (a lifecycle rule on `probes/` can do that); the check itself removes only the
 * unlocked objects it created (the overwrite and the delete marker), where the credentials allow.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';

import { systemClock, type Clock } from '../clock.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { dateHeader } from '../storage/http-date.ts';
import type { S3Store } from '../storage/s3.ts';
import type { LockMode } from '../storage/types.ts';
import { leastPrivilegePolicy, type LeastPrivilegePolicy } from './policy.ts';

export type CheckSeverity = 'fail' | 'warn' | 'info';

export type TargetCheckId =
  | 'reachable'
  | 'clock'
  | 'versioning'
  | 'object-lock'
  | 'default-retention'
  | 'probe-write'
  | 'probe-locked'
  | 'extend-lock'
  | 'legal-hold'
  | 'delete-version'
  | 'overwrite'
  | 'shorten-lock'
  | 'delete-marker'
  | 'bypass-governance';

export interface TargetCheck {
  id: TargetCheckId;
  title: string;
  /** the check passed (for 'info' checks: the capability is there / the behaviour is harmless) */
  ok: boolean;
  detail: string;
  /**
   * What a failure of this check means: 'fail' — the target is not immutable (or cannot be shown to be);
   * 'warn' — it works but needs attention; 'info' — a capability or a harmless behaviour, never affects
   * the verdict.
   */
  severity: CheckSeverity;
  /** not run, because an earlier step failed (e.g. no probe could be written); `ok` is false then */
  skipped?: boolean;
}

export interface TargetReport {
  /** s3://bucket/prefix */
  location: string;
  mode: LockMode;
  immutable: boolean;
  /** "immutable with these credentials" / "NOT immutable with these credentials" */
  verdict: string;
  checks: TargetCheck[];
  /** server clock minus this computer's clock (positive: this computer is behind), ms */
  clockSkewMs: number;
  /** the server's time when the check started (ISO) */
  serverTime: string;
  /** the probe objects written (names inside the target), their lock and the memory probe's version */
  probe?: { names: string[]; versionId?: string; retainUntil: string };
  /** what to do, for a person (empty when immutable and nothing to warn about) */
  advice: string[];
  /** when a credentials check failed: the least-privilege policy to use instead */
  policy?: LeastPrivilegePolicy;
}

export interface CheckTargetOptions {
  /** how long the probe is locked (default 1 day; it cannot be deleted before) */
  probeLockDays?: number;
  /** the lock mode to test, as the repository uses it (default COMPLIANCE, as `bulwark init`) */
  mode?: LockMode;
  /** this computer's clock, for the skew measurement (default the system clock) */
  clock?: Clock;
}

export const VERDICT_IMMUTABLE = 'immutable with these credentials';
export const VERDICT_NOT_IMMUTABLE = 'NOT immutable with these credentials';

const DAY_MS = 86_400_000;
const SKEW_WARN_MS = 60_000;
/** S3 (and RGW) refuse requests signed with a clock further off than this (RequestTimeTooSkewed) */
const SKEW_FAIL_MS = 15 * 60_000;
/** retention dates compared with this tolerance (servers may round to the second) */
const DATE_TOLERANCE_MS = 1000;
/** checks whose failure means these credentials (not the bucket) are the problem */
const CREDENTIAL_CHECKS: readonly TargetCheckId[] = [
  'delete-version',
  'overwrite',
  'shorten-lock',
  'bypass-governance',
];

const TITLES: Record<TargetCheckId, string> = {
  reachable: 'Bucket reachable',
  clock: 'Clock in step with the server',
  versioning: 'Versioning enabled',
  'object-lock': 'Object Lock enabled on the bucket',
  'default-retention': 'Default retention of the bucket',
  'probe-write': 'Locked probe written (the upload paths of backup data)',
  'probe-locked': 'Probe really locked (retention read back)',
  'extend-lock': 'Lock can be extended',
  'legal-hold': 'Legal hold can be set and lifted',
  'delete-version': 'Deleting the locked version is refused',
  overwrite: 'Overwriting keeps the locked version',
  'shorten-lock': 'Shortening the lock is refused',
  'delete-marker': 'A plain delete only hides the name',
  'bypass-governance': 'Governance bypass is refused',
};

// --- S3 calls that may be refused ------------------------------------------------------------------

interface SdkErrorLike {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: unknown;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; status: number; name: string; message: string };

/**
 * Runs one S3 call: the server's answer (success or refusal) is returned; no answer at all (network,
 * missing credentials, cancel) throws, since then nothing can be concluded.
 */
async function attempt<T>(what: string, fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (isBulwarkError(e)) throw e;
    const err = (e ?? {}) as SdkErrorLike;
    const status = err.$metadata?.httpStatusCode;
    const name = err.Code ?? err.name ?? 'Error';
    if (status === undefined) {
      if (name === 'CredentialsProviderError') {
        throw new BulwarkError('PERMISSION', 'no S3 credentials found', {
          cause: e,
          hint: 'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the keys to check.',
        });
      }
      throw new BulwarkError('NETWORK', `${what}: no answer from the server (${systemCode(e) ?? name})`, {
        cause: e,
        hint: 'check the connection / endpoint',
      });
    }
    return { ok: false, status, name, message: err.message ?? '' };
  }
}

/** "403 AccessDenied"; just the status where the server sent no error code (HEAD, or RGW's empty bodies) */
const refused = (o: { status: number; name: string }): string =>
  /^Unknown|^Error$/.test(o.name) ? `HTTP ${o.status}` : `${o.status} ${o.name}`;

/** ECONNREFUSED & co., wherever the SDK nested it */
function systemCode(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  let cur: unknown = e;
  while (cur && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur);
    const c = cur as { code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof c.code === 'string') return c.code;
    if (Array.isArray(c.errors)) {
      for (const inner of c.errors) {
        const code = (inner as { code?: unknown } | undefined)?.code;
        if (typeof code === 'string') return code;
      }
    }
    cur = c.cause;
  }
  return undefined;
}

function duration(ms: number): string {
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(a)} ms`;
  if (a < 120_000) return `${Math.round(a / 1000)} s`;
  if (a < 2 * 3600_000) return `${Math.round(a / 60_000)} min`;
  return `${(a / 3600_000).toFixed(1)} h`;
}

const iso = (d: Date): string => d.toISOString();

// --- the probe's state ---------------------------------------------------------------------------------

interface Retention {
  mode: string | undefined;
  until: Date | undefined;
  legalHold?: string | undefined;
}

interface ProbeCtx {
  store: S3Store;
  key: string;
  versionId: string | undefined;
  body: Buffer;
}

type ProbeState =
  | { kind: 'intact'; retention: Retention | undefined; retentionNote: string }
  | { kind: 'gone' }
  | { kind: 'changed' }
  | { kind: 'unknown'; why: string };

async function headVersion(p: ProbeCtx): Promise<Outcome<HeadObjectCommandOutput>> {
  const { store } = p;
  return attempt('HeadObject', () =>
    store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: p.key, VersionId: p.versionId })),
  );
}

/** The probe version's retention: GetObjectRetention, or HEAD where that is refused. */
async function retentionOf(p: ProbeCtx): Promise<{ retention?: Retention; gone?: boolean; note: string }> {
  const { store } = p;
  const r = await attempt('GetObjectRetention', () =>
    store.client.send(
      new GetObjectRetentionCommand({ Bucket: store.bucket, Key: p.key, VersionId: p.versionId }),
    ),
  );
  if (r.ok) {
    return {
      retention: { mode: r.value.Retention?.Mode, until: r.value.Retention?.RetainUntilDate },
      note: 'GetObjectRetention',
    };
  }
  if (r.status === 404 && (r.name === 'NoSuchKey' || r.name === 'NoSuchVersion')) {
    return { gone: true, note: `GetObjectRetention ${refused(r)}` };
  }
  if (r.status === 404) {
    // RGW: ObjectLockConfigurationNotFoundError, AWS: NoSuchObjectLockConfiguration — no retention
    return { retention: { mode: undefined, until: undefined }, note: `GetObjectRetention ${refused(r)}` };
  }
  const h = await headVersion(p);
  if (h.ok) {
    return {
      retention: {
        mode: h.value.ObjectLockMode,
        until: h.value.ObjectLockRetainUntilDate,
        legalHold: h.value.ObjectLockLegalHoldStatus,
      },
      note: `HEAD (GetObjectRetention: ${refused(r)})`,
    };
  }
  if (h.status === 404) return { gone: true, note: `HEAD ${refused(h)}` };
  return { note: `GetObjectRetention ${refused(r)}, HEAD ${refused(h)}` };
}

/** Is the probe version still there, byte for byte, and what retention does the server report? */
async function probeState(p: ProbeCtx): Promise<ProbeState> {
  const { store } = p;
  const g = await attempt('GetObject', async () => {
    const out = await store.client.send(
      new GetObjectCommand({ Bucket: store.bucket, Key: p.key, VersionId: p.versionId }),
    );
    return Buffer.from(out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0));
  });
  if (!g.ok) {
    if (g.status === 404) return { kind: 'gone' };
    return { kind: 'unknown', why: `cannot read the probe version back (${refused(g)})` };
  }
  if (!g.value.equals(p.body)) return { kind: 'changed' };
  const r = await retentionOf(p);
  if (r.gone) return { kind: 'gone' };
  return { kind: 'intact', retention: r.retention, retentionNote: r.note };
}

function lockHolds(r: Retention | undefined, mode: LockMode, until: Date): boolean {
  return (
    r !== undefined &&
    r.mode === mode &&
    r.until !== undefined &&
    r.until.getTime() >= until.getTime() - DATE_TOLERANCE_MS
  );
}

function describeRetention(r: Retention | undefined): string {
  if (!r || (r.mode === undefined && r.until === undefined)) return 'no retention';
  return `${r.mode ?? '(no mode)'} until ${r.until ? iso(r.until) : '(no date)'}`;
}

/** "intact and still locked (...)" or what is wrong, for a check's detail; `ok` per the state. */
function judgeState(s: ProbeState, mode: LockMode, until: Date): { ok: boolean; text: string } {
  switch (s.kind) {
    case 'gone':
      return { ok: false, text: 'the locked probe version is GONE' };
    case 'changed':
      return { ok: false, text: 'the probe version now holds DIFFERENT bytes' };
    case 'unknown':
      return { ok: false, text: s.why };
    case 'intact':
      if (lockHolds(s.retention, mode, until)) {
        return {
          ok: true,
          text: `the probe version is intact and still locked (${describeRetention(s.retention)})`,
        };
      }
      return {
        ok: false,
        text: `the probe version is intact but its lock is now ${describeRetention(s.retention)} (expected ${mode} until ${iso(until)})`,
      };
  }
}

// --- the check ---------------------------------------------------------------------------------------

/**
 * A HeadBucket: throws (REPO_NOT_FOUND, PERMISSION, NETWORK, INVALID_ARGUMENT, each with a hint) when the
 * bucket cannot be used at all; else returns the server's clock, from the Date header, against `clock`.
 * Read only. `checkTarget` starts with it; callers may use it as a cheap first gate.
 */
export async function reachTarget(
  store: S3Store,
  clock: Clock = systemClock,
): Promise<{ skewMs: number; serverNow: Date; hasDate: boolean }> {
  const head = new HeadBucketCommand({ Bucket: store.bucket });
  let date: Date | undefined;
  head.middlewareStack.add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        date = dateHeader(result.response);
        return result;
      } catch (e) {
        date = dateHeader((e as SdkErrorLike | undefined)?.$response);
        throw e;
      }
    },
    { step: 'deserialize', priority: 'high', name: 'bulwarkTargetCheckDate' },
  );
  const before = clock.now().getTime();
  const hb = await attempt(`cannot reach ${store.location}: HeadBucket`, () => store.client.send(head));
  const after = clock.now().getTime();
  // Date is truncated to the second: the server's "now" is in [date, date + 1 s); compare the middles.
  const skewMs = date === undefined ? 0 : Math.round(date.getTime() + 500 - (before + after) / 2);
  if (!hb.ok) throw bucketError(store, hb, date === undefined ? undefined : skewMs);
  return { skewMs, serverNow: new Date(after + skewMs), hasDate: date !== undefined };
}

/**
 * Checks whether `store`'s bucket keeps what these credentials write immutable (see the module comment).
 * Throws (REPO_NOT_FOUND, PERMISSION, NETWORK, ...) only when the bucket cannot be reached at all;
 * everything else is reported as checks.
 */
export async function checkTarget(store: S3Store, opts: CheckTargetOptions = {}): Promise<TargetReport> {
  const clock = opts.clock ?? systemClock;
  const mode: LockMode = opts.mode ?? 'COMPLIANCE';
  const days = opts.probeLockDays ?? 1;
  if (!Number.isFinite(days) || days <= 0 || days > 36_500) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `probeLockDays must be a positive number of days, not ${days}`,
    );
  }
  const { client, bucket } = store;
  const checks: TargetCheck[] = [];
  const advice: string[] = [];
  const add = (
    id: TargetCheckId,
    ok: boolean,
    severity: CheckSeverity,
    detail: string,
    skipped = false,
  ): void => {
    checks.push({ id, title: TITLES[id], ok, detail, severity, ...(skipped ? { skipped: true } : {}) });
  };
  const skip = (ids: TargetCheckId[], why: string): void => {
    for (const id of ids) {
      const severity =
        id === 'legal-hold' || id === 'delete-marker' ? 'info' : id === 'extend-lock' ? 'warn' : 'fail';
      add(id, false, severity, `not tested: ${why}`, true);
    }
  };

  // 1. reachable, and the server's clock
  const { skewMs, serverNow, hasDate } = await reachTarget(store, clock);
  add('reachable', true, 'fail', `HeadBucket ${bucket}: the bucket exists and these credentials may list it`);

  // 2. clock skew
  const skewText =
    skewMs >= 0
      ? `this computer's clock is ${duration(skewMs)} behind the server's`
      : `this computer's clock is ${duration(skewMs)} ahead of the server's`;
  const fromServer = 'retain-until dates are computed from the server’s clock, so locks are right either way';
  if (!hasDate) {
    add('clock', false, 'warn', `the server sent no Date header: the skew is unknown; ${fromServer}`);
  } else if (Math.abs(skewMs) <= SKEW_WARN_MS) {
    add('clock', true, 'warn', `${skewText}; ${fromServer}`);
  } else if (Math.abs(skewMs) <= SKEW_FAIL_MS) {
    add('clock', false, 'warn', `${skewText}; ${fromServer}, but set the clock right (network time sync)`);
    advice.push('Set the system clock right (enable network time synchronisation).');
  } else {
    add(
      'clock',
      false,
      'fail',
      `${skewText}: S3 refuses requests signed with a clock more than 15 min off (RequestTimeTooSkewed), so ` +
        `backups will fail; ${fromServer}`,
    );
    advice.push(
      'Set the system clock right (enable network time synchronisation): S3 refuses requests otherwise.',
    );
  }

  // 3. versioning (read only)
  const ver = await attempt('GetBucketVersioning', () =>
    client.send(new GetBucketVersioningCommand({ Bucket: bucket })),
  );
  if (ver.ok) {
    const status = ver.value.Status ?? 'off (never enabled)';
    if (ver.value.Status === 'Enabled') add('versioning', true, 'fail', 'versioning is Enabled');
    else {
      add(
        'versioning',
        false,
        'fail',
        `versioning is ${status}: an overwrite or delete destroys data (Object Lock needs versioning)`,
      );
    }
  } else if (ver.status === 403) {
    add('versioning', false, 'warn', `cannot read it (${refused(ver)}); the probe below decides`);
  } else {
    add('versioning', false, 'fail', `GetBucketVersioning: ${refused(ver)}`);
  }

  // 4. Object Lock configuration and default retention (read only)
  const cfg = await attempt('GetObjectLockConfiguration', () =>
    client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket })),
  );
  let noObjectLock = false;
  if (cfg.ok) {
    const c = cfg.value.ObjectLockConfiguration;
    if (c?.ObjectLockEnabled === 'Enabled') {
      add('object-lock', true, 'fail', 'ObjectLockEnabled: Enabled');
    } else {
      noObjectLock = true;
      add('object-lock', false, 'fail', 'the bucket reports no Object Lock');
    }
    const d = c?.Rule?.DefaultRetention;
    if (d) {
      const span = d.Days !== undefined ? `${d.Days} days` : `${d.Years ?? '?'} years`;
      add(
        'default-retention',
        true,
        'info',
        `${d.Mode ?? '(no mode)'} ${span}: applies to objects written without a lock; Bulwark locks each object itself`,
      );
    } else {
      add('default-retention', true, 'info', 'none (Bulwark locks each object itself)');
    }
  } else if (cfg.status === 403) {
    add('object-lock', false, 'warn', `cannot read it (${refused(cfg)}); the probe below decides`);
    add('default-retention', true, 'info', `unknown (${refused(cfg)})`);
  } else {
    noObjectLock = true;
    const why =
      cfg.status === 404
        ? `the bucket has no Object Lock configuration (${refused(cfg)})`
        : cfg.status === 501
          ? `the server does not implement Object Lock (${refused(cfg)})`
          : `GetObjectLockConfiguration: ${refused(cfg)}`;
    add('object-lock', false, 'fail', why);
    add('default-retention', true, 'info', 'none (no Object Lock)');
  }
  if (noObjectLock || (ver.ok && ver.value.Status !== 'Enabled')) {
    advice.push(
      'Use a bucket created with Object Lock enabled (on most providers it cannot be switched on later): ' +
        'create a new bucket with Object Lock and point Bulwark at it.',
    );
  }

  // 5. the probe, written by the upload paths of backup data
  const stamp = iso(serverNow)
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const id = `${stamp}-${randomBytes(6).toString('hex')}`;
  const retainUntil = new Date(Math.ceil((serverNow.getTime() + days * DAY_MS) / 1000) * 1000);
  const written: string[] = [];
  let probe: ProbeCtx | undefined;
  let expectedUntil = retainUntil;

  const probeChecks = async (): Promise<void> => {
    const memName = `probes/${id}`;
    const fileName = `probes/${id}-file`;
    const body = Buffer.from(`bulwark target self-test probe ${id}\n${randomBytes(16).toString('hex')}\n`);
    const fileBody = Buffer.from(`bulwark target self-test probe ${id} (file upload)\n`);
    const writeErrors: string[] = [];
    const putProbe = async (name: string, doPut: () => Promise<unknown>): Promise<boolean> => {
      try {
        await doPut();
        written.push(name);
        return true;
      } catch (e) {
        if (!isBulwarkError(e) || e.code === 'NETWORK' || e.code === 'CANCELED') throw e;
        writeErrors.push(`${name}: ${e.message}`);
        return false;
      }
    };
    const memOk = await putProbe(memName, () => store.put(memName, body, { retainUntil, lockMode: mode }));
    // a backup's packs go up from a file (streamed), small objects from memory: probe both paths
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-probe-'));
    const fileOk = await (async (): Promise<boolean> => {
      try {
        const path = join(dir, 'probe');
        await writeFile(path, fileBody);
        return await putProbe(fileName, () =>
          store.put(fileName, { path, size: fileBody.length }, { retainUntil, lockMode: mode }),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    const lockText = `${mode} until ${iso(retainUntil)}`;
    const afterWrite: TargetCheckId[] = [
      'probe-locked',
      'extend-lock',
      'legal-hold',
      'delete-version',
      'overwrite',
      'shorten-lock',
      'delete-marker',
      'bypass-governance',
    ];
    if (!memOk) {
      add(
        'probe-write',
        false,
        'fail',
        `a PutObject with ${lockText} was refused: ${writeErrors.join('; ')}`,
      );
      skip(afterWrite, 'no locked probe could be written');
      return;
    }
    add(
      'probe-write',
      fileOk,
      'fail',
      fileOk
        ? `${store.root}${memName} (from memory) and ${store.root}${fileName} (from a file), each one PutObject with ${lockText}`
        : `${store.root}${memName} written, but the file upload was refused: ${writeErrors.join('; ')}`,
    );

    // the probe versions (the newest version of each name is ours: the names are random)
    const probeOf = async (name: string, data: Buffer): Promise<ProbeCtx> => {
      const p: ProbeCtx = { store, key: store.root + name, versionId: undefined, body: data };
      const h = await headVersion(p);
      if (h.ok && h.value.VersionId !== undefined && h.value.VersionId !== 'null')
        p.versionId = h.value.VersionId;
      return p;
    };
    const mem = await probeOf(memName, body);
    probe = mem;
    const fileProbe = fileOk ? await probeOf(fileName, fileBody) : undefined;

    // (a) really locked? read the retention back, by GetObjectRetention and HEAD, for each upload path
    const lockedParts: string[] = [];
    let allLocked = true;
    for (const [label, p] of [
      ['memory', mem],
      ['file', fileProbe],
    ] as const) {
      if (!p) continue;
      const r = await retentionOf(p);
      const h = await headVersion(p);
      const viaHead: Retention | undefined = h.ok
        ? { mode: h.value.ObjectLockMode, until: h.value.ObjectLockRetainUntilDate }
        : undefined;
      const okRet = r.retention !== undefined && lockHolds(r.retention, mode, retainUntil);
      const okHead = viaHead === undefined || lockHolds(viaHead, mode, retainUntil);
      if (!okRet || !okHead) allLocked = false;
      const version = p.versionId === undefined ? 'no version id' : `version ${p.versionId}`;
      lockedParts.push(
        `${label} upload (${version}): ${r.note} says ${r.gone ? 'GONE' : describeRetention(r.retention)}` +
          (viaHead ? `, HEAD says ${describeRetention(viaHead)}` : `, HEAD ${h.ok ? '' : refused(h)}`),
      );
    }
    if (mem.versionId === undefined) allLocked = false;
    add(
      'probe-locked',
      allLocked,
      'fail',
      (allLocked ? `sent ${lockText}; ` : `sent ${lockText}, but the server does not hold it: `) +
        lockedParts.join('; '),
    );
    if (!allLocked) {
      advice.push(
        'The server accepts lock headers but does not lock (or reports no lock): this target cannot hold ' +
          'immutable backups. Use a provider whose Object Lock works (see the checks above).',
      );
    }

    // extend: Bulwark lengthens the locks of reused data (lock-closure invariant, DESIGN.md §3)
    if (allLocked) {
      const longer = new Date(retainUntil.getTime() + 3600_000);
      const x = await attempt('PutObjectRetention', () =>
        client.send(
          new PutObjectRetentionCommand({
            Bucket: bucket,
            Key: mem.key,
            VersionId: mem.versionId,
            Retention: { Mode: mode, RetainUntilDate: longer },
          }),
        ),
      );
      const r = await retentionOf(mem);
      if (x.ok && lockHolds(r.retention, mode, longer)) {
        expectedUntil = longer;
        add('extend-lock', true, 'warn', `extended by 1 h to ${iso(longer)} (PutObjectRetention)`);
      } else {
        add(
          'extend-lock',
          false,
          'warn',
          (x.ok
            ? `the server accepted it but reports ${describeRetention(r.retention)}`
            : `refused (${refused(x)})`) +
            ': Bulwark cannot lengthen the locks of reused data, so it writes that data again (more space and upload)',
        );
        advice.push('Allow s3:PutObjectRetention (extending locks) for these credentials.');
      }
    } else {
      add('extend-lock', false, 'warn', 'not tested: the probe is not locked', true);
    }

    // legal hold: set, then lift (capability only; while it is on, the tests below would prove nothing)
    let holdStuck = false;
    {
      const on = await attempt('PutObjectLegalHold', () =>
        client.send(
          new PutObjectLegalHoldCommand({
            Bucket: bucket,
            Key: mem.key,
            VersionId: mem.versionId,
            LegalHold: { Status: 'ON' },
          }),
        ),
      );
      if (!on.ok) {
        add(
          'legal-hold',
          false,
          'info',
          `these credentials cannot place legal holds (${refused(on)}): Bulwark cannot hold a clean snapshot ` +
            'after a ransomware signal (locks still work)',
        );
      } else {
        const hOn = await headVersion(mem);
        const off = await attempt('PutObjectLegalHold', () =>
          client.send(
            new PutObjectLegalHoldCommand({
              Bucket: bucket,
              Key: mem.key,
              VersionId: mem.versionId,
              LegalHold: { Status: 'OFF' },
            }),
          ),
        );
        const hOff = await headVersion(mem);
        const seenOn = hOn.ok && hOn.value.ObjectLockLegalHoldStatus === 'ON';
        const seenOff = hOff.ok && hOff.value.ObjectLockLegalHoldStatus !== 'ON';
        if (off.ok && seenOn && seenOff) {
          add(
            'legal-hold',
            true,
            'info',
            'set and lifted on the probe (whoever may set a hold may also lift it)',
          );
        } else if (!off.ok || !seenOff) {
          holdStuck = true;
          add(
            'legal-hold',
            false,
            'warn',
            `placed, but it could not be lifted (${off.ok ? 'HEAD still reports ON' : refused(off)}): the probe stays held`,
          );
        } else {
          add('legal-hold', false, 'info', 'the server accepted the hold but HEAD never reported it ON');
        }
      }
    }
    const destructive: TargetCheckId[] = [
      'delete-version',
      'overwrite',
      'shorten-lock',
      'delete-marker',
      'bypass-governance',
    ];
    if (!allLocked || holdStuck) {
      skip(
        destructive,
        holdStuck ? 'the probe is under a legal hold that could not be lifted' : 'the probe is not locked',
      );
      return;
    }

    const leftovers: { key: string; versionId: string }[] = [];
    try {
      // (b) delete the locked version
      {
        const d = await attempt('DeleteObject', () =>
          client.send(new DeleteObjectCommand({ Bucket: bucket, Key: mem.key, VersionId: mem.versionId })),
        );
        const j = judgeState(await probeState(mem), mode, expectedUntil);
        const asked = d.ok
          ? 'DeleteObject of the version was ANSWERED WITH SUCCESS'
          : `DeleteObject of the version: refused (${refused(d)})`;
        add('delete-version', j.ok, 'fail', `${asked}; ${j.text}`);
        if (!j.ok) return;
      }

      // (c) overwrite: a PutObject of the same name must add a version and leave the locked one as it is
      {
        const other = Buffer.from(`bulwark target self-test: overwrite of ${id}\n`);
        const w = await attempt('PutObject', () =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: mem.key,
              Body: other,
              ContentLength: other.length,
              ContentMD5: createHash('md5').update(other).digest('base64'),
              ContentType: 'application/octet-stream',
            }),
          ),
        );
        const j = judgeState(await probeState(mem), mode, expectedUntil);
        let asked: string;
        if (w.ok) {
          const v = w.value.VersionId;
          if (v !== undefined && v !== 'null' && v !== mem.versionId)
            leftovers.push({ key: mem.key, versionId: v });
          asked =
            v !== undefined && v !== mem.versionId
              ? `a PutObject of the same name created a new version (${v})`
              : 'a PutObject of the same name created NO new version';
        } else {
          asked = `a PutObject of the same name was refused (${refused(w)})`;
        }
        add('overwrite', j.ok, 'fail', `${asked}; ${j.text}`);
        if (!j.ok) return;
      }

      // (d) shorten the lock (and, in COMPLIANCE mode, weaken it to GOVERNANCE) without bypass
      const shorter = new Date(Math.floor((serverNow.getTime() + expectedUntil.getTime()) / 2000) * 1000);
      {
        const attempts: string[] = [];
        const s = await attempt('PutObjectRetention', () =>
          client.send(
            new PutObjectRetentionCommand({
              Bucket: bucket,
              Key: mem.key,
              VersionId: mem.versionId,
              Retention: { Mode: mode, RetainUntilDate: shorter },
            }),
          ),
        );
        attempts.push(
          `PutObjectRetention to ${iso(shorter)}: ${s.ok ? 'ACCEPTED' : `refused (${refused(s)})`}`,
        );
        if (mode === 'COMPLIANCE') {
          const m = await attempt('PutObjectRetention', () =>
            client.send(
              new PutObjectRetentionCommand({
                Bucket: bucket,
                Key: mem.key,
                VersionId: mem.versionId,
                Retention: { Mode: 'GOVERNANCE', RetainUntilDate: expectedUntil },
              }),
            ),
          );
          attempts.push(`switch to GOVERNANCE: ${m.ok ? 'ACCEPTED' : `refused (${refused(m)})`}`);
        }
        const j = judgeState(await probeState(mem), mode, expectedUntil);
        add('shorten-lock', j.ok, 'fail', `${attempts.join('; ')}; ${j.text}`);
        if (!j.ok) return;
      }

      // (f) a plain DELETE (no version id): a delete marker hides the name; the locked version must stay
      {
        const d = await attempt('DeleteObject', () =>
          client.send(new DeleteObjectCommand({ Bucket: bucket, Key: mem.key })),
        );
        const j = judgeState(await probeState(mem), mode, expectedUntil);
        if (d.ok && d.value.VersionId !== undefined && d.value.DeleteMarker === true) {
          leftovers.push({ key: mem.key, versionId: d.value.VersionId });
        }
        if (!j.ok) {
          add('delete-marker', false, 'fail', `a DeleteObject without version id: ${j.text}`);
          return;
        }
        add(
          'delete-marker',
          true,
          'info',
          d.ok
            ? `a DeleteObject without version id added a delete marker (the name looks deleted); harmless: ${j.text}, readable by its version id`
            : `a DeleteObject without version id was refused (${refused(d)}): these credentials cannot even hide objects`,
        );
      }

      // (e) bypass GOVERNANCE retention: last, since where it works the probe is gone afterwards
      {
        const s = await attempt('PutObjectRetention', () =>
          client.send(
            new PutObjectRetentionCommand({
              Bucket: bucket,
              Key: mem.key,
              VersionId: mem.versionId,
              BypassGovernanceRetention: true,
              Retention: { Mode: mode, RetainUntilDate: shorter },
            }),
          ),
        );
        const d = await attempt('DeleteObject', () =>
          client.send(
            new DeleteObjectCommand({
              Bucket: bucket,
              Key: mem.key,
              VersionId: mem.versionId,
              BypassGovernanceRetention: true,
            }),
          ),
        );
        const j = judgeState(await probeState(mem), mode, expectedUntil);
        const asked =
          `with x-amz-bypass-governance-retention: shorten ${s.ok ? 'ACCEPTED' : `refused (${refused(s)})`}, ` +
          `delete the version ${d.ok ? 'ACCEPTED' : `refused (${refused(d)})`}`;
        let detail: string;
        if (j.ok) {
          detail =
            mode === 'COMPLIANCE'
              ? `COMPLIANCE mode cannot be bypassed by anyone (tested anyway): ${asked}; ${j.text}`
              : `${asked}; ${j.text}`;
        } else {
          detail =
            mode === 'COMPLIANCE'
              ? `${asked}; ${j.text}: the server does not enforce COMPLIANCE mode`
              : `${asked}; ${j.text}: these credentials can lift GOVERNANCE locks (on Ceph RGW the bucket owner ` +
                'always can); use credentials whose policy explicitly denies s3:BypassGovernanceRetention, or COMPLIANCE mode';
        }
        add('bypass-governance', j.ok, 'fail', detail);
      }
      return;
    } finally {
      // best effort: remove the unlocked objects this check created (needs delete rights, usually absent)
      for (const l of leftovers) {
        try {
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: l.key, VersionId: l.versionId }));
        } catch {
          // expected with least-privilege credentials
        }
      }
    }
  };
  await probeChecks();
  return finish();

  function finish(): TargetReport {
    // checks not reached because an earlier one failed
    const reached = new Set(checks.map((c) => c.id));
    const missing = (Object.keys(TITLES) as TargetCheckId[]).filter((k) => !reached.has(k));
    if (missing.length > 0) skip(missing, 'an earlier check already failed');
    const failed = checks.filter((c) => !c.ok && c.severity === 'fail');
    const immutable = failed.length === 0;
    const credentialsFailed = failed.some((c) => !c.skipped && CREDENTIAL_CHECKS.includes(c.id));
    if (credentialsFailed) {
      advice.push(
        'Use least-privilege writer credentials (the policy below), not the bucket owner’s keys' +
          (mode === 'GOVERNANCE' ? ', or COMPLIANCE mode.' : '.'),
      );
    }
    const report: TargetReport = {
      location: store.location,
      mode,
      immutable,
      verdict: immutable ? VERDICT_IMMUTABLE : VERDICT_NOT_IMMUTABLE,
      checks,
      clockSkewMs: skewMs,
      serverTime: iso(serverNow),
      probe: {
        names: written,
        retainUntil: iso(expectedUntil),
        ...(probe?.versionId ? { versionId: probe.versionId } : {}),
      },
      advice,
    };
    if (credentialsFailed) {
      report.policy = leastPrivilegePolicy({ bucket, prefix: store.root, legalHold: true });
    }
    return report;
  }
}

/** The error for a bucket that cannot be used at all (HeadBucket refused). */
function bucketError(
  store: S3Store,
  r: { status: number; name: string },
  skewMs: number | undefined,
): BulwarkError {
  const where = store.location;
  if (r.status === 404) {
    return new BulwarkError('REPO_NOT_FOUND', `bucket ${store.bucket} does not exist (${where})`, {
      hint: 'Check the bucket name, --region and --endpoint; or create the bucket with Object Lock enabled.',
    });
  }
  if (r.status === 403 || r.status === 401) {
    if (skewMs !== undefined && Math.abs(skewMs) > SKEW_FAIL_MS) {
      return new BulwarkError(
        'PERMISSION',
        `the server refused the request: this computer's clock is ${duration(skewMs)} ${skewMs > 0 ? 'behind' : 'ahead of'} the server's`,
        {
          hint: 'Set the system clock right (enable network time sync): S3 refuses requests more than 15 min off.',
        },
      );
    }
    return new BulwarkError('PERMISSION', `access to bucket ${store.bucket} denied (${refused(r)})`, {
      hint:
        'Check the access key and secret (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE), and that ' +
        'they may list the bucket (s3:ListBucket).',
    });
  }
  if (r.status === 301 || r.status === 400) {
    return new BulwarkError(
      'INVALID_ARGUMENT',
      `the server refused HeadBucket on ${store.bucket} (${refused(r)})`,
      {
        hint: 'Check --region (the bucket may live in another region) and --endpoint.',
      },
    );
  }
  return new BulwarkError('NETWORK', `HeadBucket on ${store.bucket} failed (${refused(r)})`, {
    hint: 'check the connection / endpoint; try again later',
  });
}
