import { Blake3Hasher } from '@napi-rs/blake-hash';

/** Blob id = keyed BLAKE3 of the plaintext (32 bytes, hex in the repository format). */
export function blobId(idKey: Buffer, data: Uint8Array): Buffer {
  const h = Blake3Hasher.newKeyed(idKey);
  h.update(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return h.digestBuffer();
}

export function keyedHashHex(idKey: Buffer, data: Uint8Array): string {
  return blobId(idKey, data).toString('hex');
}
