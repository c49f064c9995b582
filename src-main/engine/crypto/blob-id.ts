import { Blake3Hasher } from '@napi-rs/blake-hash';

// One keyed hasher per key and thread, reset between uses. A new native hasher per blob (~2 KB in the
// addon's allocator) and digestBuffer()'s external Buffer are freed only when V8 collects their wrappers,
// and V8 does not count that memory: a run over a million small files held 1.3 GB of it (measured, see
// docs/DECISIONS.md). digest('hex') returns a plain string and leaves nothing behind; it is also faster.
const hashers = new WeakMap<Uint8Array, Blake3Hasher>();

/** Keyed BLAKE3 of `data` as 64 hex digits (the repository format's blob id). */
export function keyedHashHex(idKey: Buffer, data: Uint8Array): string {
  let h = hashers.get(idKey);
  if (!h) {
    h = Blake3Hasher.newKeyed(idKey);
    hashers.set(idKey, h);
  } else h.reset();
  h.update(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return h.digest('hex');
}

/** Blob id = keyed BLAKE3 of the plaintext (32 bytes; hex in the repository format). */
export function blobId(idKey: Buffer, data: Uint8Array): Buffer {
  return Buffer.from(keyedHashHex(idKey, data), 'hex');
}
