/**
 * The service raises an alert when someone holding a target's keys tampers with its repository: replaced
 * settings stop backups ('lock-invariant-broken', critical); a foreign version over a backup file raises
 * 'repository-tampered' while backups go on (Bulwark reads its own, locked versions).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackupService, type BackupService } from '../../../src-main/engine/service/service.ts';
import { MemoryStore } from '../../../src-main/engine/storage/memory.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { tempDir } from './helpers/util.ts';

describe('service alerts on a tampered repository', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  async function setup(): Promise<{
    svc: BackupService;
    store: MemoryStore;
    sourceId: string;
    targetId: string;
  }> {
    const t = tempDir('svc-tamper');
    cleanups.push(() => t.cleanup());
    const data = join(t.dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'a.txt'), 'alpha'.repeat(1000));
    writeFileSync(join(data, 'b.bin'), randomBytes(200_000));
    const store = new MemoryStore();
    const svc = createBackupService({
      home: join(t.dir, 'home'),
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      backup: { readers: 2 },
      storeFor: () => store,
    });
    cleanups.push(() => svc.stop());
    const target = await svc.addTarget(
      { name: 'Cloud', location: 's3://office-bucket/pc1' },
      { initialize: true, lock: { mode: 'COMPLIANCE', days: 7, paddingDays: 1 } },
    );
    const source = await svc.addSource({ name: 'Documents', paths: [data], targetId: target.id });
    const first = await svc.waitForJob(svc.runNow(source.id).id);
    expect(first.state).toBe('SUCCEEDED');
    return { svc, store, sourceId: source.id, targetId: target.id };
  }

  it('replaced settings: the backup fails and a critical lock-invariant-broken alert names the cause', async () => {
    const { svc, store, sourceId, targetId } = await setup();
    const config = JSON.parse((await store.get('config')).toString('utf8')) as Record<string, unknown>;
    store.forgeVersion('config', Buffer.from(JSON.stringify({ ...config, lock: null })));
    const job = await svc.waitForJob(svc.runNow(sourceId).id);
    expect(job.state).toBe('FAILED');
    const alerts = svc.alerts.list({ active: true }).filter((a) => a.kind === 'lock-invariant-broken');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'critical', targetId });
    expect(alerts[0]!.text).toMatch(
      /Backups to Cloud are stopped: the backup settings stored there were replaced/,
    );
    // the source says why it is at risk, and links to the alert
    expect(
      svc.getSource(sourceId).protection.reasons.find((r) => r.code !== 'service-stopped'),
    ).toMatchObject({
      code: 'lock-invariant-broken',
      fix: { page: 'alerts' },
    });
    // the same cause again: one alert, seen twice
    await svc.waitForJob(svc.runNow(sourceId).id);
    const again = svc.alerts.list({ active: true }).filter((a) => a.kind === 'lock-invariant-broken');
    expect(again.map((a) => a.count)).toEqual([2]);
  });

  it('a foreign version over a pack: backups go on, a repository-tampered alert is raised', async () => {
    const { svc, store, sourceId, targetId } = await setup();
    let pack = '';
    for await (const o of store.list('packs/')) pack = o.name;
    store.forgeVersion(pack, randomBytes(4096));
    const job = await svc.waitForJob(svc.runNow(sourceId).id);
    expect(job.state).toBe('SUCCEEDED');
    const alerts = svc.alerts.list({ active: true }).filter((a) => a.kind === 'repository-tampered');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'critical', targetId });
    expect(alerts[0]!.text).toContain(pack);
  });
});
