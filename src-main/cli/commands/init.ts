import { Option, type Command } from 'commander';
import { BulwarkError, isBulwarkError } from '../../engine/errors.ts';
import { catalogPathFor, localPaths } from '../../engine/paths.ts';
import type { LockPolicy } from '../../engine/repo/format.ts';
import { initRepository, readConfig } from '../../engine/repo/repository.ts';
import { begin, type App } from '../app.ts';
import { termSafe } from '../format.ts';
import { outputOptions, repoOptions, type CommonOptions } from '../options.ts';
import { positiveInt } from '../parse.ts';
import { createDefaultKey, readDefaultKey, readPassword } from '../password.ts';
import {
  isS3,
  keepKeyHint,
  kdfFromEnv,
  openCatalog,
  openTargetStore,
  resolveTarget,
  securePrivateFolders,
  type CommandEnv,
} from '../repo-open.ts';
import { EXIT } from '../exit-codes.ts';

interface InitOptions extends CommonOptions {
  lockDays?: number;
  lockMode?: 'compliance' | 'governance';
}

/** Extra days added to every lock (see LockPolicy.paddingDays). */
const LOCK_PADDING_DAYS = 10;

export function registerInit(program: Command, app: App): void {
  const cmd = program
    .command('init')
    .description('create a new, empty repository (without --repo: the embedded default repository)')
    .option('--lock-days <n>', 'S3 Object Lock: keep every object undeletable for N days', positiveInt)
    .addOption(
      new Option('--lock-mode <mode>', 'S3 Object Lock mode (default: compliance)').choices([
        'compliance',
        'governance',
      ]),
    );
  repoOptions(cmd);
  outputOptions(cmd);
  cmd.action(async (opts: InitOptions) => {
    app.exitCode = await runInit(opts, begin(app, opts));
  });
}

function lockPolicy(opts: InitOptions, location: string): LockPolicy | null {
  if (opts.lockDays === undefined && opts.lockMode === undefined) return null;
  if (!isS3(location)) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      'Object Lock (--lock-days, --lock-mode) needs an s3:// repository',
      {
        hint: 'A folder target is tamper-evident (`bulwark verify` detects changes), not immutable. For immutable backups use S3 with Object Lock.',
      },
    );
  }
  if (opts.lockDays === undefined)
    throw new BulwarkError('INVALID_ARGUMENT', '--lock-mode needs --lock-days N');
  const mode = (opts.lockMode ?? 'compliance') === 'governance' ? 'GOVERNANCE' : 'COMPLIANCE';
  return { mode, days: opts.lockDays, paddingDays: LOCK_PADDING_DAYS };
}

async function runInit(opts: InitOptions, ctx: CommandEnv): Promise<number> {
  const { env, out } = ctx;
  const target = resolveTarget(opts, env);
  const lock = lockPolicy(opts, target.location);
  const kdf = kdfFromEnv(env);
  securePrivateFolders(ctx);
  const store = await openTargetStore(target, opts);
  try {
    // Refuse early (before asking for a password or creating a key file) when a repository is there.
    const existing = await readConfig(store).then(
      (c) => c,
      (e: unknown) => {
        if (isBulwarkError(e, 'REPO_NOT_FOUND')) return undefined;
        throw e;
      },
    );
    if (existing) {
      throw new BulwarkError('REPO_EXISTS', `a repository already exists at ${store.location}`, {
        hint: 'Use it as it is (bulwark snapshots), or choose another --repo location.',
      });
    }
    const keyFile = target.keyFile ?? '';
    const password = target.isDefault
      ? (readDefaultKey(keyFile) ?? createDefaultKey(keyFile))
      : await readPassword(opts, env, { confirm: true });
    const config = await initRepository(store, password, {
      lock,
      ...(kdf ? { kdf } : {}),
      // the first command after init starts its key derivation before it reaches the bucket
      keyStored: (key) => keepKeyHint(ctx, target.location, key),
    });

    const catalog = openCatalog(opts.catalog ?? catalogPathFor(localPaths(env), config.id));
    try {
      catalog.audit('cli', 'init', config.id, { location: store.location, lock });
    } finally {
      catalog.close();
    }

    if (out.json) {
      out.jsonResult(config);
      return EXIT.OK;
    }
    // --quiet: only errors. (`--json` or `bulwark snapshots` tell a script what was created.)
    if (out.quiet) return EXIT.OK;
    out.line(`created repository ${config.id} at ${termSafe(store.location)}`);
    if (target.isDefault) {
      out.line(
        `its password is in ${termSafe(keyFile)}: keep a copy somewhere safe, without it the backups cannot be read.`,
      );
    }
    if (!isS3(target.location)) {
      out.line(
        'note: folder targets are tamper-evident, not immutable: whoever can write to the folder can delete or ' +
          'damage backups (`bulwark verify` detects it). For immutable backups use S3 with Object Lock.',
      );
    } else if (lock) {
      out.line(
        `Object Lock: every object is locked in ${lock.mode} mode for ${lock.days} days (+${lock.paddingDays} days padding).`,
      );
    } else {
      out.line(
        'note: no Object Lock (--lock-days): the bucket owner can delete backups; they are not immutable.',
      );
    }
    return EXIT.OK;
  } finally {
    await store.close?.();
  }
}
