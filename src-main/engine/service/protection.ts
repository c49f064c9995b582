/**
 * Protection status (DESIGN §8): the one place that decides whether a source may be called protected.
 * Pure: the service gathers what it knows (runs, alerts, the disk) into ProtectionFacts and every surface
 * (app, tray, API, alerts page) shows what this answers, so no surface can be greener than another.
 *
 *  - protected: the last backup succeeded within the source's time limit, the target is reachable and as
 *    immutable as promised, the service is running and not paused, and nothing below applies;
 *  - at-risk: something will make the next backup fail or the copy unsafe (the last run failed — at once,
 *    not once the time limit runs out —, paused, target unreachable or not locked, same disk, folder
 *    missing, service stopped);
 *  - not-protected: no usable copy within the time limit (never backed up, or the last good one is too old).
 *
 * Texts are for an office manager: no error codes, no "RPO", no paths of Bulwark's own files.
 */

export type ProtectionState = 'protected' | 'at-risk' | 'not-protected';

/** The pages of the app a reason or an alert can link to (mirrors the contract's pageSchema). */
export type Page = 'overview' | 'restore' | 'sources' | 'snapshots' | 'targets' | 'alerts' | 'settings';

export interface FixLink {
  page: Page;
  /** what the button says */
  label: string;
}

export type ProtectionReasonCode =
  | 'never-backed-up'
  | 'last-backup-failed'
  | 'rpo-missed'
  | 'paused'
  | 'source-disabled'
  | 'service-stopped'
  | 'source-missing'
  | 'target-missing'
  | 'target-unreachable'
  | 'target-not-immutable'
  | 'same-disk'
  | 'lock-invariant-broken'
  | 'repository-damaged'
  | 'repository-tampered'
  | 'locks-short'
  | 'ransomware-suspected';

export interface ProtectionReason {
  code: ProtectionReasonCode;
  /** which state this reason alone leads to */
  severity: Exclude<ProtectionState, 'protected'>;
  /** one sentence: what is wrong */
  text: string;
  /** a few words for a summary line: "the last backup failed" */
  short: string;
  fix?: FixLink;
}

export interface Protection {
  state: ProtectionState;
  /** "Protected", "At risk: the last backup failed", "Not protected: not backed up yet" */
  summary: string;
  /** the most pressing first (the cause before its consequences) */
  reasons: ProtectionReason[];
}

/** Target alerts that say something about protection (source alerts are derived from the facts themselves). */
export type TargetAlertKind =
  | 'target-unreachable'
  | 'selftest-failed'
  | 'lock-invariant-broken'
  | 'repository-damaged'
  | 'repository-tampered'
  | 'locks-short';

export const TARGET_ALERT_KINDS: readonly TargetAlertKind[] = [
  'target-unreachable',
  'selftest-failed',
  'lock-invariant-broken',
  'repository-damaged',
  'repository-tampered',
  'locks-short',
];

/** Target alerts that stop backups: while one is open it is the cause, not the source's failed runs. */
export const BLOCKING_TARGET_ALERTS: readonly TargetAlertKind[] = [
  'target-unreachable',
  'lock-invariant-broken',
  'repository-damaged',
];

export interface ProtectionFacts {
  /** ms since the epoch (the service's injected clock) */
  now: number;
  source: {
    name: string;
    enabled: boolean;
    rpoMinutes: number;
    createdAt: number;
    /** start of the last successful backup (what it holds is at least that recent) */
    lastSuccessAt: number | null;
  };
  /** the newest run that succeeded or failed (canceled and interrupted runs say nothing about health) */
  lastOutcome: 'succeeded' | 'failed' | null;
  service: { started: boolean; paused: boolean };
  /** the source's folders that are not there now */
  missingPaths: readonly string[];
  /** an open ransomware alert for this source (signals/guard.ts): its files may be being encrypted */
  ransomwareSuspected?: boolean;
  /** null: the source's target is not configured (removed, or unknown to this service) */
  target: {
    name: string;
    kind: 'fs' | 's3';
    /** a folder target's folder is there (false: unplugged disk, unmounted share); always true for S3 */
    present: boolean;
    /** the repository has Object Lock (what an S3 target promises) */
    locked: boolean;
    /** a folder target on the same disk (file system) as one of the source's folders */
    sameDisk: boolean;
    /** its open alerts */
    alerts: readonly TargetAlertKind[];
  } | null;
}

const MINUTE = 60_000;

