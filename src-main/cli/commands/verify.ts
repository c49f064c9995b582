import type { Command } from 'commander';
import { recordAudit } from '../../engine/audit/audit.ts';
import { BulwarkError } from '../../engine/errors.ts';
import {
  acknowledgeTampering,
  verifyLocks,
  type LockReport,
  type LockViolation,
  type TamperEntry,
} from '../../engine/locks/verify-locks.ts';
import type { VerifyReport } from '../../engine/ops/types.ts';
import { verifyRepository } from '../../engine/ops/verify.ts';
import type { Repository } from '../../engine/repo/repository.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { humanBytes, localTime, plural, table, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import type { Output } from '../output.ts';
import { isS3, withRepository, type CommandEnv } from '../repo-open.ts';

interface VerifyCmdOptions extends CommonOptions {
  readData?: boolean;
  locks?: boolean;
  acknowledge?: boolean;
}

export function registerVerify(program: Command, app: App): void {
  const cmd = program
    .command('verify')
    .description(
      'check the repository: snapshots, hash chain, trees, packs (with --read-data: every byte; ' +
        'with --locks: the Object Lock of every object, as the server reports it)',
    )
    .option('--read-data', 'also read, decrypt and check every blob of every pack')
    .option(
      '--locks',
      'S3 Object Lock: prove from the server that every object a snapshot needs stays locked as long as the snapshot ' +
        '(alone: only this check; with --read-data: both); also lists every version or delete marker someone ' +
        'else put over the repository',
    )
    .option(
      '--acknowledge',
      'with --locks: you have looked at the tampering it lists (and replaced the leaked keys): backups, forget and ' +
        'prune, which stop when the repository settings were replaced, may resume with the original settings',
    );
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: VerifyCmdOptions) => {
    app.exitCode = await runVerify(opts, begin(app, opts));
  });
}

async function runVerify(opts: VerifyCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out } = ctx;
  const readData = opts.readData === true;
  const locks = opts.locks === true;
  if (opts.acknowledge === true && !locks) {
    throw new BulwarkError('INVALID_ARGUMENT', '--acknowledge goes with --locks', {
      hint: 'Run `bulwark verify --locks` first to see what was touched, then `bulwark verify --locks --acknowledge`.',
    });
  }
  // No sync on open: verify reads indexes and snapshots itself and reports damaged ones as problems.
  return withRepository(opts, ctx, { sync: false }, async ({ repo, target }) => {
    const report = !locks || readData ? await checkRepository(repo, ctx, readData) : undefined;
    const lockReport = locks ? await checkLocks(repo, ctx) : undefined;
    if (report) {
      await recordAudit(repo, {
        actor: 'cli',
        action: 'verify',
        subject: repo.config.id,
        details: { readData, ok: report.ok, problems: report.problems.length },
      });
    }
    if (lockReport) {
      await recordAudit(repo, {
        actor: 'cli',
        action: 'verify-locks',
        subject: repo.config.id,
        details: {
          applicable: lockReport.applicable,
          ok: lockReport.ok,
          objects: lockReport.objectsChecked,
          violations: lockReport.violations.length,
        },
      });
    }

    if (out.json) {
      if (report && lockReport) {
        out.jsonResult({ ok: report.ok && lockReport.ok, repository: report, locks: lockReport });
      } else out.jsonResult(report ?? lockReport);
    } else {
      if (report) printReport(out, report, readData);
      if (lockReport) printLockReport(out, lockReport);
    }
    if (lockReport && !lockReport.applicable) notLockable(out, repo, isS3(target.location));
    const openTampering = lockReport?.tampering.filter((t) => !t.acknowledged) ?? [];
    let acknowledged = 0;
    if (lockReport && opts.acknowledge === true) {
      acknowledged = await acknowledgeTampering(repo, 'cli');
      out.note(
        acknowledged === 0
          ? 'bulwark: nothing to acknowledge'
          : `bulwark: acknowledged ${plural(acknowledged, 'finding')}: backups into this repository may resume`,
      );
    }

    let code: number = EXIT.OK;
    if (report && !report.ok) {
      out.warn(`bulwark: verify found ${plural(report.problems.length, 'problem')}`);
      if (report.problems.some((p) => p.kind !== 'audit-gap'))
        out.warn(
          '  hint: the files listed cannot be restored intact. Keep the repository as it is; ' +
            'run a new backup to store those files again.',
        );
      if (report.problems.some((p) => p.kind === 'audit-gap'))
        out.warn(
          '  hint: audit entries are missing or were altered: someone who can write to the repository removed or ' +
            'changed them, or the storage lost them. The times given say when the missing entries were written.',
        );
      code = EXIT.FAILURE;
    }
    if (lockReport && lockReport.violations.length > 0) {
      warnViolations(out, lockReport.violations);
      code = EXIT.FAILURE;
    }
    if (openTampering.length > 0) {
      warnTampering(out, openTampering, acknowledged > 0);
      code = EXIT.FAILURE;
    }
    return code;
  });
}

