/**
 * A hostile backup key (DESIGN §3) on the in-memory Object Lock model (versions, delete markers, locks):
 * whoever holds the bucket keys puts new versions over Bulwark's objects and places delete markers. The
 * repository keeps reading the versions it wrote, refuses to back up under replaced settings, and names
 * every foreign version. The same scenario on a real S3 server is in s3-tamper.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../src-main/engine/clock.ts';
import { acknowledgeTampering, verifyLocks } from '../../src-main/engine/locks/verify-locks.ts';
import { restoreSnapshot } from '../../src-main/engine/ops/restore.ts';
import { objectNames, type SnapshotManifest } from '../../src-main/engine/repo/format.ts';
import {
  initRepository,
  readConfig,
  readConfigVersions,
  Repository,
} from '../../src-main/engine/repo/repository.ts';
import { DEFAULT_KDF } from '../../src-main/engine/crypto/keys.ts';
import { FsStore } from '../../src-main/engine/storage/fs.ts';
import { MemoryStore } from '../../src-main/engine/storage/memory.ts';
import { PASSWORD, TEST_KDF, tempDir } from './helpers/repo.ts';

const DAY = 86_400_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(tag: string): string {
  const d = tempDir(tag);
  dirs.push(d);
  return d;
}

async function lockedRepo(): Promise<{ store: MemoryStore; clock: FakeClock; open(): Promise<Repository> }> {
  const clock = new FakeClock(new Date('2026-03-01T09:00:00Z'));
  const store = new MemoryStore({ clock });
  await initRepository(store, PASSWORD, {
    kdf: TEST_KDF,
    clock,
    lock: { mode: 'COMPLIANCE', days: 30, paddingDays: 5 },
  });
  return { store, clock, open: () => Repository.open(store, PASSWORD, Catalog.open(':memory:'), { clock }) };
}

function tree(root: string, files: Record<string, string | Buffer>): string {
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), data);
  }
  return root;
}

async function restoredEquals(
  repo: Repository,
  snap: SnapshotManifest,
  files: Record<string, Buffer>,
): Promise<void> {
  const out = scratch('tamper-out');
  const r = await restoreSnapshot(repo, { snapshot: snap.id, target: out });
  expect(r.errors).toEqual([]);
  const root = join(out, basename(snap.paths[0]!));
  for (const [name, data] of Object.entries(files)) {
    expect(readFileSync(join(root, name)).equals(data), `${snap.id.slice(0, 8)}: ${name}`).toBe(true);
  }
}

/** Every version of every object the store holds, with whether it is locked. */
async function allVersions(store: MemoryStore): Promise<{ name: string; id: string; locked: boolean }[]> {
  const out: { name: string; id: string; locked: boolean }[] = [];
  for await (const v of store.versions.listVersions('')) {
    if (v.deleteMarker) continue;
    const info = await store.versions.headVersion(v.name, v.versionId);
    out.push({ name: v.name, id: v.versionId, locked: info.retainUntil !== undefined });
  }
  return out;
}

