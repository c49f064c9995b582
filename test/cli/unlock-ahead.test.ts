/**
 * The key derivation started before the command line is parsed (cli/unlock-ahead.ts, deriveKeyAhead in
 * crypto/keys.ts): which command lines it guesses, that the open then derives nothing more, and that a
 * derivation made ahead never opens a key for a password other than its own.
 */
import type * as NodeCrypto from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { guessUnlock, keyHintPath, saveKeyHint, unlockAhead } from '../../src-main/cli/unlock-ahead.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { newMasterKey, parseKeyFile, wrapMasterKey } from '../../src-main/engine/crypto/keys.ts';
import { initDefaultRepository } from '../../src-main/engine/default-repo.ts';
import { isBulwarkError } from '../../src-main/engine/errors.ts';
import { defaultKeyFile, defaultRepositoryDir, localPaths } from '../../src-main/engine/paths.ts';
import { Repository } from '../../src-main/engine/repo/repository.ts';
import { FsStore } from '../../src-main/engine/storage/fs.ts';
import { makeFsRepo, PASSWORD, tempDir, TEST_KDF, type TestRepo } from '../engine/helpers/repo.ts';

// Every scrypt the engine starts, counted (the real one runs).
const scrypts = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof NodeCrypto>();
  const scrypt = ((...args: Parameters<typeof real.scrypt>) => {
    scrypts.count++;
    return real.scrypt(...args);
  }) as typeof real.scrypt;
  return { ...real, default: { ...real, scrypt }, scrypt };
});

let t: TestRepo;
let repoDir = '';
let keyPath = '';
let home = '';

beforeAll(async () => {
  t = await makeFsRepo('unlock-ahead');
  repoDir = join(t.dir, 'repo');
  const keys = [];
  for await (const o of t.store.list('keys/')) keys.push(o.name);
  expect(keys).toHaveLength(1);
  keyPath = join(repoDir, keys[0] as string);
  home = tempDir('unlock-ahead-home');
});
afterAll(() => {
  t.cleanup();
  rmSync(home, { recursive: true, force: true });
});
beforeEach(() => {
  scrypts.count = 0;
});

/** Opens the test repository as a command would, after whatever was started ahead. */
async function open(password: string): Promise<Repository> {
  const catalog = Catalog.open(':memory:');
  try {
    return await Repository.open(new FsStore({ root: repoDir }), password, catalog);
  } catch (e) {
    catalog.close();
    throw e;
  }
}