async function checkRepository(repo: Repository, ctx: CommandEnv, readData: boolean): Promise<VerifyReport> {
  const { out, signal } = ctx;
  const progress = out.progress();
  try {
    return await verifyRepository(repo, {
      readData,
      signal,
      onProgress: (p) =>
        progress.update({
          label: p.phase === 'structure' ? 'checking snapshots' : 'reading packs',
          done: p.done,
          total: p.total,
        }),
    });
  } finally {
    out.stopProgress();
  }
}

async function checkLocks(repo: Repository, ctx: CommandEnv): Promise<LockReport> {
  const { out, signal } = ctx;
  const progress = out.progress();
  progress.update({ label: 'asking the server about every object' });
  try {
    return await verifyLocks(repo, { signal });
  } finally {
    out.stopProgress();
  }
}

function printReport(out: Output, r: VerifyReport, readData: boolean): void {
  let checked = `checked ${plural(r.snapshots, 'snapshot')}, ${plural(r.trees, 'tree')}, ${plural(r.packs, 'pack')}`;
  if (readData) checked += `; read ${plural(r.blobsChecked, 'blob')} (${humanBytes(r.bytesChecked)})`;
  out.line(checked);
  // Not problems, but worth knowing (damage already superseded by an intact copy, unchained audit entries).
  for (const n of r.notes ?? []) out.line(`note: ${termSafe(n)}`);
  if (r.ok) {
    out.line('no problems found');
    return;
  }
  r.problems.forEach((p, i) => {
    out.line(`problem ${i + 1}: ${p.kind}: ${termSafe(p.object)}`);
    out.line(`  ${termSafe(p.message)}`);
    if (p.affected?.length) {
      out.line(`  affected files (${p.affected.length}):`);
      for (const a of p.affected) out.line(`    ${termSafe(a)}`);
    }
  });
}

const when = (iso: string | undefined): string => (iso === undefined ? '-' : localTime(iso));

function printLockReport(out: Output, r: LockReport): void {
  printTampering(out, r.tampering);
  if (!r.applicable) return;
  out.line(
    `locks: asked the server about ${plural(r.objectsChecked, 'object')} ` +
      `(server time ${localTime(r.serverTime)}), ${plural(r.snapshots.length, 'snapshot')}`,
  );
  if (r.snapshots.length > 0) {
    const now = Date.parse(r.serverTime);
    const rows = r.snapshots.map((s) => {
      const expired = s.retainUntil !== undefined && Date.parse(s.retainUntil) <= now;
      return [
        s.id.slice(0, 8),
        localTime(s.time),
        `retain until ${when(s.retainUntil)}${expired ? ' (expired)' : ''}`,
        s.protectedUntil === undefined ? 'NOT PROTECTED' : `protected until ${localTime(s.protectedUntil)}`,
        s.held ? 'HELD' : '',
      ];
    });
    // Self-describing cells, aligned; no header row.
    for (const l of table(['', '', '', '', ''], rows).slice(1)) out.line(l);
  }
  if (r.violations.length === 0) {
    out.line(
      'no lock violations: every object each snapshot needs stays locked at least as long as the snapshot',
    );
    return;
  }
  r.violations.forEach((v, i) => {
    out.line(`violation ${i + 1}: ${v.problem}: ${termSafe(v.object)}`);
    out.line(`  ${describeViolation(v)}`);
  });
}

