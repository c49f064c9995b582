import { createHash, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { BulwarkError } from '../errors.ts';
import { open, seal } from './seal.ts';

/** The repository's secrets. Only ever stored wrapped by a password-derived key (keys/<id>). */
export interface MasterKey {
  /** AES-256-GCM key for every encrypted object */
  encKey: Buffer;
  /** BLAKE3 key for blob ids: the provider cannot confirm which content you hold */
  idKey: Buffer;
  /** seeds the chunker's gear table: chunk boundaries do not fingerprint files across repositories */
  chunkerSeed: Buffer;
}

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
}

export interface KeyFile {
  version: 1;
  created: string;
  host: string;
  kdf: KdfParams;
  /**
   * base64 of seal(derived key, JSON of the master key and, since keys carry it, the exact text of the
   * repository's `config`: the config is authenticated by the key, so a replaced config is noticed)
   */
  data: string;
  /**
   * A plain checksum (not a secret, not a MAC) of the KDF parameters and `data`: AES-GCM cannot tell a wrong
   * password from a flipped byte inside the sealed data, this can, so a damaged key is named as damaged
   * instead of sending the person to look for another password. Absent in keys made before it existed.
   */
  check?: string;
}

/** The checksum of a key file's KDF parameters and sealed data (KeyFile.check). */
export function keyFileChecksum(file: Pick<KeyFile, 'kdf' | 'data'>): string {
  const { N, r, p, salt } = file.kdf;
  return createHash('sha256')
    .update(`bulwark-key-check-v1\n${N}\n${r}\n${p}\n${salt}\n${file.data}`)
    .digest('hex')
    .slice(0, 32);
}

/** What a key file opens to. */
export interface UnwrappedKey {
  master: MasterKey;
  /** the exact text of the repository config this key was made with (absent in keys of old repositories) */
  config?: string;
}

/**
 * Production cost for new keys: scrypt N=2^15, r=8, p=4. The same work per guess as N=2^17, p=1 (four
 * passes of 2^15; ~0.3 s per unlock here) in 32 MiB: scrypt's memory is 128·N·r bytes and its work N·p
 * passes. OWASP's password storage guidance lists N=2^15, r=8, p=3 among its equivalent settings (this
 * asks a third more work), and 32 MiB is what restic's calibration chose on the benchmark machine. Every
 * command unlocks, so this memory is the floor of its peak (docs/DECISIONS.md, "Key derivation cost").
 * Keys made with N=2^17 or N=2^16 still open. Tests pass a cheaper N.
 */
export const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 4 } as const;

/**
 * The most a key file may ask of this computer: scrypt needs 128·N·r·p bytes. A key object is readable by
 * whoever holds the bucket keys' write access to write one (N=2^30 would need 1 TiB and stop every command),
 * so a key file beyond these bounds is skipped, not tried.
 */
export const KDF_LIMITS = { maxN: 2 ** 20, maxR: 32, maxP: 16, maxMemory: 1024 * 1024 * 1024 } as const;
const KEY_AAD = Buffer.from('bulwark-key-v1');

