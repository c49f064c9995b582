import { renameSync, existsSync, rmSync } from 'node:fs';
import { Catalog, isCatalogDamaged } from '../engine/catalog/catalog.ts';
import { initDefaultRepository } from '../engine/default-repo.ts';
import { BulwarkError, isBulwarkError } from '../engine/errors.ts';
import { rebuildCatalog } from '../engine/ops/rebuild.ts';
import { catalogPathFor, defaultKeyFile, defaultRepositoryDir, localPaths } from '../engine/paths.ts';
import type { KeyFile } from '../engine/crypto/keys.ts';
import type { RepoConfig } from '../engine/repo/format.ts';
import {
  readConfigVersions,
  Repository,
  SYNC_LISTINGS,
  type ConfigVersion,
  type InitOptions,
} from '../engine/repo/repository.ts';
import { openStore } from '../engine/storage/open.ts';
import type { BlobStore } from '../engine/storage/types.ts';
import { ensurePrivateDir } from '../engine/paths.ts';
import { termSafe } from './format.ts';
import { fileError } from './fs-errors.ts';
import type { Output } from './output.ts';
import { saveKeyHint } from './unlock-ahead.ts';
import { readDefaultKey, readPassword, type PasswordOptions } from './password.ts';

export interface RepoOptions extends PasswordOptions {
  repo?: string;
  catalog?: string;
  endpoint?: string;
  region?: string;
}

export interface CommandEnv {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  out: Output;
}

/** Which repository a command works on: --repo, else BULWARK_REPOSITORY, else the embedded default. */
export interface RepoTarget {
  location: string;
  /** the embedded default repository: its password lives in `keyFile` */
  isDefault: boolean;
  keyFile?: string;
}

export function resolveTarget(opts: RepoOptions, env: NodeJS.ProcessEnv): RepoTarget {
  const location = opts.repo ?? (env.BULWARK_REPOSITORY || undefined);
  if (location !== undefined) {
    if (location === '') throw new BulwarkError('INVALID_ARGUMENT', '--repo is empty');
    return { location, isDefault: false };
  }
  if (opts.passwordFile !== undefined) {
    throw new BulwarkError('INVALID_ARGUMENT', '--password-file needs --repo', {
      hint: `Without --repo the default repository is used; its password is in ${defaultKeyFile(localPaths(env))}.`,
    });
  }
  const paths = localPaths(env);
  return { location: defaultRepositoryDir(paths), isDefault: true, keyFile: defaultKeyFile(paths) };
}

export const isS3 = (location: string): boolean => location.startsWith('s3://');

/**
 * Bulwark's own folders (data: catalogs with decrypted file names, the default repository; config: keys;
 * cache: pack files being built) private to this account: created 0700 (before the default repository's
 * folder store would create the data folder with the umask's mode), and tightened when an older version
 * or a loose umask left them open to others, which is said once (afterwards they are private). A folder
 * that cannot be created or changed (read-only home, commands with --repo and --catalog elsewhere) is
 * reported and the command goes on: it fails later only if it needs that folder.
 */
export function securePrivateFolders(ctx: CommandEnv): void {
  const paths = localPaths(ctx.env);
  for (const dir of new Set([paths.dataDir, paths.configDir, paths.cacheDir])) {
    let mode: number | undefined;
    try {
      mode = ensurePrivateDir(dir);
    } catch (e) {
      ctx.out.warn(
        `bulwark: warning: could not make ${termSafe(dir)} private (0700): ${termSafe((e as Error).message)}`,
      );
      continue;
    }
    if (mode !== undefined) {
      ctx.out.note(
        `bulwark: ${termSafe(dir)} was open to other accounts (mode ${mode.toString(8).padStart(4, '0')}); ` +
          'made it private (0700)',
      );
    }
  }
}

