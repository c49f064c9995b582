import { randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
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
  /** base64 of seal(derived key, JSON of the master key) */
  data: string;
}

/** Production cost: ~100 ms and 32 MiB per unlock (OWASP-level scrypt). Tests pass a cheaper N. */
export const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_AAD = Buffer.from('bulwark-key-v1');

function scrypt(password: string, salt: Buffer, p: Omit<KdfParams, 'name' | 'salt'>): Promise<Buffer> {
  const opts: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function newMasterKey(): MasterKey {
  return { encKey: randomBytes(32), idKey: randomBytes(32), chunkerSeed: randomBytes(32) };
}

export async function wrapMasterKey(
  master: MasterKey,
  password: string,
  meta: { created: Date; host: string },
  cost: { N: number; r: number; p: number } = DEFAULT_KDF,
): Promise<KeyFile> {
  if (password.length === 0) throw new BulwarkError('INVALID_ARGUMENT', 'the repository password is empty');
  const salt = randomBytes(32);
  const kek = await scrypt(password, salt, cost);
  const body = Buffer.from(
    JSON.stringify({
      encKey: master.encKey.toString('base64'),
      idKey: master.idKey.toString('base64'),
      chunkerSeed: master.chunkerSeed.toString('base64'),
    }),
  );
  return {
    version: 1,
    created: meta.created.toISOString(),
    host: meta.host,
    kdf: { name: 'scrypt', ...cost, salt: salt.toString('base64') },
    data: seal(kek, [body], KEY_AAD).toString('base64'),
  };
}

/** Throws WRONG_PASSWORD when the password does not open this key file. */
export async function unwrapMasterKey(file: KeyFile, password: string): Promise<MasterKey> {
  if (file.version !== 1 || file.kdf.name !== 'scrypt') {
    throw new BulwarkError(
      'UNSUPPORTED',
      `key file format ${String(file.version)} is not supported by this version`,
    );
  }
  const kek = await scrypt(password, Buffer.from(file.kdf.salt, 'base64'), file.kdf);
  let plain: Buffer;
  try {
    plain = open(kek, Buffer.from(file.data, 'base64'), KEY_AAD, 'key');
  } catch {
    throw new BulwarkError('WRONG_PASSWORD', 'wrong password: it does not open any key of this repository', {
      hint: 'Check BULWARK_PASSWORD or --password-file. Without the password the backups cannot be read.',
    });
  }
  const j = JSON.parse(plain.toString('utf8')) as Record<string, string>;
  const b = (k: string): Buffer => Buffer.from(j[k] ?? '', 'base64');
  return { encKey: b('encKey'), idKey: b('idKey'), chunkerSeed: b('chunkerSeed') };
}