function scrypt(password: string, salt: Buffer, p: Omit<KdfParams, 'name' | 'salt'>): Promise<Buffer> {
  const opts: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/**
 * A key derivation started before the repository is opened (deriveKeyAhead): the command line knows the
 * password and the key file before it has loaded what opens a repository, and the derivation (~0.25 s on a
 * thread of libuv's pool) runs while it loads.
 */
let ahead: { password: string; kdf: Omit<KdfParams, 'name'>; kek: Promise<Buffer> } | undefined;

/**
 * Starts deriving the key-encryption key of `file` with `password`. The next unwrapMasterKey of a key with
 * exactly these parameters and this password takes the result instead of deriving again: the same inputs
 * give the same key, and any other inputs derive their own, so a guess made ahead can cost time, never
 * open a key it should not. Throws as parseKeyFile would for a cost beyond KDF_LIMITS.
 */
export function deriveKeyAhead(file: KeyFile, password: string): void {
  assertKdfWithinLimits(file.kdf);
  const { N, r, p, salt } = file.kdf;
  const kek = scrypt(password, Buffer.from(salt, 'base64'), { N, r, p });
  // Not a swallowed error: whoever takes this derivation awaits it and meets the error; one nobody takes
  // derives again (unwrapMasterKey) and reports its own.
  kek.catch(() => undefined);
  ahead = { password, kdf: { N, r, p, salt }, kek };
}

/**
 * The derivation started ahead for these inputs, taken (it is used once). Another one still running is
 * waited for first and dropped: two derivations side by side would need twice the memory (32 MiB each).
 */
async function derivedAhead(password: string, kdf: KdfParams): Promise<Buffer | undefined> {
  const a = ahead;
  if (a === undefined) return undefined;
  ahead = undefined;
  const same =
    a.password === password &&
    a.kdf.salt === kdf.salt &&
    a.kdf.N === kdf.N &&
    a.kdf.r === kdf.r &&
    a.kdf.p === kdf.p;
  if (same) return a.kek;
  await a.kek.catch(() => undefined); // its error belongs to a key nobody is opening
  return undefined;
}

export function newMasterKey(): MasterKey {
  return { encKey: randomBytes(32), idKey: randomBytes(32), chunkerSeed: randomBytes(32) };
}

export async function wrapMasterKey(
  master: MasterKey,
  password: string,
  meta: { created: Date; host: string },
  cost: { N: number; r: number; p: number } = DEFAULT_KDF,
  config?: string,
): Promise<KeyFile> {
  if (password.length === 0) throw new BulwarkError('INVALID_ARGUMENT', 'the repository password is empty');
  assertKdfWithinLimits(cost);
  const salt = randomBytes(32);
  const kek = await scrypt(password, salt, cost);
  const body = Buffer.from(
    JSON.stringify({
      encKey: master.encKey.toString('base64'),
      idKey: master.idKey.toString('base64'),
      chunkerSeed: master.chunkerSeed.toString('base64'),
      ...(config !== undefined ? { config } : {}),
    }),
  );
  const kdf: KdfParams = { name: 'scrypt', ...cost, salt: salt.toString('base64') };
  const data = seal(kek, [body], KEY_AAD).toString('base64');
  return {
    version: 1,
    created: meta.created.toISOString(),
    host: meta.host,
    kdf,
    data,
    check: keyFileChecksum({ kdf, data }),
  };
}

/**
 * Checks that a parsed object is a key file this version can try, within KDF_LIMITS. Throws CORRUPT (the
 * key object is damaged: not JSON, fields missing or malformed), UNSUPPORTED (a newer format) or
 * INVALID_ARGUMENT (a cost beyond the limits). Messages name the object: "the key object keys/… is
 * damaged (not a key file: not valid JSON)", so a person knows which one to put back.
 */
export function parseKeyFile(raw: Buffer, name: string): KeyFile {
  const damaged = (why: string, cause?: unknown): BulwarkError =>
    new BulwarkError(
      'CORRUPT',
      `the key object ${name} is damaged (${why})`,
      cause === undefined ? undefined : { cause },
    );
  let file: unknown;
  try {
    file = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw damaged('not a key file: not valid JSON', e); // the parser's message quotes the file: not repeated
  }
  const f = file as Partial<KeyFile> | null;
  const kdf = f?.kdf as Partial<KdfParams> | undefined;
  if (typeof f !== 'object' || f === null || typeof f.data !== 'string' || typeof kdf !== 'object' || !kdf) {
    throw damaged('not a key file: its "data" or "kdf" field is missing');
  }
  if (f.version !== 1) {
    if (typeof f.version === 'number' && Number.isInteger(f.version) && f.version > 1) {
      throw new BulwarkError(
        'UNSUPPORTED',
        `the key object ${name} has format ${f.version}, which needs a newer Bulwark`,
      );
    }
    throw damaged(`its format field is ${JSON.stringify(f.version)}`);
  }
  if (kdf.name !== 'scrypt') {
    // one letter off "scrypt" is a flipped byte; another name would be a newer Bulwark's
    if (typeof kdf.name !== 'string' || oneLetterOff(kdf.name, 'scrypt')) {
      throw damaged(
        `its key derivation is called ${kdf.name === undefined ? 'nothing' : JSON.stringify(kdf.name)}`,
      );
    }
    throw new BulwarkError(
      'UNSUPPORTED',
      `the key object ${name} uses the key derivation ${JSON.stringify(kdf.name)}, which this version does not know`,
    );
  }
  if (
    typeof kdf.salt !== 'string' ||
    ![kdf.N, kdf.r, kdf.p].every((x) => Number.isSafeInteger(x) && (x as number) > 0)
  ) {
    throw damaged('malformed key derivation parameters');
  }
  if (f.check !== undefined && typeof f.check !== 'string') throw damaged('its checksum field is not text');
  const N = kdf.N as number;
  if (N < 2 || (N & (N - 1)) !== 0) throw damaged(`its scrypt cost N=${N} is not a power of two`);
  assertKdfWithinLimits(kdf as KdfParams, name);
  return f as KeyFile;
}

function oneLetterOff(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
  return diff === 1;
}

/** base64 exactly as Buffer#toString('base64') writes it (what every key file holds) */
function canonicalBase64(s: string): boolean {
  return Buffer.from(s, 'base64').toString('base64') === s;
}

/** nonce + tag, plus the smallest sealed body (three base64 keys in JSON) */
const MIN_SEALED = 12 + 16 + 100;

/**
 * Why a parsed key file that the password did not open cannot be intact, if it can be told: its salt or
 * sealed data is not the base64 Bulwark writes, or the sealed data is too short. Undefined when it looks
 * intact: AES-GCM alone cannot tell a wrong password from a flipped byte inside the sealed data, so that
 * stays "wrong password" for keys without a checksum (KeyFile.check). The message names the object, like
 * parseKeyFile's.
 */
export function keyFileDamage(file: KeyFile, name: string): string | undefined {
  let why: string | undefined;
  if (!canonicalBase64(file.kdf.salt)) why = 'its salt is not valid base64';
  else if (!canonicalBase64(file.data)) why = 'its sealed data is not valid base64';
  else if (Buffer.byteLength(file.data, 'base64') < MIN_SEALED) why = 'its sealed data is too short';
  else if (file.check !== undefined && file.check !== keyFileChecksum(file))
    why = 'its checksum does not match its contents: a byte changed';
  return why === undefined ? undefined : `the key object ${name} is damaged (${why})`;
}

function assertKdfWithinLimits(c: { N: number; r: number; p: number }, name = 'the key'): void {
  const pow2 = c.N >= 2 && (c.N & (c.N - 1)) === 0;
  if (
    !pow2 ||
    c.N > KDF_LIMITS.maxN ||
    c.r > KDF_LIMITS.maxR ||
    c.p > KDF_LIMITS.maxP ||
    128 * c.N * c.r * c.p > KDF_LIMITS.maxMemory
  ) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `${name}: key derivation cost N=${c.N} r=${c.r} p=${c.p} is beyond what Bulwark accepts (N a power of two up to 2^20, r up to ${KDF_LIMITS.maxR}, p up to ${KDF_LIMITS.maxP}, at most 1 GiB of memory)`,
    );
  }
}