/** Opens the storage of a location (no I/O for folders). */
export async function openTargetStore(target: RepoTarget, opts: RepoOptions): Promise<BlobStore> {
  if (!isS3(target.location) && (opts.endpoint !== undefined || opts.region !== undefined)) {
    throw new BulwarkError('INVALID_ARGUMENT', '--endpoint and --region apply only to s3:// repositories');
  }
  try {
    return await openStore(target.location, {
      ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
      ...(opts.region !== undefined ? { region: opts.region } : {}),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && isS3(target.location)) {
      throw new BulwarkError('UNSUPPORTED', 'S3 repositories are not available in this build of Bulwark', {
        cause: e,
        hint: 'Use a folder (local disk or a mounted NAS share) for now.',
      });
    }
    throw e;
  }
}

/** scrypt cost from BULWARK_KDF_N (tests use a cheap one); undefined: the engine's default. */
export function kdfFromEnv(env: NodeJS.ProcessEnv): InitOptions['kdf'] {
  const raw = env.BULWARK_KDF_N;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2 || n > 2 ** 20 || (n & (n - 1)) !== 0) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `BULWARK_KDF_N=${raw}: must be a power of two from 2 to 1048576`,
    );
  }
  // r and p as in the engine's default cost (DEFAULT_KDF is not part of the public API)
  return { N: n, r: 8, p: 1 };
}

export const catalogPath = (opts: RepoOptions, env: NodeJS.ProcessEnv, config: RepoConfig): string =>
  opts.catalog ?? catalogPathFor(localPaths(env), config.id);

/** The exact `bulwark repair --rebuild-catalog` command for this repository, as the user gave it. */
export function repairCommand(opts: RepoOptions, target?: RepoTarget): string {
  const parts = ['bulwark repair --rebuild-catalog'];
  if (target ? !target.isDefault : opts.repo !== undefined) {
    parts.push(`--repo ${shellWord(target?.location ?? opts.repo ?? '')}`);
  }
  if (opts.endpoint !== undefined) parts.push(`--endpoint ${shellWord(opts.endpoint)}`);
  if (opts.region !== undefined) parts.push(`--region ${shellWord(opts.region)}`);
  if (opts.catalog !== undefined) parts.push(`--catalog ${shellWord(opts.catalog)}`);
  if (opts.passwordFile !== undefined) parts.push(`--password-file ${shellWord(opts.passwordFile)}`);
  return parts.join(' ');
}

/** A word a POSIX shell reads back as it is (single quotes only where needed). */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const rebuildHint = (command: string | undefined): string =>
  `The catalog is only a local cache: \`${command ?? 'bulwark repair --rebuild-catalog'}\`` +
  (command === undefined ? ' (with the same --repo)' : '') +
  ' rebuilds it from the repository; nothing in the repository is lost.';

/**
 * Opens the catalog, turning any failure (damaged file, not a database) into an error with a way out:
 * `repair`, the exact repair command (else a generic one is named). `check` runs SQLite's quick_check
 * first (Catalog.open). A damaged catalog stays recognisable with isCatalogDamaged.
 */
export function openCatalog(path: string, opts: { check?: boolean; repair?: string } = {}): Catalog {
  try {
    return Catalog.open(path, opts.check ? { check: true } : {});
  } catch (e) {
    if (isBulwarkError(e) && e.hint) throw e;
    const root: unknown = isBulwarkError(e) ? e.cause : e;
    const code = (root as { code?: unknown } | undefined)?.code;
    // A file system error (folder missing, permission) is not cured by a rebuild; a SQLite error is.
    if (typeof code === 'string' && !code.startsWith('SQLITE_')) throw fileError(root, `the catalog ${path}`);
    const detail = root instanceof Error ? root.message : String(root);
    const message = isBulwarkError(e) ? e.message : `cannot open the catalog ${path}: ${detail}`;
    throw new BulwarkError('IO', message, { cause: e, hint: rebuildHint(opts.repair) });
  }
}

/** Moves a catalog file (and its WAL/SHM companions) aside; returns the new name of the main file. */
export function moveCatalogAside(path: string, stamp: string): string | undefined {
  const aside = `${path}.broken-${stamp}`;
  let moved: string | undefined;
  for (const suffix of ['', '-wal', '-shm']) {
    if (!existsSync(path + suffix)) continue;
    renameSync(path + suffix, aside + suffix);
    if (suffix === '') moved = aside;
  }
  return moved;
}

export interface Located {
  target: RepoTarget;
  store: BlobStore;
  config: RepoConfig;
  /** true when this call created the (default) repository */
  created: boolean;
  /** the password, when locating needed it already (a damaged config object): asked once */
  password?: string;
  /** the versions of `config` read while locating (Repository.open takes them instead of reading again) */
  configVersions?: readonly ConfigVersion[];
}

