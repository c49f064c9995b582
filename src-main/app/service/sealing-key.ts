import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import type { SafeStorageLike } from '../../host/secrets.ts';

/**
 * The service process's sealer of target secrets: AES-256-GCM with the key the main process unwrapped from
 * the OS keychain (keychain.ts). It has safeStorage's shape, so the host's sealed store takes either.
 * Layout: "BWS1" | 12-byte nonce | 16-byte tag | ciphertext.
 */

const MAGIC = Buffer.from('BWS1');
const NONCE = 12;
const TAG = 16;

export function sealingKeyCipher(key: Buffer): SafeStorageLike {
  if (key.length !== 32) throw new Error('a sealing key has 32 bytes');
  return {
    isEncryptionAvailable: () => true,
    encryptString(plainText) {
      const nonce = randomBytes(NONCE);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
      return Buffer.concat([MAGIC, nonce, cipher.getAuthTag(), body]);
    },
    decryptString(sealed) {
      if (sealed.length < MAGIC.length + NONCE + TAG || !sealed.subarray(0, MAGIC.length).equals(MAGIC))
        throw new Error('not a sealed secret');
      const nonce = sealed.subarray(MAGIC.length, MAGIC.length + NONCE);
      const tag = sealed.subarray(MAGIC.length + NONCE, MAGIC.length + NONCE + TAG);
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAuthTag(tag);
      // a wrong key or a changed byte fails here (GCM authenticates)
      return Buffer.concat([
        decipher.update(sealed.subarray(MAGIC.length + NONCE + TAG)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}