const TAMPER_TEXT: Readonly<Record<TamperEntry['kind'], string>> = {
  'foreign-version': 'someone put another version over it (Bulwark still reads its own, locked version)',
  'delete-marker': 'someone placed a delete marker on it (the locked original is still there and is read)',
  'no-authentic-version': 'none of its versions is one Bulwark wrote',
};

function printTampering(out: Output, entries: readonly TamperEntry[]): void {
  if (entries.length === 0) return;
  out.line(
    `tampering: ${plural(entries.length, 'foreign version or delete marker', 'foreign versions or delete markers')}`,
  );
  for (const t of entries) {
    const when = t.modified ? ` at ${localTime(t.modified)}` : '';
    const ack = t.acknowledged ? ' (acknowledged)' : '';
    out.line(
      `  ${termSafe(t.object)}: ${TAMPER_TEXT[t.kind]}; version ${termSafe(t.versionId)}${when}${ack}`,
    );
  }
}

function warnTampering(out: Output, open: readonly TamperEntry[], acknowledged: boolean): void {
  const objects = new Set(open.map((t) => t.object));
  out.warn(
    `bulwark: someone holding this repository's access keys changed ${plural(objects.size, 'object')} (${plural(open.length, 'version')})`,
  );
  out.warn(
    '  hint: restores are not affected: Bulwark reads the versions it wrote, which are locked. Check this computer for ' +
      'malware and replace the access keys (revoke the old ones). ' +
      (acknowledged
        ? 'You acknowledged these findings: backups resume with the original settings.'
        : (objects.has('config')
            ? 'Backups into this repository are stopped because its settings (config) were replaced; '
            : '') + 'after looking into it, run `bulwark verify --locks --acknowledge`.'),
  );
}

function describeViolation(v: LockViolation): string {
  const needed = v.needed === undefined ? '' : `; needed until ${localTime(v.needed)}`;
  const snap =
    v.snapshot === undefined ? 'listed by no snapshot' : `needed by snapshot ${v.snapshot.slice(0, 8)}`;
  switch (v.problem) {
    case 'missing':
      return `not on the server${needed} (${snap})`;
    case 'unlocked':
      return `the server reports no lock on it${needed} (${snap})`;
    case 'short':
      return `the server locks it until ${when(v.retainUntil)}${needed} (${snap})`;
  }
}

/** The summary on stderr (also with --json and --quiet): what each kind of violation means and what to do. */
function warnViolations(out: Output, violations: readonly LockViolation[]): void {
  out.warn(`bulwark: verify --locks found ${plural(violations.length, 'lock violation')}`);
  const kinds = new Set(violations.map((v) => v.problem));
  if (kinds.has('unlocked')) {
    out.warn(
      '  hint: an unlocked object was written by a path that dropped the lock (another tool, a multipart upload, ' +
        'a proxy or gateway that strips the Object Lock headers); it can be deleted or replaced. Run ' +
        '`bulwark target check` to test the target, and find out what else writes to the bucket.',
    );
  }
  if (kinds.has('short')) {
    out.warn(
      '  hint: a short lock means the lock-extension step before a snapshot was committed did not run ' +
        '(an interrupted or older client). After investigating, run a backup (it extends the locks of ' +
        'everything it shares with earlier snapshots) and `bulwark verify --locks` again.',
    );
  }
  if (kinds.has('missing')) {
    out.warn(
      '  hint: an object a locked snapshot needs is gone from the server, which Object Lock should have ' +
        'prevented: check that the bucket still has Object Lock and who can manage it, and run `bulwark verify` ' +
        'to see which files are affected.',
    );
  }
}

/** Why --locks had nothing to prove here: the result in text mode, a note beside the JSON. */
function notLockable(out: Output, repo: Repository, s3: boolean): void {
  const msg =
    !s3 || !repo.store.capabilities.enforcedLocks
      ? 'locks: not enforced by a folder target: it is tamper-evident, not immutable (whoever can write to the ' +
        'folder can delete backups). There, `bulwark verify` (snapshots, hash chain; with --read-data every byte) ' +
        'is the check.'
      : 'locks: this repository was created without Object Lock (init --lock-days): its objects are not locked, ' +
        'so whoever holds keys to the bucket can delete backups; there is no lock to prove.';
  if (out.json) out.note(`bulwark: ${msg}`);
  else out.line(msg);
}