/**
 * Finds the repository and reads its config (no password needed). With `autoInit`, the embedded default
 * repository is created (with a new key file) when it does not exist yet.
 */
export async function locateRepository(
  opts: RepoOptions,
  ctx: CommandEnv,
  { autoInit = false }: { autoInit?: boolean } = {},
): Promise<Located> {
  const target = resolveTarget(opts, ctx.env);
  securePrivateFolders(ctx);
  const store = await openTargetStore(target, opts);
  // The key's listing is the round trip after the config's (unlockRepository): on S3 it goes out beside
  // them now. A location without a repository leaves it untaken; one taken later than 10 s (a password
  // typed at the prompt) is asked again.
  store.prefetchListings?.(['keys/']);
  try {
    const { config, versions } = await readConfigVersions(store);
    return { target, store, config, configVersions: versions, created: false };
  } catch (e) {
    if (isBulwarkError(e, 'REPO_DAMAGED')) return configFromKey(target, store, opts, ctx, e);
    if (!isBulwarkError(e, 'REPO_NOT_FOUND') || !target.isDefault) {
      await store.close?.();
      throw e;
    }
    if (!autoInit) {
      throw new BulwarkError(
        'REPO_NOT_FOUND',
        `the default repository (${target.location}) does not exist yet`,
        {
          hint: 'The first `bulwark backup PATH` creates it; or give a repository with --repo DIR.',
        },
      );
    }
  }
  const config = await createDefaultRepository(target, store, ctx);
  return { target, store, config, created: true };
}

/**
 * The config object is damaged (readConfig says so), but every key carries the exact config text: with
 * the password the repository opens as usual, from the key's copy (Repository.open, with a throwaway
 * catalog: which catalog file belongs to the repository is known only from the config's id).
 */
async function configFromKey(
  target: RepoTarget,
  store: BlobStore,
  opts: RepoOptions,
  ctx: CommandEnv,
  damaged: BulwarkError,
): Promise<Located> {
  const scratch = Catalog.open(':memory:');
  try {
    let password: string;
    try {
      password = await repositoryPassword(target, opts, ctx.env);
    } catch (e) {
      // no password at hand: what is wrong with the repository comes first, then how to give it
      throw new BulwarkError(damaged.code, damaged.message, {
        cause: e,
        hint: `${damaged.hint ?? ''} ${isBulwarkError(e) ? (e.hint ?? e.message) : ''}`.trim(),
      });
    }
    const repo = await Repository.open(store, password, scratch);
    return { target, store, config: repo.config, created: false, password };
  } catch (e) {
    await store.close?.();
    throw e;
  } finally {
    scratch.close();
  }
}

async function createDefaultRepository(
  target: RepoTarget,
  store: BlobStore,
  ctx: CommandEnv,
): Promise<RepoConfig> {
  const keyFile = target.keyFile ?? '';
  const kdf = kdfFromEnv(ctx.env);
  const { config } = await initDefaultRepository(store, keyFile, kdf ? { kdf } : {});
  ctx.out.note(`bulwark: created the default repository in ${termSafe(target.location)}`);
  ctx.out.note(
    `  its password is in ${termSafe(keyFile)}: keep a copy somewhere safe, without it the backups cannot be read.`,
  );
  return config;
}

/** The password for a located repository (the default one: its key file). */
export async function repositoryPassword(
  target: RepoTarget,
  opts: RepoOptions,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  if (!target.isDefault) return readPassword(opts, env);
  const keyFile = target.keyFile ?? '';
  const pw = readDefaultKey(keyFile);
  if (pw === undefined) {
    throw new BulwarkError('NOT_FOUND', `the key file of the default repository (${keyFile}) is missing`, {
      hint: 'Put back the copy of it you kept; without it the default repository cannot be read.',
    });
  }
  return pw;
}

export interface OpenedRepository extends Located {
  repo: Repository;
  catalog: Catalog;
  close(): Promise<void>;
}

/**
 * What a command lists first (S3: asked while the key is derived); a function when that depends on the
 * repository's settings (the config as read before the key: it only chooses what is asked early), which
 * may also ask for the server's clock then.
 */
