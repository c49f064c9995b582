import type { Command } from 'commander';
import { BulwarkError } from '../../engine/errors.ts';
import { holdSnapshot } from '../../engine/locks/verify-locks.ts';
import { begin, type App } from '../app.ts';
import { EXIT } from '../exit-codes.ts';
import { plural, termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { isS3, resolveTarget, withRepository, type CommandEnv } from '../repo-open.ts';

interface HoldCmdOptions extends CommonOptions {
  off?: boolean;
}

export function registerHold(program: Command, app: App): void {
  const cmd = program
    .command('hold')
    .description(
      'S3 Object Lock: put every object a snapshot needs under legal hold (kept, whatever its retain-until date, ' +
        'until the hold is lifted); --off lifts it',
    )
    .argument('<snapshot>', 'snapshot id, unique id prefix, or "latest"')
    .option('--off', 'lift the legal hold instead of placing it');
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (snapshot: string, opts: HoldCmdOptions) => {
    app.exitCode = await runHold(snapshot, opts, begin(app, opts));
  });
}

async function runHold(ref: string, opts: HoldCmdOptions, ctx: CommandEnv): Promise<number> {
  const { out, signal, env } = ctx;
  const on = opts.off !== true;
  // Refuse before asking for a password: a folder has no legal holds to set.
  if (!isS3(resolveTarget(opts, env).location)) {
    throw new BulwarkError('UNSUPPORTED', 'legal holds need an s3:// repository; this one is a folder', {
      hint:
        'A folder target is tamper-evident, not immutable: nothing stops whoever can write to it from deleting ' +
        'backups, so there is no hold to place. For backups that cannot be deleted use an S3 bucket with Object ' +
        'Lock (`bulwark init --repo s3://bucket/prefix --lock-days N`).',
    });
  }
  return withRepository(opts, ctx, {}, async ({ repo }) => {
    const snap = repo.resolveSnapshot(ref);
    const warned = repo.warnings.length;
    // The engine writes the hold record and the audit entry.
    const r = await holdSnapshot(repo, snap.id, on, signal, 'cli');
    for (const w of repo.warnings.slice(warned)) out.warn(`bulwark: warning: ${termSafe(w)}`);
    const short = (id: string): string => id.slice(0, 8);
    if (out.json) {
      out.jsonResult({
        snapshot: r.snapshot,
        held: r.held,
        objects: r.objects,
        released: r.released,
        keptHeld: r.keptHeld,
        keptFor: r.keptFor,
      });
    } else if (on) {
      out.line(`snapshot ${short(r.snapshot)}: ${plural(r.objects, 'object')} put under legal hold`);
    } else {
      // Snapshots share objects (dedup): what another held snapshot needs stays held for it.
      let line = `snapshot ${short(r.snapshot)}: ${plural(r.released, 'object')} released from legal hold`;
      if (r.keptHeld > 0) {
        const others = r.keptFor.map(short).join(', ');
        line +=
          `; ${plural(r.keptHeld, 'object')} ${r.keptHeld === 1 ? 'stays' : 'stay'} held because ` +
          `${r.keptFor.length === 1 ? 'another held snapshot needs' : `${r.keptFor.length} other held snapshots need`} ` +
          `${r.keptHeld === 1 ? 'it' : 'them'} (${others})`;
      }
      out.line(line);
      if (r.held) {
        out.warn(
          `note: snapshot ${short(r.snapshot)} was put under legal hold again meanwhile (by another computer): it stays held`,
        );
      }
    }
    if (on) {
      out.warn(
        'warning: whoever may set a legal hold may also lift it (s3:PutObjectLegalHold): a hold guards against ' +
          'expiry and mistakes, not against someone holding those keys. For protection nobody can undo, lock ' +
          'for longer: retention in COMPLIANCE mode (`bulwark init --lock-days N`) cannot be shortened or removed, ' +
          'not even by the bucket owner.',
      );
    } else {
      out.note(
        'note: the objects stay locked until their retain-until date; they can be deleted only after it ' +
          "(`bulwark verify --locks` shows each snapshot's protected-until).",
      );
    }
    return EXIT.OK;
  });
}
