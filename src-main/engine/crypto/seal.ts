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

// Nonces come from a pool filled 256 at a time: one call into the CSPRNG per 256 blobs, not per blob.
const NONCE_POOL = 256;
let noncePool = Buffer.alloc(0);
let nonceNext = NONCE_POOL;
function nextNonce(): Buffer {
  if (nonceNext >= NONCE_POOL) {
    noncePool = randomBytes(NONCE_BYTES * NONCE_POOL); // a fresh buffer: earlier nonces stay untouched
    nonceNext = 0;
  }
  const n = noncePool.subarray(nonceNext * NONCE_BYTES, (nonceNext + 1) * NONCE_BYTES);
  nonceNext++;
  return n;
}

/**
 * Encrypts `parts` (concatenated) under `key`, binding `aad` (e.g. the blob id, so a blob cannot be swapped
 * for another one in a pack), and returns the sealed form as pieces: nonce, ciphertext pieces, tag.
 * Written one after the other they are exactly `seal`'s output; a pack writer writes them as they are,
 * so a large blob is never copied into one more buffer.
 */
export function sealParts(key: Uint8Array, parts: readonly Uint8Array[], aad?: Uint8Array): Buffer[] {
  const nonce = nextNonce();
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), nonce);
  if (aad) cipher.setAAD(aad);
  const out = [nonce];
  for (const p of parts) {
    const c = cipher.update(p);
    if (c.length > 0) out.push(c);
  }
  const fin = cipher.final();
  if (fin.length > 0) out.push(fin);
  out.push(cipher.getAuthTag());
  return out;
}

/** `sealParts` as one buffer: nonce(12) | ciphertext | tag(16). */
export function seal(key: Uint8Array, parts: readonly Uint8Array[], aad?: Uint8Array): Buffer {
  const pieces = sealParts(key, parts, aad);
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
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
