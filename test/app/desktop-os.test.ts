import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { dispatch } from '../../src-main/transport/dispatch.ts';
import { createPickFolderHandler, type OpenDialogOptions } from '../../src-main/app/folder-dialog.ts';
import { createHandlers } from '../../src-main/app/handlers.ts';
import { keychainAvailable, loadSealingKey, type KeychainLike } from '../../src-main/app/keychain.ts';
import {
  AUTOSTART_FILE,
  HIDDEN_ARG,
  isHiddenStart,
  setStartAtLogin,
  type LoginItemApp,
} from '../../src-main/app/login-item.ts';
import { sealingKeyCipher } from '../../src-main/app/service/sealing-key.ts';
import {
  fileSecretStore,
  keychainOrFileSecretStore,
  sealedSecretStore,
} from '../../src-main/host/secrets.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bulwark-desktop-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for Electron's safeStorage: reversible, visibly not plain text. */
function fakeSafeStorage(available = true, backend?: string): KeychainLike & { encrypted: number } {
  const s = {
    encrypted: 0,
    isEncryptionAvailable: () => available,
    encryptString: (t: string) => {
      s.encrypted++;
      return Buffer.from(`KC:${Buffer.from(t).toString('hex')}`);
    },
    decryptString: (b: Buffer) => {
      const text = b.toString();
      if (!text.startsWith('KC:')) throw new Error('not ours');
      return Buffer.from(text.slice(3), 'hex').toString();
    },
    ...(backend ? { getSelectedStorageBackend: () => backend } : {}),
  };
  return s;
}

describe('start at login', () => {
  const fakeApp = (wasOpenedAtLogin = false) => {
    const calls: unknown[] = [];
    const app: LoginItemApp = {
      setLoginItemSettings: (s) => void calls.push(s),
      getLoginItemSettings: () => ({ openAtLogin: true, wasOpenedAtLogin }),
    };
    return { app, calls };
  };

  it('Windows: the login item starts Bulwark with --hidden', () => {
    const { app, calls } = fakeApp();
    setStartAtLogin(true, {
      platform: 'win32',
      app,
      executable: 'C:\\Bulwark\\Bulwark.exe',
      autostartDir: dir,
    });
    setStartAtLogin(false, {
      platform: 'win32',
      app,
      executable: 'C:\\Bulwark\\Bulwark.exe',
      autostartDir: dir,
    });
    expect(calls).toEqual([
      { openAtLogin: true, args: [HIDDEN_ARG] },
      { openAtLogin: false, args: [HIDDEN_ARG] },
    ]);
  });

  it('macOS: the login item, and a start by it counts as hidden', () => {
    const { app, calls } = fakeApp(true);
    setStartAtLogin(true, {
      platform: 'darwin',
      app,
      executable: '/Applications/Bulwark.app',
      autostartDir: dir,
    });
    expect(calls).toEqual([{ openAtLogin: true }]);
    expect(isHiddenStart(['/Applications/Bulwark.app'], 'darwin', app)).toBe(true);
    expect(isHiddenStart(['/Applications/Bulwark.app'], 'darwin', fakeApp(false).app)).toBe(false);
  });

  it('Linux: an XDG autostart entry with --hidden, removed when switched off', () => {
    const { app, calls } = fakeApp();
    const autostart = path.join(dir, 'autostart');
    setStartAtLogin(true, {
      platform: 'linux',
      app,
      executable: '/opt/Bulwark/Bulwark "x".AppImage',
      autostartDir: autostart,
    });
    const entry = readFileSync(path.join(autostart, AUTOSTART_FILE), 'utf8');
    expect(entry).toContain('[Desktop Entry]');
    expect(entry).toContain('Exec="/opt/Bulwark/Bulwark \\"x\\".AppImage" --hidden');
    expect(calls).toEqual([]); // Electron has no login item on Linux
    setStartAtLogin(false, { platform: 'linux', app, executable: '/x', autostartDir: autostart });
    expect(existsSync(path.join(autostart, AUTOSTART_FILE))).toBe(false);
  });

  it('--hidden on the command line starts in the tray on every platform', () => {
    for (const platform of ['linux', 'win32', 'darwin'] as const)
      expect(isHiddenStart(['Bulwark', HIDDEN_ARG], platform, fakeApp().app)).toBe(true);
    expect(isHiddenStart(['Bulwark'], 'linux', fakeApp().app)).toBe(false);
  });
});

