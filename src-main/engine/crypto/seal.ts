import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { BulwarkError } from '../errors.ts';

/** AES-256-GCM framing: nonce(12) | ciphertext | tag(16). Any flipped bit fails `open` with CORRUPT. */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

// Passing raw key bytes makes Node build a KeyObject on every cipher (~5 % of restore CPU, profiled):
// build it once per key.
const keyObjects = new WeakMap<Uint8Array, KeyObject>();
function keyObject(key: Uint8Array): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    k = createSecretKey(key);
    keyObjects.set(key, k);
  }
  return k;
}

/**
 * Encrypts `parts` (concatenated) under `key`, binding `aad` (e.g. the blob id, so a blob cannot be swapped
 * for another one in a pack). Parts avoid concatenating a flag byte and a large payload first.
 */
export function seal(key: Uint8Array, parts: readonly Uint8Array[], aad?: Uint8Array): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = Buffer.allocUnsafe(NONCE_BYTES + len + TAG_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  nonce.copy(out, 0);
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), nonce);
  if (aad) cipher.setAAD(aad);
  let off = NONCE_BYTES;
  for (const p of parts) {
    const c = cipher.update(p);
    c.copy(out, off);
    off += c.length;
  }
  const fin = cipher.final();
  fin.copy(out, off);
  off += fin.length;
  cipher.getAuthTag().copy(out, off);
  return out;
}

export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, what: string): Buffer {
  if (sealed.length < SEAL_OVERHEAD)
    throw new BulwarkError('CORRUPT', `${what}: too short to be encrypted data`);
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', keyObject(key), nonce);
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    const a = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
    const b = decipher.final();
    return b.length === 0 ? a : Buffer.concat([a, b]);
  } catch (e) {
    throw new BulwarkError('CORRUPT', `${what}: authentication failed (data damaged or altered)`, {
      cause: e,
    });
  }
}