export type Prefetch =
  readonly string[] | ((config: RepoConfig) => { listings: readonly string[]; serverTime?: boolean });

/**
 * Keeps the key object that opens an S3 repository for the next command's early key derivation
 * (cli/unlock-ahead.ts); a folder's key is read in place. A copy that cannot be written is said, not fatal.
 */
export function keepKeyHint(ctx: CommandEnv, location: string, key: KeyFile): void {
  if (!isS3(location)) return;
  const failed = saveKeyHint(ctx.env, location, key);
  if (failed !== undefined)
    ctx.out.note(`bulwark: could not keep a copy of the key to unlock faster next time: ${termSafe(failed)}`);
}

/** Unlocks a located repository with its password and the given catalog (closed on failure). */
export async function unlockRepository(
  loc: Located,
  opts: RepoOptions,
  ctx: CommandEnv,
  catalog: Catalog,
  prefetch: Prefetch = [],
): Promise<OpenedRepository> {
  try {
    const password = loc.password ?? (await repositoryPassword(loc.target, opts, ctx.env));
    const ahead = typeof prefetch === 'function' ? prefetch(loc.config) : { listings: prefetch };
    const repo = await Repository.open(loc.store, password, catalog, {
      ...(loc.configVersions ? { configVersions: loc.configVersions } : {}),
      prefetch: ahead.listings,
      serverTime: ahead.serverTime === true,
    });
    for (const w of repo.warnings) ctx.out.warn(`bulwark: warning: ${termSafe(w)}`);
    repo.warnings.length = 0; // said once; commands print what is added while they run
    if (repo.unlockedKey !== undefined) keepKeyHint(ctx, loc.target.location, repo.unlockedKey);
    return {
      ...loc,
      repo,
      catalog,
      close: async () => {
        catalog.close();
        await loc.store.close?.();
      },
    };
  } catch (e) {
    catalog.close();
    await loc.store.close?.();
    throw e;
  }
}

/**
 * Locates, unlocks and (with `sync`) brings the catalog in line with the repository: index objects and
 * snapshots written by other runs or computers, so reads see the repository, not a stale cache. A damaged
 * catalog (it is checked on open) is moved aside and rebuilt from the repository, said in one line.
 */
export async function openRepository(
  opts: RepoOptions,
  ctx: CommandEnv,
  {
    autoInit = false,
    sync = true,
    prefetch = sync ? SYNC_LISTINGS : [],
    whileUnlocking,
  }: {
    autoInit?: boolean;
    sync?: boolean;
    /** what the command lists first (S3: asked while the key is derived); the sync's listings with `sync` */
    prefetch?: Prefetch;
    /**
     * Called once the catalog is open, before the key is derived: work that needs only the catalog starts
     * here and runs while the main thread would wait (a restore's plan: engine/ops/restore-ahead.ts). Not
     * called when the catalog is rebuilt.
     */
    whileUnlocking?: (catalog: Catalog, config: RepoConfig) => void;
  } = {},
): Promise<OpenedRepository> {
  const loc = await locateRepository(opts, ctx, { autoInit });
  const path = catalogPath(opts, ctx.env, loc.config);
  const repair = repairCommand(opts, loc.target);
  let catalog: Catalog;
  try {
    catalog = openCatalog(path, { check: true, repair });
  } catch (e) {
    if (isCatalogDamaged(e)) return rebuildDamagedCatalog(loc, opts, ctx, path, e);
    await loc.store.close?.();
    throw e;
  }
  whileUnlocking?.(catalog, loc.config);
  const opened = await unlockRepository(loc, opts, ctx, catalog, prefetch);
  if (sync) {
    try {
      await opened.repo.syncIndexes(ctx.signal);
      await opened.repo.syncSnapshots(ctx.signal);
    } catch (e) {
      await opened.close();
      if (isCatalogDamaged(e)) throw damagedCatalogError(path, e, repair);
      if (isBulwarkError(e) && (e.code === 'CORRUPT' || e.code === 'REPO_DAMAGED') && !e.hint) {
        throw new BulwarkError(e.code, e.message, {
          cause: e,
          hint: 'Run `bulwark verify` to see which objects are damaged and which files they affect.',
        });
      }
      throw e;
    }
  }
  return opened;
}