describe('a hostile backup key on a versioned Object Lock store', () => {
  it('the config versions read while locating serve the open (one listing), and a forged one is still caught', async () => {
    const { store, clock } = await lockedRepo();
    let configListings = 0;
    const list = store.versions.listVersions.bind(store.versions);
    Object.assign(store.versions, {
      listVersions: (prefix: string, signal?: AbortSignal) => {
        if (prefix === 'config') configListings++;
        return list(prefix, signal);
      },
    });
    const located = await readConfigVersions(store);
    const repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'), {
      clock,
      configVersions: located.versions,
    });
    expect(configListings).toBe(1);
    expect(repo.config).toEqual(located.config);
    repo.catalog.close();

    // the attacker's version, read while locating, is judged by the open as if it had listed it itself
    const config = JSON.parse((await store.get('config')).toString('utf8')) as Record<string, unknown>;
    store.forgeVersion('config', Buffer.from(JSON.stringify({ ...config, lock: null })));
    const seen = await readConfigVersions(store);
    expect(seen.config.lock).toEqual({ mode: 'COMPLIANCE', days: 30, paddingDays: 5 });
    const again = await Repository.open(store, PASSWORD, Catalog.open(':memory:'), {
      clock,
      configVersions: seen.versions,
    });
    expect(again.catalog.tampering(again.rid, { open: true }).map((t) => t.name)).toContain('config');
    again.catalog.close();
  });

  it('replaced config and overwritten pack: backup refuses, verify names both, every snapshot restores', async () => {
    const { store, clock, open } = await lockedRepo();
    const src = scratch('tamper-src');
    const v1 = { 'a.txt': Buffer.from('first version\n'.repeat(500)), 'big.bin': randomBytes(600_000) };
    tree(src, v1);
    let repo = await open();
    const s1 = await backup(repo, { paths: [src], source: 'office' });
    clock.advance(DAY);
    const v2 = { ...v1, 'a.txt': Buffer.from('second version\n'.repeat(500)), 'new.txt': Buffer.from('new') };
    tree(src, v2);
    const s2 = await backup(repo, { paths: [src], source: 'office' });
    const packs = [...repo.catalog.packs(repo.rid)].map((p) => objectNames.pack(p.id));
    repo.catalog.close();

    // The attacker, with the same keys: config without the lock, garbage over a pack, a hidden snapshot,
    // garbage over an index.
    const config = JSON.parse((await store.get('config')).toString('utf8')) as Record<string, unknown>;
    store.forgeVersion('config', Buffer.from(JSON.stringify({ ...config, lock: null }, null, 2)));
    store.forgeVersion(packs[0]!, randomBytes(4096));
    store.placeDeleteMarker(objectNames.snapshot(s1.id));
    const indexes: string[] = [];
    for await (const o of store.list('index/')) indexes.push(o.name);
    store.forgeVersion(indexes[0]!, randomBytes(100));
    // A plain read of "the latest" now sees the attacker's objects:
    expect((await store.get(packs[0]!)).length).toBe(4096);
    await expect(store.get(objectNames.snapshot(s1.id))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // ...but the config a new computer finds without the password is still the original
    expect((await readConfig(store)).lock).toEqual({ mode: 'COMPLIANCE', days: 30, paddingDays: 5 });

    // A new computer (empty catalog): learns which versions are Bulwark's by authenticating them.
    repo = await open();
    expect(repo.config.lock).toEqual({ mode: 'COMPLIANCE', days: 30, paddingDays: 5 });
    const before = await allVersions(store);
    clock.advance(DAY);
    writeFileSync(join(src, 'after.txt'), 'written after the attack');
    await expect(backup(repo, { paths: [src], source: 'office' })).rejects.toMatchObject({
      code: 'LOCK_INVARIANT_BROKEN',
      message: expect.stringContaining('config'),
    });
    // No object without retention was written (the refusal's audit entry is locked like the rest).
    const after = await allVersions(store);
    const added = after.filter((v) => !before.some((b) => b.name === v.name && b.id === v.id));
    expect(added.every((v) => v.name.startsWith('audit/') && v.locked)).toBe(true);

    // Both snapshots are listed (the delete marker hides nothing) and restore byte for byte.
    await repo.syncIndexes();
    const snaps = await repo.syncSnapshots();
    expect(snaps.map((s) => s.id).sort()).toEqual([s1.id, s2.id].sort());
    await restoredEquals(repo, s1, v1);
    await restoredEquals(repo, s2, v2);

    // verify --locks names every tampered object, and the lock proof holds for Bulwark's own versions.
    const report = await verifyLocks(repo);
    const named = new Set(report.tampering.map((t) => t.object));
    expect(named).toEqual(new Set(['config', packs[0]!, objectNames.snapshot(s1.id), indexes[0]!]));
    expect(report.tampering.find((t) => t.object === objectNames.snapshot(s1.id))?.kind).toBe(
      'delete-marker',
    );
    expect(report.tampering.find((t) => t.object === packs[0])?.kind).toBe('foreign-version');
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(false);

    // A person looked: backups resume with the original (locked) settings.
    expect(await acknowledgeTampering(repo, 'test')).toBe(4);
    const s3 = await backup(repo, { paths: [src], source: 'office' });
    expect(s3.retainUntil).toBeDefined();
    const latest = await allVersions(store);
    expect(
      latest.filter((v) => !after.some((a) => a.name === v.name && a.id === v.id)).every((v) => v.locked),
    ).toBe(true);
    expect((await verifyLocks(repo)).ok).toBe(true);
    repo.catalog.close();
  });

  it('the same catalog keeps reading by the versions it recorded; new tampering stops backups again', async () => {
    const { store, clock, open } = await lockedRepo();
    const src = tree(scratch('tamper-src'), { 'x.txt': Buffer.from('x'.repeat(10_000)) });
    const repo = await open();
    const s1 = await backup(repo, { paths: [src], source: 'office' });
    const snapName = objectNames.snapshot(s1.id);
    const pinned = repo.pins?.pinned(snapName);
    expect(pinned).toBeDefined();
    // A garbage version over the snapshot: the pinned version is read without asking which is newest.
    store.forgeVersion(snapName, randomBytes(64));
    await restoredEquals(repo, s1, { 'x.txt': Buffer.from('x'.repeat(10_000)) });
    clock.advance(DAY);
    await backup(repo, { paths: [src], source: 'office' }); // a foreign snapshot version does not stop backups
    expect(repo.catalog.tampering(repo.rid).map((t) => t.name)).toEqual([snapName]);
    // the settings replaced while this process holds the repository open: the next backup notices
    store.placeDeleteMarker('config');
    await expect(backup(repo, { paths: [src], source: 'office' })).rejects.toMatchObject({
      code: 'LOCK_INVARIANT_BROKEN',
      message: expect.stringContaining('delete marker'),
    });
    repo.catalog.close();
  });

  it('a put retried after a lost answer (the same bytes twice) is not tampering', async () => {
    const { store, open } = await lockedRepo();
    const src = tree(scratch('tamper-src'), { 'y.txt': Buffer.from('y'.repeat(5_000)) });
    let repo = await open();
    const s1 = await backup(repo, { paths: [src], source: 'office' });
    const snapName = objectNames.snapshot(s1.id);
    const bytes = await store.get(snapName);
    store.forgeVersion(snapName, bytes); // what a retried PutObject leaves behind
    repo.catalog.close();
    repo = await open(); // a new catalog: both versions authenticate, neither is foreign
    expect((await verifyLocks(repo)).tampering).toEqual([]);
    repo.catalog.close();
  });

  it('junk key objects are skipped with a warning instead of making the repository unusable', async () => {
    const { store, open } = await lockedRepo();
    await store.put('keys/0000-junk', Buffer.from('not json at all'));
    const monster = {
      version: 1,
      created: new Date().toISOString(),
      host: 'x',
      kdf: { name: 'scrypt', N: 2 ** 30, r: 8, p: 1, salt: 'AAAA' },
      data: 'AAAA',
    };
    await store.put('keys/0001-monster', Buffer.from(JSON.stringify(monster)));
    // a foreign version over the real key, and a delete marker over it: the original still opens
    const keyNames: string[] = [];
    for await (const o of store.list('keys/')) keyNames.push(o.name);
    const real = keyNames.find((n) => !n.includes('junk') && !n.includes('monster'))!;
    store.forgeVersion(real, Buffer.from('{}'));
    store.placeDeleteMarker(real);
    const started = Date.now();
    const repo = await open();
    expect(Date.now() - started).toBeLessThan(10_000); // never tried N=2^30 (1 TiB of memory)
    expect(repo.warnings.join('\n')).toMatch(/0000-junk.*not a key file/);
    expect(repo.warnings.join('\n')).toMatch(/0001-monster.*beyond what Bulwark accepts/);
    repo.catalog.close();
  });

  it('a folder repository whose config was rewritten: backups stop, the original settings are still used', async () => {
    const dir = scratch('tamper-fs');
    const store = new FsStore({ root: join(dir, 'repo') });
    await initRepository(store, PASSWORD, { kdf: TEST_KDF });
    const src = tree(scratch('tamper-src'), { 'z.txt': Buffer.from('z'.repeat(3_000)) });
    let repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    await backup(repo, { paths: [src], source: 'office' });
    repo.catalog.close();
    const file = join(dir, 'repo', 'config');
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as { chunker: { avg: number } };
    chmodSync(file, 0o644);
    writeFileSync(file, JSON.stringify({ ...cfg, chunker: { ...cfg.chunker, avg: 4096 } }));
    repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    expect(repo.config.chunker).not.toMatchObject({ avg: 4096 }); // the key's copy is what counts
    await expect(backup(repo, { paths: [src], source: 'office' })).rejects.toMatchObject({
      code: 'LOCK_INVARIANT_BROKEN',
    });
    expect((await verifyLocks(repo)).tampering.map((t) => t.object)).toEqual(['config']);
    repo.catalog.close();
  });

  it('a folder repository with a junk key object still opens, and says what it skipped', async () => {
    const dir = scratch('tamper-fs');
    const store = new FsStore({ root: join(dir, 'repo') });
    await initRepository(store, PASSWORD, { kdf: TEST_KDF });
    await store.put('keys/0000-junk', Buffer.from('{"version":1}'));
    const repo = await Repository.open(store, PASSWORD, Catalog.open(':memory:'));
    expect(repo.warnings).toEqual([expect.stringContaining('keys/0000-junk')]);
    repo.catalog.close();
  });

  it('new keys cost at least 2^17 scrypt passes in 32 MiB; costs beyond the limits are refused', async () => {
    // work per guess N·p as scrypt N=2^17, p=1; memory 128·N·r of 32 MiB: OWASP's N=2^15, r=8, p=3 setting
    // and more passes. Not more memory: every command's peak starts from it (DECISIONS "Key derivation").
    expect(DEFAULT_KDF.N * DEFAULT_KDF.p).toBeGreaterThanOrEqual(2 ** 17);
    expect(128 * DEFAULT_KDF.N * DEFAULT_KDF.r).toBe(32 << 20);
    expect(DEFAULT_KDF.r).toBeGreaterThanOrEqual(8);
    const store = new MemoryStore();
    await initRepository(store, PASSWORD); // the production default
    let key = '';
    for await (const o of store.list('keys/')) key = o.name;
    const file = JSON.parse((await store.get(key)).toString('utf8')) as {
      kdf: { N: number; r: number; p: number };
    };
    expect(file.kdf).toMatchObject(DEFAULT_KDF);
    await expect(
      initRepository(new MemoryStore(), PASSWORD, { kdf: { N: 2 ** 22, r: 8, p: 1 } }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