describe('secrets through the OS keychain', () => {
  const secretsDir = () => path.join(dir, 'target-secrets');

  it('migrates plain 0600 secrets on the first start, removes the plain files, and reads them back', () => {
    const plain = fileSecretStore(secretsDir());
    plain.set('t1', { password: 'pw one' });
    plain.set('t2', { password: 'pw two', accessKeyId: 'AK', secretAccessKey: 'SK' });
    const safe = fakeSafeStorage();
    const { store, keychain, migrated } = keychainOrFileSecretStore(secretsDir(), safe, (id, e) => {
      throw new Error(`${id}: ${String(e)}`);
    });
    expect(keychain).toBe(true);
    expect(migrated.sort()).toEqual(['t1', 't2']);
    expect(readdirSync(secretsDir()).sort()).toEqual(['t1.sealed', 't2.sealed']);
    for (const f of readdirSync(secretsDir())) {
      expect(statSync(path.join(secretsDir(), f)).mode & 0o777).toBe(0o600);
      expect(readFileSync(path.join(secretsDir(), f), 'utf8')).not.toContain('pw ');
    }
    expect(store.get('t2')).toEqual({ password: 'pw two', accessKeyId: 'AK', secretAccessKey: 'SK' });
    // a second start has nothing left to move
    expect(keychainOrFileSecretStore(secretsDir(), safe, () => {}).migrated).toEqual([]);
  });

  it('keeps a secret it cannot seal in its plain file (still readable) and says so', () => {
    fileSecretStore(secretsDir()).set('t1', { password: 'pw' });
    const broken = { ...fakeSafeStorage(), decryptString: () => 'garbage' };
    const errors: string[] = [];
    const { store, migrated } = keychainOrFileSecretStore(secretsDir(), broken, (id) => void errors.push(id));
    expect(migrated).toEqual([]);
    expect(errors).toEqual(['t1']);
    expect(readdirSync(secretsDir())).toEqual(['t1.json']);
    expect(store.get('t1')).toEqual({ password: 'pw' });
  });

  it('without a keychain the 0600 files stay', () => {
    const { store, keychain } = keychainOrFileSecretStore(secretsDir(), fakeSafeStorage(false), () => {});
    expect(keychain).toBe(false);
    store.set('t1', { password: 'pw' });
    expect(readdirSync(secretsDir())).toEqual(['t1.json']);
  });

  it('the sealing key is wrapped by the keychain once and unwrapped on later starts; basic_text is no keychain', () => {
    const file = path.join(dir, 'desktop', 'secrets-key.sealed');
    const safe = fakeSafeStorage();
    const first = loadSealingKey(file, safe);
    expect(first).toMatchObject({ available: true, created: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadSealingKey(file, safe);
    expect(second.available && first.available && second.key.equals(first.key)).toBe(true);
    expect(second).toMatchObject({ created: false });
    expect(keychainAvailable(fakeSafeStorage(true, 'basic_text'))).toBe(false);
    expect(keychainAvailable(fakeSafeStorage(true, 'gnome_libsecret'))).toBe(true);
    expect(loadSealingKey(path.join(dir, 'other'), fakeSafeStorage(true, 'basic_text'))).toMatchObject({
      available: false,
    });
  });

  it('the service process seals with the unwrapped key (AES-GCM): another key cannot open it', () => {
    const key = Buffer.alloc(32, 7);
    const store = sealedSecretStore(secretsDir(), sealingKeyCipher(key));
    store.set('t1', { password: 'secret pw' });
    expect(readFileSync(path.join(secretsDir(), 't1.sealed')).includes(Buffer.from('secret pw'))).toBe(false);
    expect(store.get('t1')).toEqual({ password: 'secret pw' });
    const wrong = sealedSecretStore(secretsDir(), sealingKeyCipher(Buffer.alloc(32, 8)));
    expect(() => wrong.get('t1')).toThrow(/cannot be opened with this computer's keychain/);
    store.delete('t1');
    expect(readdirSync(secretsDir())).toEqual([]);
  });
});

describe('native folder picker (fs.pickFolder)', () => {
  const info = { name: 'Bulwark', version: '1', platform: 'linux', versions: { node: '24' } };

  it('opens the dialog with words for the purpose and answers the chosen folder, or nothing when canceled', async () => {
    const asked: OpenDialogOptions[] = [];
    let answer = { canceled: false, filePaths: ['/home/ann/Documents'] };
    const handlers = createHandlers(info, undefined, {
      'bulwark:fs.pickFolder': createPickFolderHandler((o) => {
        asked.push(o);
        return Promise.resolve(answer);
      }),
    });
    expect(
      await dispatch(handlers, 'bulwark:fs.pickFolder', { purpose: 'source', startPath: '/home/ann' }),
    ).toEqual({
      ok: true,
      value: { path: '/home/ann/Documents' },
    });
    expect(asked[0]).toMatchObject({ title: 'Choose a folder to back up', defaultPath: '/home/ann' });
    answer = { canceled: true, filePaths: [] };
    expect(await dispatch(handlers, 'bulwark:fs.pickFolder', { purpose: 'restore-destination' })).toEqual({
      ok: true,
      value: {},
    });
    expect(asked[1]?.properties).toContain('createDirectory');
  });

  it('answers UNSUPPORTED where there is no native dialog (bulwark serve serves no handler for it)', async () => {
    expect(await dispatch({}, 'bulwark:fs.pickFolder', { purpose: 'source' })).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED' },
    });
  });

  it('every other channel goes to the relay as it came', async () => {
    const relayed: string[] = [];
    const handlers = createHandlers(info, (channel) => {
      relayed.push(channel);
      return Promise.resolve({ ok: true, value: { paused: true } });
    });
    expect(await dispatch(handlers, 'bulwark:jobs.pauseAll', {})).toEqual({
      ok: true,
      value: { paused: true },
    });
    expect((await dispatch(handlers, 'bulwark:app.version', {})).ok).toBe(true);
    expect(relayed).toEqual(['bulwark:jobs.pauseAll']);
  });
});