/** Damage met after the check on open (the file broke while in use): what to run, exactly. */
function damagedCatalogError(path: string, e: unknown, repair: string): BulwarkError {
  const detail = e instanceof Error ? e.message : String(e);
  return new BulwarkError('IO', `the catalog ${path} is damaged (${detail}); rebuild it with \`${repair}\``, {
    cause: e,
    hint: rebuildHint(repair),
  });
}

/**
 * The catalog is a cache: a damaged one is moved aside (kept, for a look) and rebuilt from the repository
 * with the password, like `bulwark repair --rebuild-catalog`. Without the password nothing is moved, and
 * the error names the repair command. If the password is wrong the damaged file goes back where it was; if
 * the rebuild fails midway, the half-built catalog is removed (the next command starts from an empty one,
 * as on a new computer) and the error names the repair command.
 */
async function rebuildDamagedCatalog(
  loc: Located,
  opts: RepoOptions,
  ctx: CommandEnv,
  path: string,
  damage: unknown,
): Promise<OpenedRepository> {
  const repair = repairCommand(opts, loc.target);
  let password: string;
  try {
    password = loc.password ?? (await repositoryPassword(loc.target, opts, ctx.env));
  } catch (e) {
    await loc.store.close?.();
    const why = isBulwarkError(e) ? e.message : String(e);
    throw new BulwarkError(
      'IO',
      `the catalog ${path} is damaged and cannot be rebuilt without the password (${why}): run \`${repair}\``,
      { cause: damage, hint: isBulwarkError(e) ? e.hint : undefined },
    );
  }
  const detail = isBulwarkError(damage) ? damage.message : String(damage);
  const aside = moveCatalogAside(path, new Date().toISOString().replace(/[:.]/g, '-'));
  const putBack = (): void => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    if (aside === undefined) return;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(aside + suffix)) renameSync(aside + suffix, path + suffix);
    }
  };
  let catalog: Catalog;
  let repo: Repository;
  try {
    catalog = openCatalog(path, { repair });
  } catch (e) {
    putBack();
    await loc.store.close?.();
    throw e;
  }
  try {
    repo = await Repository.open(loc.store, password, catalog);
  } catch (e) {
    catalog.close();
    putBack(); // a wrong password changes nothing local
    await loc.store.close?.();
    throw e;
  }
  const close = async (): Promise<void> => {
    catalog.close();
    await loc.store.close?.();
  };
  try {
    const result = await rebuildCatalog(repo, ctx.signal);
    const unread = result.damaged.length > 0 ? `; ${result.damaged.length} damaged objects skipped` : '';
    ctx.out.warn(
      `bulwark: ${termSafe(detail)}: moved it aside to ${termSafe(aside ?? path)} and rebuilt the catalog ` +
        `from the repository (${result.snapshots} snapshots${unread})`,
    );
  } catch (e) {
    await close();
    rmSync(path, { force: true });
    for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true });
    const code = isBulwarkError(e) ? e.code : 'IO';
    const why = e instanceof Error ? e.message : String(e);
    throw new BulwarkError(
      code,
      `the catalog ${path} was damaged (moved aside to ${aside ?? path}), and rebuilding it failed: ${why}`,
      { cause: e, hint: `Once the repository can be read again, run \`${repair}\`.` },
    );
  }
  for (const w of repo.warnings) ctx.out.warn(`bulwark: warning: ${termSafe(w)}`);
  return { ...loc, repo, catalog, close };
}

/**
 * Runs `fn` with an open repository and closes it afterwards, whatever happens. Damage in the catalog met
 * by `fn` itself is reported with the exact repair command (a rebuild in the middle of a command that may
 * have written would hide what it did).
 */
export async function withRepository<T>(
  opts: RepoOptions,
  ctx: CommandEnv,
  flags: Parameters<typeof openRepository>[2],
  fn: (r: OpenedRepository) => Promise<T>,
): Promise<T> {
  const opened = await openRepository(opts, ctx, flags);
  try {
    return await fn(opened);
  } catch (e) {
    if (isCatalogDamaged(e) && !(isBulwarkError(e) && e.hint)) {
      throw damagedCatalogError(
        catalogPath(opts, ctx.env, opened.config),
        e,
        repairCommand(opts, opened.target),
      );
    }
    throw e;
  } finally {
    await opened.close();
  }
}