/** Throws WRONG_PASSWORD when the password does not open this key file. */
export async function unwrapMasterKey(file: KeyFile, password: string): Promise<UnwrappedKey> {
  if (file.version !== 1 || file.kdf.name !== 'scrypt') {
    throw new BulwarkError(
      'UNSUPPORTED',
      `key file format ${String(file.version)} is not supported by this version`,
    );
  }
  assertKdfWithinLimits(file.kdf);
  const kek =
    (await derivedAhead(password, file.kdf)) ??
    (await scrypt(password, Buffer.from(file.kdf.salt, 'base64'), file.kdf));
  let plain: Buffer;
  try {
    plain = open(kek, Buffer.from(file.data, 'base64'), KEY_AAD, 'key');
  } catch {
    throw new BulwarkError('WRONG_PASSWORD', 'wrong password: it does not open any key of this repository', {
      hint: 'Check BULWARK_PASSWORD or --password-file. Without the password the backups cannot be read.',
    });
  }
  const j = JSON.parse(plain.toString('utf8')) as Record<string, string | undefined>;
  const b = (k: string): Buffer => Buffer.from(j[k] ?? '', 'base64');
  const master = { encKey: b('encKey'), idKey: b('idKey'), chunkerSeed: b('chunkerSeed') };
  return typeof j.config === 'string' ? { master, config: j.config } : { master };
}
