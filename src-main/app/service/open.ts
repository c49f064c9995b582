import { localPaths } from '../../engine/index.ts';
import type { Logger } from '../../transport/dispatch.ts';
import { keychainOrFileSecretStore, targetSecretsDir } from '../../host/secrets.ts';
import { openHostedService, type HostedService } from '../../host/service.ts';
import type { InitMessage } from './protocol.ts';
import { sealingKeyCipher } from './sealing-key.ts';

/**
 * Opens the hosted backup service the way the desktop app runs it: the same service `bulwark serve` runs,
 * on the same local folders (BULWARK_HOME, else the platform's usual places), with target secrets sealed
 * by the key the main process unwrapped from the OS keychain (plain 0600 files moved over on the first
 * start), or kept in 0600 files where there is no keychain.
 */
export function openDesktopService(
  init: InitMessage,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): HostedService {
  const paths = localPaths(env);
  const cipher =
    init.secretsKey === undefined ? undefined : sealingKeyCipher(Buffer.from(init.secretsKey, 'base64'));
  const { store, keychain, migrated } = keychainOrFileSecretStore(
    targetSecretsDir(paths),
    cipher,
    (targetId, e) =>
      log(`the password of target ${targetId} stays in its private file: sealing it failed`, e),
  );
  if (migrated.length > 0) log(`sealed ${migrated.length} target secret(s) with the keychain`);
  if (!keychain) log('no keychain: target secrets are kept in private (0600) files');
  const kdf = kdfFromEnv(env['BULWARK_KDF_N'], log);
  return openHostedService({ paths, secrets: store, log, ...(kdf ? { kdf } : {}) });
}

/** scrypt cost of repositories created here from BULWARK_KDF_N (tests use a cheap one), as the CLI reads it. */
function kdfFromEnv(raw: string | undefined, log: Logger): { N: number; r: number; p: number } | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2 || n > 2 ** 20 || (n & (n - 1)) !== 0) {
    log(`BULWARK_KDF_N=${raw} is not a power of two from 2 to 1048576: the default cost is used`);
    return undefined;
  }
  return { N: n, r: 8, p: 1 };
}
