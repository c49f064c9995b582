/**
 * Damaged key objects and a damaged config object on a folder repository: the messages say which object
 * is damaged (not "wrong password", not raw JSON), and a damaged config is no dead end, since every key
 * carries the exact config text.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { newMasterKey, wrapMasterKey } from '../../src-main/engine/crypto/keys.ts';
import { isBulwarkError, type BulwarkError } from '../../src-main/engine/errors.ts';
import { acknowledgeTampering } from '../../src-main/engine/locks/verify-locks.ts';
import { readConfig, Repository } from '../../src-main/engine/repo/repository.ts';
import { makeFsRepo, PASSWORD, TEST_KDF, type TestRepo } from './helpers/repo.ts';

const repos: TestRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

async function fresh(): Promise<TestRepo> {
  const r = await makeFsRepo('damaged-keys');
  repos.push(r);
  return r;
}

async function errorOf(p: Promise<unknown>): Promise<BulwarkError> {
  try {
    await p;
  } catch (e) {
    if (isBulwarkError(e)) return e;
    throw new Error(`expected a BulwarkError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a BulwarkError, but the call succeeded');
}

/** The one key object of a fresh repository: its file and its name in the repository. */
function theKey(r: TestRepo): { file: string; name: string } {
  const root = join(r.dir, 'repo', 'keys');
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) =>
    statSync(join(root, f)).isFile(),
  );
  expect(files).toHaveLength(1);
  const rel = files[0] ?? '';
  const file = join(root, rel);
  chmodSync(file, 0o644);
  return { file, name: `keys/${rel.split('/').pop() ?? ''}` };
}

async function openWith(r: TestRepo, password: string): Promise<Repository> {
  const catalog = Catalog.open(':memory:');
  try {
    return await Repository.open(r.store, password, catalog);
  } catch (e) {
    catalog.close();
    throw e;
  }
}

describe('a damaged key object', () => {
  it('not valid JSON: "the key object keys/… is damaged (not a key file: not valid JSON)", without the file’s text', async () => {
    const r = await fresh();
    const { file, name } = theKey(r);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"kdf"', '"kdf" "'));
    const e = await errorOf(openWith(r, PASSWORD));
    expect(e.code).toBe('REPO_DAMAGED');
    expect(e.message).toContain(`the key object ${name} is damaged (not a key file: not valid JSON)`);
    expect(e.message).not.toContain('wrong password');
    expect(e.message).not.toContain('"created"'); // no raw JSON of the key file
    expect(e.hint).toMatch(/intact copy/);
  });

  it('a flipped byte that breaks the base64 of the sealed data: damaged, not "wrong password"', async () => {
    const r = await fresh();
    const { file, name } = theKey(r);
    const key = JSON.parse(readFileSync(file, 'utf8')) as { data: string; kdf: { salt: string } };
    key.data = `${key.data.slice(0, 20)}\u00e9${key.data.slice(21)}`;
    writeFileSync(file, JSON.stringify(key, null, 2));
    const e = await errorOf(openWith(r, PASSWORD));
    expect(e.code).toBe('REPO_DAMAGED');
    expect(e.message).toBe(
      `the key object ${name} is damaged (its sealed data is not valid base64), and ${r.store.location} has no other key`,
    );
  });

  it('a flipped byte inside the sealed data that keeps it valid base64: damaged (the checksum), not "wrong password"', async () => {
    const r = await fresh();
    const { file, name } = theKey(r);
    const key = JSON.parse(readFileSync(file, 'utf8')) as { data: string; check?: string };
    expect(key.check).toMatch(/^[0-9a-f]{32}$/);
    // one base64 letter for another: still canonical base64 of the same length, one sealed byte differs
    const at = 40;
    const swapped = key.data[at] === 'A' ? 'B' : 'A';
    key.data = `${key.data.slice(0, at)}${swapped}${key.data.slice(at + 1)}`;
    writeFileSync(file, JSON.stringify(key, null, 2));
    const e = await errorOf(openWith(r, PASSWORD));
    expect(e.code).toBe('REPO_DAMAGED');
    expect(e.message).toContain(
      `the key object ${name} is damaged (its checksum does not match its contents: a byte changed)`,
    );
    // a wrong password on the intact key is still a wrong password (the checksum does not hide it)
    const r2 = await fresh();
    expect((await errorOf(openWith(r2, 'not the password'))).code).toBe('WRONG_PASSWORD');
  });

  it('a damaged salt, and a scrypt cost that is no power of two, are damage too', async () => {
    const r = await fresh();
    const { file, name } = theKey(r);
    const original = readFileSync(file, 'utf8');
    const key = JSON.parse(original) as { kdf: { salt: string; N: number } };
    key.kdf.salt = `${key.kdf.salt.slice(0, 5)}*${key.kdf.salt.slice(6)}`;
    writeFileSync(file, JSON.stringify(key, null, 2));
    expect((await errorOf(openWith(r, PASSWORD))).message).toContain(
      `the key object ${name} is damaged (its salt is not valid base64)`,
    );
    const k2 = JSON.parse(original) as { kdf: { N: number } };
    k2.kdf.N += 1;
    writeFileSync(file, JSON.stringify(k2, null, 2));
    expect((await errorOf(openWith(r, PASSWORD))).message).toContain(
      `the key object ${name} is damaged (its scrypt cost N=${k2.kdf.N} is not a power of two)`,
    );
  });

  it('another key the password does not open, plus a damaged one: the damaged one is named', async () => {
    const r = await fresh();
    const { file, name } = theKey(r);
    // a second key object, for another password (and another master key: any key that is not ours)
    const other = await wrapMasterKey(
      newMasterKey(),
      'another password',
      { created: new Date(), host: hostname() },
      TEST_KDF,
    );
    await r.store.put(`keys/${randomBytes(16).toString('hex')}`, Buffer.from(JSON.stringify(other, null, 2)));
    const key = JSON.parse(readFileSync(file, 'utf8')) as { data: string };
    key.data = `${key.data.slice(0, 30)}#${key.data.slice(31)}`;
    writeFileSync(file, JSON.stringify(key, null, 2));
    const e = await errorOf(openWith(r, PASSWORD));
    expect(e.code).toBe('REPO_DAMAGED');
    expect(e.message).toContain('the password opens none of the other keys');
    expect(e.message).toContain(`the key object ${name} is damaged (its sealed data is not valid base64)`);
    expect(e.message).not.toContain('wrong password');
  });

  it('an intact repository with a wrong password is still WRONG_PASSWORD; a damaged key next to a good one is a warning', async () => {
    const r = await fresh();
    expect((await errorOf(openWith(r, 'not the password'))).code).toBe('WRONG_PASSWORD');
    // a damaged extra key object (sorted before the real one) does not stop the good key
    await r.store.put('keys/00000000000000000000000000000000', Buffer.from('{ "version": 1, "kdf": '));
    const repo = await openWith(r, PASSWORD);
    expect(repo.warnings.join('\n')).toContain(
      'the key object keys/00000000000000000000000000000000 is damaged (not a key file: not valid JSON)',
    );
    repo.catalog.close();
  });
});

