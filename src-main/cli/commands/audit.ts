import type { Command } from 'commander';
import { readAuditLog, type AuditEntry } from '../../engine/audit/audit.ts';
import { BulwarkError } from '../../engine/errors.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { localTime, plural, table, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { withRepository, type CommandEnv } from '../repo-open.ts';

interface AuditCmdOptions extends CommonOptions {
  csv?: boolean;
}

export function registerAudit(program: Command, app: App): void {
  const cmd = program
    .command('audit')
    .description(
      'print the audit log kept in the repository (it survives a lost computer): time, origin, action, subject, ' +
        'details of every backup, restore, forget, prune, hold and policy change; --csv for compliance exports',
    )
    .option('--csv', 'print it as CSV (RFC 4180) on stdout');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: AuditCmdOptions) => {
    app.exitCode = await runAudit(opts, begin(app, opts));
  });
}

const origin = (e: AuditEntry): string => `${e.actor} ${e.user}@${e.host}`;
const details = (e: AuditEntry): string => (e.details === undefined ? '' : JSON.stringify(e.details));

/**
 * One CSV field: quoted when needed (RFC 4180); a field that a spreadsheet would run as a formula
 * (starting with = + - @ or a control character) is prefixed with ' (OWASP CSV injection).
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

async function runAudit(opts: AuditCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal } = ctx;
  if (opts.csv && opts.json)
    throw new BulwarkError('INVALID_ARGUMENT', '--csv and --json exclude each other');
  // The log is read from the repository's audit objects, not from this computer's catalog.
  return withRepository(opts, ctx, { sync: false }, async ({ repo }) => {
    const log = await readAuditLog(repo, signal);
    if (opts.json) out.jsonResult(log);
    else if (opts.csv) {
      out.line(['time', 'actor', 'host', 'user', 'action', 'subject', 'details'].join(','));
      for (const e of log.entries) {
        out.line(
          [e.time, e.actor, e.host, e.user, e.action, e.subject ?? '', details(e)].map(csvField).join(','),
        );
      }
    } else if (log.entries.length === 0) {
      out.line('the audit log is empty');
    } else {
      // JSON.stringify escapes C0 controls only: DEL, C1 and bidi controls are escaped here too
      const rows = log.entries.map((e) => [
        localTime(e.time),
        termSafe(origin(e)),
        termSafe(e.action),
        e.subject === null ? '-' : termSafe(e.subject.length === 32 ? e.subject.slice(0, 8) : e.subject),
        termSafe(details(e)),
      ]);
      for (const l of table(['TIME', 'ORIGIN', 'ACTION', 'SUBJECT', 'DETAILS'], rows)) out.line(l);
      out.line(plural(log.entries.length, 'entry', 'entries'));
    }
    if (log.damaged.length > 0) {
      out.warn(
        `bulwark: ${plural(log.damaged.length, 'audit object')} could not be read (altered, damaged or foreign): ` +
          log.damaged.join(', '),
      );
      return EXIT.FAILURE;
    }
    return EXIT.OK;
  });
}
