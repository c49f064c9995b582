import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { HistoryCatchUp } from '../../../src-main/engine/service/history-catch-up.ts';
import { createBackupService } from '../../../src-main/engine/service/service.ts';
import { bruteForce, dumpIndex, makeEnv, type Env } from '../history/helpers.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { tempDir } from './helpers/util.ts';

// The service's file history after its backups (service/history-catch-up.ts): taken in after the job, in
// the background; stopped cleanly; a failure reported, never thrown.

const DAY = 86_400_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function env(tag: string): Promise<Env> {
  const e = await makeEnv(tag);
  cleanups.push(() => e.cleanup());
  return e;
}

async function backupOf(e: Env) {
  e.clock.advance(DAY);
  return backup(e.repo, { paths: [join(e.dir, 'src')], source: 'office', readers: 2 });
}

describe('HistoryCatchUp', () => {
  it('takes each snapshot handed in into the index, in order, after the backup returned', async () => {
    const e = await env('catchup');
    const errors: string[] = [];
    const catchUp = new HistoryCatchUp((m) => errors.push(m));
    e.write({ 'src/a.txt': 'one', 'src/b.txt': 'bee' });
    const s1 = await backupOf(e);
    expect(dumpIndex(e.repo)).toEqual([]); // the backup itself wrote nothing there
    catchUp.after(e.repo, s1);
    e.write({ 'src/a.txt': 'two' });
    const s2 = await backupOf(e);
    catchUp.after(e.repo, s2);
    await catchUp.whenIdle();
    expect(errors).toEqual([]);
    const rows = dumpIndex(e.repo);
    expect(rows).toEqual(await bruteForce(e.repo));
    const a = rows.filter((r) => r.path === 'src/a.txt');
    expect(a.map((r) => [r.first, r.ended]).sort()).toEqual(
      [
        [s1.id, s2.id],
        [s2.id, null],
      ].sort(),
    );
  });

  it('stop: what is handed in afterwards is left to the next find, and is no error', async () => {
    const e = await env('catchup-stop');
    const errors: string[] = [];
    const catchUp = new HistoryCatchUp((m) => errors.push(m));
    e.write({ 'src/a.txt': 'one' });
    const s1 = await backupOf(e);
    await catchUp.stop();
    catchUp.after(e.repo, s1);
    await catchUp.whenIdle();
    expect(dumpIndex(e.repo)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a snapshot the index could not take in is reported with its id, and nothing throws', async () => {
    const e = await env('catchup-fail');
    const errors: string[] = [];
    const catchUp = new HistoryCatchUp((m) => errors.push(m));
    e.write({ 'src/a.txt': 'one' });
    const s1 = await backupOf(e);
    // the index's tables are gone (a damaged catalog): the write fails
    e.repo.catalog.db.exec('DROP TABLE history_versions');
    catchUp.after(e.repo, s1);
    await catchUp.whenIdle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`snapshot ${s1.id.slice(0, 8)}`);
    expect(errors[0]).toMatch(/catches up when next used: .*history_versions/);
  });
});

describe('the service and the file history', () => {
  it('a backup job is followed by the index taking its snapshot in, before stop closes the catalog', async () => {
    const t = tempDir('service-history');
    cleanups.push(() => t.cleanup());
    const data = join(t.dir, 'data');
    mkdirSync(join(data, 'Invoices'), { recursive: true });
    writeFileSync(join(data, 'Invoices', 'INV-001.pdf'), 'invoice one');
    const home = join(t.dir, 'home');
    const svc = createBackupService({
      home,
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      backup: { readers: 2 },
    });
    cleanups.push(() => svc.stop());
    const target = await svc.addTarget({ location: join(t.dir, 'repo') }, { initialize: true });
    const s = await svc.addSource({ name: 'Data', paths: [data], targetId: target.id });
    const countPaths = (): number =>
      (svc.catalog.db.prepare('SELECT count(*) AS n FROM history_paths').get() as { n: number }).n;
    let pathsWhenJobEnded = -1;
    svc.on('job.state', (e) => {
      if (e.job.state === 'SUCCEEDED' && pathsWhenJobEnded < 0) pathsWhenJobEnded = countPaths();
    });
    const job = await svc.waitForJob(svc.runNow(s.id).id);
    expect(job.state).toBe('SUCCEEDED');
    expect(pathsWhenJobEnded).toBe(0); // the job ended before the index took its snapshot in
    await svc.whenIdle(); // jobs, then the catch-up behind them
    const repo = await svc.repositoryFor(s.id);
    const paths = repo.catalog.db
      .prepare<[], { path: Buffer }>('SELECT path FROM history_paths')
      .all()
      .map((r) => r.path.toString('utf8'));
    expect(paths).toEqual(['data/Invoices/INV-001.pdf']);
    await svc.stop();
    // the catalog file keeps it for the next process
    const file = readdirSync(home, { recursive: true, encoding: 'utf8' }).find(
      (f) => basename(f) === 'service.db',
    );
    if (file === undefined) throw new Error(`no service.db under ${home}`);
    const db = Catalog.open(join(home, file), { readonly: true });
    try {
      expect(db.db.prepare('SELECT count(*) AS n FROM history_versions').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });
});