/** "4 minutes", "3 hours", "2 days": durations in words. */
export function humanDuration(ms: number): string {
  const m = Math.round(ms / MINUTE);
  if (m < 1) return 'less than a minute';
  if (m < 120) return m === 1 ? '1 minute' : `${m} minutes`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hours`;
  return `${Math.round(h / 24)} days`;
}

/** The order reasons are listed in: causes before their consequences, so the summary names the cause. */
const PRIORITY: readonly ProtectionReasonCode[] = [
  'service-stopped',
  'ransomware-suspected',
  'source-disabled',
  'paused',
  'target-missing',
  'source-missing',
  'lock-invariant-broken',
  'repository-damaged',
  'target-unreachable',
  'last-backup-failed',
  'never-backed-up',
  'rpo-missed',
  'repository-tampered',
  'locks-short',
  'target-not-immutable',
  'same-disk',
];

const FIX = {
  sources: { page: 'sources', label: 'Open Sources' },
  targets: { page: 'targets', label: 'Open Targets' },
  resume: { page: 'overview', label: 'Resume backups' },
  resumeSource: { page: 'sources', label: 'Resume this folder' },
  backUpNow: { page: 'sources', label: 'Back up now' },
  restore: { page: 'restore', label: 'Open Restore' },
  snapshots: { page: 'snapshots', label: 'Open Snapshots' },
  alerts: { page: 'alerts', label: 'Open Alerts' },
} as const satisfies Record<string, FixLink>;

/** Decides the protection of one source from the facts. */
export function evaluateProtection(f: ProtectionFacts): Protection {
  const reasons: ProtectionReason[] = [];
  const add = (r: ProtectionReason): void => void reasons.push(r);
  const name = f.source.name;
  const t = f.target;
  const targetAlerts = new Set(t?.alerts ?? []);

  if (!f.service.started)
    add({
      code: 'service-stopped',
      severity: 'at-risk',
      text: 'Automatic backups are not running on this computer: the Bulwark service is stopped.',
      short: 'automatic backups are not running',
    });
  // Backups go on (they cannot harm locked history), but what they take in now may be encrypted files:
  // never "protected" while someone has not looked.
  if (f.ransomwareSuspected === true)
    add({
      code: 'ransomware-suspected',
      severity: 'at-risk',
      text: `Files in ${name} changed the way ransomware changes them. The last backup from before is kept and locked; check the computer before trusting newer backups.`,
      short: 'signs of ransomware',
      fix: FIX.restore,
    });
  if (!f.source.enabled)
    add({
      code: 'source-disabled',
      severity: 'at-risk',
      text: `Backups of ${name} are paused.`,
      short: 'backups of this folder are paused',
      fix: FIX.resumeSource,
    });
  if (f.service.paused)
    add({
      code: 'paused',
      severity: 'at-risk',
      text: 'All backups are paused: no folder is being backed up until they are resumed.',
      short: 'backups are paused',
      fix: FIX.resume,
    });
  if (f.missingPaths.length > 0) {
    const which = f.missingPaths.length === 1 ? `The folder ${f.missingPaths[0]}` : 'Some of its folders';
    add({
      code: 'source-missing',
      severity: 'at-risk',
      text: `${which} cannot be found: it was moved or renamed, or the disk or network share it is on is disconnected.`,
      short: 'the folder cannot be found',
      fix: FIX.sources,
    });
  }

  let targetBlocked = false;
  if (t === null) {
    targetBlocked = true;
    add({
      code: 'target-missing',
      severity: 'at-risk',
      text: `${name} has no backup destination: the one it used was removed.`,
      short: 'it has no backup destination',
      fix: FIX.sources,
    });
  } else {
    if (targetAlerts.has('lock-invariant-broken')) {
      targetBlocked = true;
      add({
        code: 'lock-invariant-broken',
        severity: 'at-risk',
        text: `Backups to ${t.name} are stopped: someone with this computer's storage keys changed its backup settings.`,
        short: 'backups to its destination are stopped',
        fix: FIX.alerts,
      });
    }
    if (targetAlerts.has('repository-damaged')) {
      targetBlocked = true;
      add({
        code: 'repository-damaged',
        severity: 'at-risk',
        text: `Some backup files on ${t.name} are damaged.`,
        short: 'its backups are damaged',
        fix: FIX.alerts,
      });
    }
    if (!t.present || targetAlerts.has('target-unreachable')) {
      targetBlocked = true;
      add({
        code: 'target-unreachable',
        severity: 'at-risk',
        text:
          t.kind === 'fs'
            ? `${t.name} cannot be reached: the disk or network share it is on is disconnected or switched off.`
            : `${t.name} cannot be reached: check the internet connection and the storage account.`,
        short: 'its backup destination cannot be reached',
        fix: FIX.targets,
      });
    }
    if (targetAlerts.has('repository-tampered'))
      add({
        code: 'repository-tampered',
        severity: 'at-risk',
        text: `Someone with this computer's storage keys changed or hid backup files on ${t.name}; the locked originals are still used.`,
        short: 'someone tampered with its backups',
        fix: FIX.alerts,
      });
    if (targetAlerts.has('locks-short'))
      add({
        code: 'locks-short',
        severity: 'at-risk',
        text: `Some backups on ${t.name} are not locked for as long as promised: they could be deleted sooner.`,
        short: 'its backups are locked for less than promised',
        fix: FIX.snapshots,
      });
    if (t.kind === 's3' && !t.locked)
      add({
        code: 'target-not-immutable',
        severity: 'at-risk',
        text: `The backups on ${t.name} are not locked: anyone who gets this computer's storage keys could delete them.`,
        short: 'its backups are not locked against deletion',
        fix: FIX.targets,
      });
    else if (targetAlerts.has('selftest-failed'))
      add({
        code: 'target-not-immutable',
        severity: 'at-risk',
        text: `The storage account of ${t.name} lets this computer delete or shorten the locks of its backups.`,
        short: 'its backups are not locked against deletion',
        fix: FIX.targets,
      });
    if (t.kind === 'fs' && t.sameDisk)
      add({
        code: 'same-disk',
        severity: 'at-risk',
        text: `The only copy of ${name} is on the same disk as the folder itself: if that disk fails, both are lost.`,
        short: 'the only copy is on the same disk',
        fix: FIX.targets,
      });
  }

  // A failed run whose cause is already named (folder missing, destination unreachable) is not listed twice.
  const neverSucceeded = f.source.lastSuccessAt === null;
  if (f.lastOutcome === 'failed' && !targetBlocked && f.missingPaths.length === 0)
    add({
      code: 'last-backup-failed',
      severity: 'at-risk',
      text: neverSucceeded ? `The first backup of ${name} failed.` : `The last backup of ${name} failed.`,
      short: neverSucceeded ? 'the first backup failed' : 'the last backup failed',
      fix: FIX.backUpNow,
    });

  const limit = f.source.rpoMinutes * MINUTE;
  if (f.source.lastSuccessAt === null)
    add({
      code: 'never-backed-up',
      severity: 'not-protected',
      text: `${name} has not been backed up yet.`,
      short: 'not backed up yet',
      fix: FIX.backUpNow,
    });
  else if (f.now - f.source.lastSuccessAt > limit) {
    const age = humanDuration(f.now - f.source.lastSuccessAt);
    add({
      code: 'rpo-missed',
      severity: 'not-protected',
      text: `The last backup of ${name} is from ${age} ago; it should never be older than ${humanDuration(limit)}.`,
      short: `no backup for ${age}`,
      fix: FIX.backUpNow,
    });
  }

  reasons.sort((a, b) => PRIORITY.indexOf(a.code) - PRIORITY.indexOf(b.code));
  const state: ProtectionState = reasons.some((r) => r.severity === 'not-protected')
    ? 'not-protected'
    : reasons.length > 0
      ? 'at-risk'
      : 'protected';
  const first = reasons[0];
  return { state, summary: first ? `${STATE_LABEL[state]}: ${first.short}` : 'Protected', reasons };
}

