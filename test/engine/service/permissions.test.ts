import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { createBackupService, type BackupService } from '../../../src-main/engine/service/service.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { tempDir } from './helpers/util.ts';

const mode = (p: string): number => statSync(p).mode & 0o777;

/** Every SQLite database file (and its -wal/-shm/-journal companion) under dir, recursively. */
function dbFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((rel) => /\.db(-wal|-shm|-journal)?$/.test(rel))
    .map((rel) => join(dir, rel));
}

describe.skipIf(process.platform === 'win32')('the service keeps its files private', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  const service = (home: string): BackupService => {
    const svc = createBackupService({
      home,
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      backup: { readers: 2 },
      watch: { enabled: false },
    });
    cleanups.push(() => svc.stop());
    return svc;
  };

  it('data, config and cache folders are 0700; service.db and its -wal/-shm are 0600', async () => {
    const t = tempDir('svc-perm');
    cleanups.push(() => t.cleanup());
    const home = join(t.dir, 'home');
    const data = join(t.dir, 'src');
    mkdirSync(data);
    writeFileSync(join(data, 'a.txt'), 'alpha');
    const svc = service(home);
    expect(svc.permissionsTightened).toEqual([]); // created private, nothing to fix
    const s = await svc.addSource({ name: 'Data', paths: [data] });
    await svc.start();
    const job = await svc.waitForJob(svc.runNow(s.id).id);
    expect(job.state).toBe('SUCCEEDED');

    for (const d of ['data', 'config', 'cache'])
      expect([d, mode(join(home, d)).toString(8)]).toEqual([d, '700']);
    const dbs = dbFiles(home);
    expect(dbs).toContain(join(home, 'data', 'service.db'));
    expect(dbs).toContain(join(home, 'data', 'service.db-wal'));
    expect(dbs).toContain(join(home, 'data', 'service.db-shm'));
    for (const f of dbs) expect([f, mode(f).toString(8)]).toEqual([f, '600']);
  }, 60_000);

  it('folders and databases left open by an older version are tightened, and the service says which', async () => {
    const t = tempDir('svc-perm');
    cleanups.push(() => t.cleanup());
    const home = join(t.dir, 'home');
    for (const d of ['data', 'config', 'cache']) {
      mkdirSync(join(home, d), { recursive: true });
      chmodSync(join(home, d), 0o755);
    }
    const db = join(home, 'data', 'service.db');
    Catalog.open(db).close(); // created by this version: private already...
    chmodSync(db, 0o644); // ...as an older one left it
    writeFileSync(`${db}-wal`, '');
    chmodSync(`${db}-wal`, 0o644);

    const svc = service(home);
    expect(svc.permissionsTightened).toEqual([
      { dir: join(home, 'data'), mode: 0o755 },
      { dir: join(home, 'config'), mode: 0o755 },
      { dir: join(home, 'cache'), mode: 0o755 },
    ]);
    for (const d of ['data', 'config', 'cache']) expect(mode(join(home, d))).toBe(0o700);
    for (const f of dbFiles(home)) expect([f, mode(f).toString(8)]).toEqual([f, '600']);
    await svc.stop();
    // a second start finds nothing to fix
    expect(service(home).permissionsTightened).toEqual([]);
  }, 60_000);
});
