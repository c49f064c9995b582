/**
 * Starts the key derivation of a command's repository before the command line is parsed and the engine is
 * loaded. Every command that opens a repository spends ~0.25 s deriving the key from the password
 * (scrypt, 32 MiB, on a thread of libuv's pool) and, before it could start, ~60 ms loading commander, the
 * command and the engine: started from here, the derivation runs while they load. A no-change backup of
 * the corpus took ~0.40 s, a quarter of it before the derivation began.
 *
 * Only the plain cases are guessed: a command that unlocks one repository, a password that needs no
 * prompt, and a folder repository holding exactly one key, or an S3 repository whose key this computer
 * kept from the last command that opened it (keyHintPath: reaching the bucket needs the S3 client, which
 * is most of what loads meanwhile, and two round trips). The guess only ever starts a derivation: the
 * repository is opened later exactly as without it, and takes the result only for the same key and
 * password (deriveKeyAhead), so a wrong guess (a key since replaced) costs time, never correctness.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveKeyAhead, parseKeyFile, type KeyFile } from '../engine/crypto/keys.ts';
import { defaultKeyFile, defaultRepositoryDir, localPaths } from '../engine/paths.ts';
import { firstLine } from '../engine/util/first-line.ts';

/** Commands that open one repository with its password (program.ts registers them). */
const UNLOCKING = new Set([
  'audit',
  'backup',
  'diff',
  'drill',
  'find',
  'forget',
  'hold',
  'ls',
  'policy',
  'prune',
  'restore',
  'snapshots',
  'verify',
  'versions',
]);

/** The key file and password a command line will unlock with, when that is plain to see. */
export interface AheadGuess {
  keyPath: string;
  password: string;
}

/** The value of `--name VALUE`, `--name=VALUE` (or `-s VALUE`) before any `--`; the last one wins. */
function optionValue(args: readonly string[], long: string, short?: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') break;
    if (a === long || (short !== undefined && a === short)) value = args[++i];
    else if (a.startsWith(`${long}=`)) value = a.slice(long.length + 1);
  }
  return value;
}

/** The password a file holds (its first line, as password.ts reads it); undefined when unreadable or empty. */
function passwordIn(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // the command reads it again and says what is wrong
  }
  const line = firstLine(text);
  return line === '' ? undefined : line;
}

/**
 * What `argv` (without "node main.ts") will unlock, or undefined when it is not plain: another command,
 * help or version asked for, a password to be typed at a prompt, a folder with no key or several keys, an
 * S3 repository whose key this computer has not kept.
 */
export function guessUnlock(argv: readonly string[], env: NodeJS.ProcessEnv): AheadGuess | undefined {
  const [command, ...args] = argv;
  if (command === undefined || !UNLOCKING.has(command)) return undefined;
  const end = args.indexOf('--');
  const opts = end < 0 ? args : args.slice(0, end);
  if (opts.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) return undefined;
  if (command === 'drill' && opts.includes('--report')) return undefined; // the catalog only, no password

  const repo = optionValue(opts, '--repo', '-r') ?? (env.BULWARK_REPOSITORY || undefined);
  const passwordFile = optionValue(opts, '--password-file');
  let location: string;
  let password: string | undefined;
  if (repo !== undefined) {
    if (repo === '') return undefined;
    location = repo;
    password = passwordFile !== undefined ? passwordIn(passwordFile) : env.BULWARK_PASSWORD || undefined;
  } else {
    if (passwordFile !== undefined) return undefined; // a usage error (resolveTarget says so)
    const paths = localPaths(env);
    location = defaultRepositoryDir(paths);
    password = passwordIn(defaultKeyFile(paths));
  }
  if (password === undefined) return undefined;

  if (location.startsWith('s3://')) {
    const keyPath = keyHintPath(env, location);
    return existsSync(keyPath) ? { keyPath, password } : undefined;
  }
  const keysDir = join(location, 'keys');
  let names: string[];
  try {
    names = readdirSync(keysDir);
  } catch {
    return undefined; // no repository here (yet): the command says so, or creates the default one
  }
  if (names.length !== 1) return undefined;
  return { keyPath: join(keysDir, names[0] as string), password };
}

/**
 * Starts deriving the key `argv` will unlock with, when guessUnlock can tell which. Returns whether it did.
 * Nothing here is reported: whatever stops the guess (no repository, a damaged key, an unreadable file)
 * the command meets again when it opens the repository, and says there.
 */
export function unlockAhead(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const guess = guessUnlock(argv, env);
  if (guess === undefined) return false;
  try {
    deriveKeyAhead(parseKeyFile(readFileSync(guess.keyPath), guess.keyPath), guess.password);
    return true;
  } catch {
    return false; // see above: the open reads this key again and reports what is wrong with it
  }
}

/**
 * Where this computer keeps the key object that last opened an S3 repository: in the private cache folder,
 * named by a hash of the location as given. Not a secret (the bucket holds the same object, sealed by the
 * password); only ever used to start a derivation ahead.
 */
export function keyHintPath(env: NodeJS.ProcessEnv, location: string): string {
  const name = createHash('sha256').update(location).digest('hex').slice(0, 32);
  return join(localPaths(env).cacheDir, 'key-hints', `${name}.json`);
}

/**
 * Keeps `key` as the hint for `location` (keyHintPath), unless it is already the one kept. Returns what
 * went wrong, for the caller to say: a hint that cannot be written only means the next command derives its
 * key once it has reached the bucket, as before.
 */
export function saveKeyHint(env: NodeJS.ProcessEnv, location: string, key: KeyFile): string | undefined {
  const path = keyHintPath(env, location);
  const text = JSON.stringify(key);
  try {
    if (readFileSync(path, 'utf8') === text) return undefined;
  } catch {
    // no hint yet (or an unreadable one): written below, which says what is wrong if anything is
  }
  const tmp = `${path}.${process.pid}.tmp`;
  let written = false;
  try {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, text, { mode: 0o600 });
    written = true;
    renameSync(tmp, path);
    return undefined;
  } catch (e) {
    if (written) rmSync(tmp, { force: true });
    return (e as Error).message;
  }
}
