import type { AuditEntryView } from '../../../../src-main/contract/oversight.ts';
import { auditActionLabel, auditSummary } from './oversight-words.ts';

/**
 * The audit log as CSV (RFC 4180, CRLF lines, a BOM so spreadsheet programs read UTF-8): one row per entry,
 * the words shown on the page and the raw fields (action, details as JSON) for whoever checks compliance.
 */

/**
 * One CSV field: quoted when needed; a field a spreadsheet would run as a formula (starting with = + - @, a
 * tab or a carriage return) is prefixed with ' (OWASP CSV injection), as `bulwark audit --csv` does.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const CSV_HEADER = [
  'time',
  'action',
  'what happened',
  'folder',
  'destination',
  'program',
  'user',
  'computer',
  'kept at the destination',
  'action code',
  'subject',
  'details',
];

export function auditCsv(entries: readonly AuditEntryView[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const e of entries) {
    lines.push(
      [
        e.time,
        auditActionLabel(e.action),
        auditSummary(e),
        e.sourceName ?? '',
        e.targetName ?? '',
        e.actor,
        e.user ?? '',
        e.host ?? '',
        e.stored ? 'yes' : 'not yet',
        e.action,
        e.subject ?? '',
        e.details === undefined ? '' : JSON.stringify(e.details),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** bulwark-audit-2026-03-02.csv */
export function csvFileName(now: Date): string {
  const d = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  return `bulwark-audit-${d}.csv`;
}