describe('guessUnlock', () => {
  const env = { BULWARK_PASSWORD: PASSWORD, BULWARK_HOME: '/nonexistent-bulwark-home' };

  it('names the one key of a folder repository given with -r, --repo, --repo= or BULWARK_REPOSITORY', () => {
    const want = { keyPath, password: PASSWORD };
    expect(guessUnlock(['backup', '--repo', repoDir, '/some/path'], env)).toEqual(want);
    expect(guessUnlock(['restore', 'latest', `--repo=${repoDir}`, '--target', '/x'], env)).toEqual(want);
    expect(guessUnlock(['snapshots', '-r', repoDir], env)).toEqual(want);
    expect(guessUnlock(['ls', 'latest'], { ...env, BULWARK_REPOSITORY: repoDir })).toEqual(want);
    // the last --repo wins, as in commander
    expect(guessUnlock(['ls', '--repo', '/elsewhere', '--repo', repoDir], env)).toEqual(want);
  });

  it('reads the password from --password-file first, as the command does', () => {
    const pwFile = join(home, 'pw.txt');
    writeFileSync(pwFile, 'from the file\nsecond line\n');
    expect(guessUnlock(['verify', '--repo', repoDir, '--password-file', pwFile], env)).toEqual({
      keyPath,
      password: 'from the file',
    });
    writeFileSync(pwFile, '\n');
    expect(guessUnlock(['verify', '--repo', repoDir, '--password-file', pwFile], env)).toBeUndefined();
    expect(
      guessUnlock(['verify', '--repo', repoDir, '--password-file', join(home, 'missing')], env),
    ).toBeUndefined();
  });

  it('guesses nothing where it is not plain', () => {
    const repo = ['--repo', repoDir];
    expect(guessUnlock([], env)).toBeUndefined();
    expect(guessUnlock(['init', ...repo], env)).toBeUndefined(); // makes a key, opens none
    expect(guessUnlock(['copy', ...repo, '--to-repo', '/b'], env)).toBeUndefined(); // two repositories
    expect(guessUnlock(['backup', ...repo, '--help'], env)).toBeUndefined();
    expect(guessUnlock(['backup', '-h', ...repo], env)).toBeUndefined();
    expect(guessUnlock(['drill', ...repo, '--report'], env)).toBeUndefined(); // past drills: no unlock
    expect(guessUnlock(['drill', ...repo], env)?.keyPath).toBe(keyPath);
    expect(guessUnlock(['backup', '--', '--repo', repoDir], env)).toBeUndefined(); // a path, not an option
    expect(guessUnlock(['backup', '--repo', 's3://bucket/prefix', '/p'], env)).toBeUndefined();
    expect(guessUnlock(['backup', '--repo', '', '/p'], env)).toBeUndefined();
    // no password without a prompt: nothing is asked here
    expect(guessUnlock(['backup', ...repo, '/p'], {})).toBeUndefined();
    expect(guessUnlock(['backup', ...repo, '/p'], { BULWARK_PASSWORD: '' })).toBeUndefined();
    expect(guessUnlock(['backup', '--repo', join(home, 'no-repo-here'), '/p'], env)).toBeUndefined();
  });

  it('an S3 repository: the key this computer kept (saveKeyHint), else nothing', () => {
    const env3 = { BULWARK_PASSWORD: PASSWORD, BULWARK_HOME: join(home, 's3-hints') };
    const at = 's3://office-bucket/backups';
    const argv3 = ['snapshots', '--repo', at, '--endpoint', 'http://127.0.0.1:9'];
    expect(guessUnlock(argv3, env3)).toBeUndefined(); // nothing kept yet
    const key = parseKeyFile(readFileSync(keyPath), 'key');
    expect(saveKeyHint(env3, at, key)).toBeUndefined();
    const hint = keyHintPath(env3, at);
    expect(statSync(hint).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(hint, 'utf8'))).toEqual(key);
    expect(guessUnlock(argv3, env3)).toEqual({ keyPath: hint, password: PASSWORD });
    // another bucket or prefix has no hint of its own
    expect(guessUnlock(['snapshots', '--repo', `${at}-2`], env3)).toBeUndefined();
    // a cache folder that cannot be written is said, not thrown
    writeFileSync(join(home, 'not-a-folder'), '');
    expect(saveKeyHint({ BULWARK_HOME: join(home, 'not-a-folder') }, at, key)).toMatch(/ENOTDIR|EEXIST/);
  });

  it('guesses nothing for a repository with two keys', async () => {
    const two = await makeFsRepo('unlock-ahead-two');
    try {
      const file = await wrapMasterKey(newMasterKey(), 'other', { created: new Date(), host: 'h' }, TEST_KDF);
      await two.store.put('keys/0000000000000000000000000000000f', Buffer.from(JSON.stringify(file)));
      expect(guessUnlock(['ls', '--repo', join(two.dir, 'repo')], env)).toBeUndefined();
    } finally {
      two.cleanup();
    }
  });

  it('the default repository: its key file is the password; --password-file without --repo is not guessed', async () => {
    const paths = localPaths({ BULWARK_HOME: home });
    mkdirSync(paths.configDir, { recursive: true });
    const store = new FsStore({ root: defaultRepositoryDir(paths) });
    const { password } = await initDefaultRepository(store, defaultKeyFile(paths), { kdf: TEST_KDF });
    const guess = guessUnlock(['backup', '/p'], { BULWARK_HOME: home });
    expect(guess?.password).toBe(password);
    expect(guess?.keyPath.startsWith(join(defaultRepositoryDir(paths), 'keys'))).toBe(true);
    expect(guessUnlock(['backup', '--password-file', '/f', '/p'], { BULWARK_HOME: home })).toBeUndefined();
  });
});

describe('unlockAhead then the open', () => {
  const argv = (): string[] => ['backup', '--repo', repoDir, '/p'];

  it('the open takes the derivation started ahead: one scrypt in all', async () => {
    expect(unlockAhead(argv(), { BULWARK_PASSWORD: PASSWORD })).toBe(true);
    expect(scrypts.count).toBe(1);
    const repo = await open(PASSWORD);
    expect(scrypts.count).toBe(1);
    expect(repo.key.encKey.equals(t.repo.key.encKey)).toBe(true);
    repo.catalog.close();
    // taken once: the next open derives again
    (await open(PASSWORD)).catalog.close();
    expect(scrypts.count).toBe(2);
  });

  it('a derivation ahead with another password is not used: the open derives its own and opens', async () => {
    expect(unlockAhead(argv(), { BULWARK_PASSWORD: 'not the password' })).toBe(true);
    const repo = await open(PASSWORD);
    expect(scrypts.count).toBe(2);
    expect(repo.key.encKey.equals(t.repo.key.encKey)).toBe(true);
    repo.catalog.close();
  });

  it('the right password ahead never opens the key for a wrong one', async () => {
    expect(unlockAhead(argv(), { BULWARK_PASSWORD: PASSWORD })).toBe(true);
    let err: unknown;
    try {
      (await open('a wrong password')).catalog.close();
    } catch (e) {
      err = e;
    }
    expect(isBulwarkError(err, 'WRONG_PASSWORD')).toBe(true);
    expect(scrypts.count).toBe(2);
    // and the derivation made ahead was dropped, not kept for later
    (await open(PASSWORD)).catalog.close();
    expect(scrypts.count).toBe(3);
  });

  it('a damaged key file starts nothing (the open reports it)', async () => {
    const dir = tempDir('unlock-ahead-damaged');
    try {
      mkdirSync(join(dir, 'keys'));
      writeFileSync(join(dir, 'keys', '00000000000000000000000000000001'), '{"version": 1, "kdf": ');
      expect(unlockAhead(['ls', '--repo', dir], { BULWARK_PASSWORD: PASSWORD })).toBe(false);
      expect(scrypts.count).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