const STATE_LABEL: Readonly<Record<ProtectionState, string>> = {
  protected: 'Protected',
  'at-risk': 'At risk',
  'not-protected': 'Not protected',
};

const RANK: Readonly<Record<ProtectionState, number>> = { protected: 0, 'at-risk': 1, 'not-protected': 2 };

export interface OverallProtection {
  state: ProtectionState;
  /** "All 3 folders protected", "1 of 3 folders at risk: Office — the last backup failed" */
  headline: string;
  /** the newest successful backup of an enabled source */
  lastBackupAt: number | null;
  counts: { protected: number; atRisk: number; notProtected: number };
}

export interface SourceProtection {
  name: string;
  enabled: boolean;
  lastSuccessAt: number | null;
  protection: Protection;
}

const folders = (n: number): string => (n === 1 ? '1 folder' : `${n} folders`);

/** The answer at the top of every page: the worst state of the enabled sources, in one line. */
export function overallProtection(sources: readonly SourceProtection[]): OverallProtection {
  const enabled = sources.filter((s) => s.enabled);
  const counts = { protected: 0, atRisk: 0, notProtected: 0 };
  let lastBackupAt: number | null = null;
  let state: ProtectionState = 'protected';
  for (const s of enabled) {
    const st = s.protection.state;
    if (st === 'protected') counts.protected++;
    else if (st === 'at-risk') counts.atRisk++;
    else counts.notProtected++;
    if (RANK[st] > RANK[state]) state = st;
    if (s.lastSuccessAt !== null && (lastBackupAt === null || s.lastSuccessAt > lastBackupAt))
      lastBackupAt = s.lastSuccessAt;
  }
  const base = { lastBackupAt, counts };
  if (sources.length === 0)
    return { ...base, state: 'not-protected', headline: 'No folders yet: add one to start protecting' };
  if (enabled.length === 0)
    return {
      ...base,
      state: 'not-protected',
      headline: `No folder is being backed up: ${sources.length === 1 ? 'it is' : `all ${sources.length} are`} paused`,
    };
  const n = enabled.length;
  if (state === 'protected')
    return { ...base, state, headline: n === 1 ? '1 folder protected' : `All ${n} folders protected` };
  const worst = enabled.filter((s) => s.protection.state === state);
  const label = state === 'at-risk' ? 'at risk' : 'not protected';
  const shorts = worst.map((s) => s.protection.reasons[0]?.short ?? '');
  const firstName = worst[0]?.name ?? '';
  // One cause for all of them (paused, the destination unreachable): say it once.
  const headline =
    n === 1
      ? `${firstName} is ${label}: ${shorts[0]}`
      : worst.length === n && shorts.every((x) => x === shorts[0])
        ? `All ${n} folders ${label}: ${shorts[0]}`
        : `${worst.length} of ${folders(n)} ${label}: ${firstName} — ${shorts[0]}`;
  return { ...base, state, headline };
}