describe('a damaged config object', () => {
  it('without the password: says which object is damaged and that the password still opens it', async () => {
    const r = await fresh();
    const file = join(r.dir, 'repo', 'config');
    chmodSync(file, 0o644);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] = 0x22; // a '"' in the middle: not JSON any more
    writeFileSync(file, bytes);
    const e = await errorOf(readConfig(r.store));
    expect(e.code).toBe('REPO_DAMAGED');
    expect(e.message).toBe(
      `the config object of the repository at ${r.store.location} is damaged (not valid JSON)`,
    );
    expect(e.hint).toContain('can still be opened with its password');
  });

  it('with the password: opens from the key’s copy (same id and settings), says so; reads work, backups wait for a person', async () => {
    const r = await fresh();
    const src = join(r.dir, 'src');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'alpha');
    const snap = await backup(r.repo, { paths: [src], readers: 2 });
    const config = r.repo.config;

    const file = join(r.dir, 'repo', 'config');
    chmodSync(file, 0o644);
    const bytes = readFileSync(file);
    bytes[0] = 0x00;
    writeFileSync(file, bytes);

    const repo = await r.reopen();
    expect(repo.config).toEqual(config);
    expect(repo.warnings.join('\n')).toContain(
      `the config object of the repository at ${r.store.location} is damaged (not valid JSON): using the copy sealed in the key`,
    );
    await repo.syncSnapshots();
    expect(repo.catalog.snapshots(repo.rid).map((s) => s.id)).toEqual([snap.id]);
    // as for any config that is not the authenticated one: no writes until a person acknowledges it
    expect((await errorOf(backup(repo, { paths: [src], readers: 2 }))).code).toBe('LOCK_INVARIANT_BROKEN');
    expect(await acknowledgeTampering(repo)).toBeGreaterThan(0);
    const again = await r.reopen();
    const second = await backup(again, { paths: [src], readers: 2 });
    expect(second.id).not.toBe(snap.id);
  });
});
