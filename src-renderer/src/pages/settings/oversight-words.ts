import type { AlertKind } from '../../../../src-main/contract/model.ts';
import type { AuditEntryView } from '../../../../src-main/contract/oversight.ts';
import type { ResultError } from '../../../../src-main/contract/result.ts';
import { formatBytes, formatCount } from '../../ui/format.ts';
import { describeError } from '../../ui/words.ts';

/** Each kind of alert as a person would name it (the routing table of the Notifications tab). */
export const ALERT_KIND_LABEL: Readonly<Record<AlertKind, string>> = {
  'backup-failed': 'A backup failed',
  'rpo-missed': 'A folder went too long without a backup',
  'target-unreachable': 'A backup destination cannot be reached',
  'source-missing': 'A folder to back up cannot be found',
  'selftest-failed': 'A destination’s protection test failed',
  'lock-invariant-broken': 'A destination’s settings were replaced (possible attack)',
  'repository-tampered': 'Someone changed backup files',
  'repository-damaged': 'Backup files are damaged',
  'watch-degraded': 'Changes are found later than usual',
  'locks-short': 'Backups are protected for less time than expected',
  'ransomware-suspected': 'Possible ransomware on this computer',
  'drill-failed': 'A test restore failed',
  'copy-behind': 'An extra copy of the backups is late',
};

/** What the service answered when a form was refused or a test failed: its own words when it wrote them for people. */
export function refusalText(error: ResultError): string {
  const written = ['INVALID_ARGUMENT', 'PERMISSION', 'IO', 'NETWORK', 'NOT_FOUND'].includes(error.code);
  if (written && error.message !== 'This request is not valid.')
    return error.hint && !error.message.includes(error.hint)
      ? `${error.message} ${error.hint}`
      : error.message;
  const words = describeError(error);
  return `${words.title}. ${words.hint}`;
}

/** Audit actions in words; an action this version does not know is shown as written. */
export const AUDIT_ACTION_LABEL: Readonly<Record<string, string>> = {
  backup: 'Backup',
  restore: 'Restore',
  forget: 'Old backups removed',
  prune: 'Space freed',
  hold: 'Legal hold placed',
  'release-hold': 'Legal hold lifted',
  'policy-set': 'Retention changed',
  'rebuild-catalog': 'Backup list rebuilt',
  'acknowledge-tampering': 'Tampering acknowledged',
  verify: 'Check',
};

export const auditActionLabel = (action: string): string => AUDIT_ACTION_LABEL[action] ?? action;

const PROGRAM: Readonly<Record<string, string>> = {
  service: 'Bulwark service',
  cli: 'Command line',
  app: 'Desktop app',
};

/** "Bulwark service, anna on office-pc" */
export function auditOrigin(e: AuditEntryView): string {
  const program = PROGRAM[e.actor] ?? e.actor;
  const who = e.user && e.host ? `${e.user} on ${e.host}` : (e.host ?? e.user);
  return who ? `${program}, ${who}` : program;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** One line about what the entry did, from its recorded details. */
export function auditSummary(e: AuditEntryView): string {
  const d = (typeof e.details === 'object' && e.details !== null ? e.details : {}) as Record<string, unknown>;
  const outcome = str(d.outcome);
  const error = str(d.error);
  if (outcome === 'failed') return error ? `Failed: ${error.replace(/^[A-Z][A-Z_]{2,}:\s*/, '')}` : 'Failed';
  if (outcome === 'canceled') return 'Stopped before it finished';
  switch (e.action) {
    case 'backup': {
      const files = num(d.files);
      const added = num(d.bytesAdded);
      const parts = [
        files !== undefined ? formatCount(files, 'file') : undefined,
        added !== undefined ? `${formatBytes(added)} new` : undefined,
      ].filter((x): x is string => x !== undefined);
      return parts.length ? `Backed up ${parts.join(', ')}` : 'Backed up';
    }
    case 'restore': {
      const files = num(d.files) ?? num(d.restored);
      return files !== undefined ? `Restored ${formatCount(files, 'file')}` : 'Restored';
    }
    case 'forget': {
      const n = num(d.removed) ?? num(d.forgotten);
      return n !== undefined ? `${formatCount(n, 'old backup')} removed` : 'Old backups removed';
    }
    default:
      return auditActionLabel(e.action);
  }
}
