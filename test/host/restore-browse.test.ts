import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseOf } from '../../src-main/contract/ipc.ts';
import type { Result } from '../../src-main/contract/result.ts';
import { localPaths } from '../../src-main/engine/index.ts';
import { openHostedService, type HostedService } from '../../src-main/host/service.ts';
import { ListingLru } from '../../src-main/host/restore-browse.ts';
import { dispatch, type Handlers } from '../../src-main/transport/dispatch.ts';
import { TEST_KDF } from '../engine/helpers/repo.ts';
import { tempDir } from '../engine/service/helpers/util.ts';

// restore.browse, restore.find and restore.versions through the dispatch core (request and answer checked
// against the contract), against a real hosted service that backed up a real folder three times.

type Channel = 'bulwark:restore.browse' | 'bulwark:restore.find' | 'bulwark:restore.versions';

let t: { dir: string; cleanup(): void };
let hosted: HostedService;
let data: string;
let root: string;
let sourceId: string;
let otherId: string;
const snapshots: string[] = [];

const call = <C extends Channel>(channel: C, request: unknown): Promise<Result<ResponseOf<C>>> =>
  dispatch(hosted.handlers as Partial<Handlers>, channel, request);

async function value<C extends Channel>(channel: C, request: unknown): Promise<ResponseOf<C>> {
  const r = await call(channel, request);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

async function backupNow(id: string): Promise<string> {
  const job = hosted.service.runNow(id);
  const done = await hosted.service.waitForJob(job.id);
  expect(done.state).toBe('SUCCEEDED');
  const run = hosted.service.history({ sourceId: id, limit: 1 })[0];
  if (!run?.snapshotId) throw new Error('no snapshot');
  return run.snapshotId;
}

beforeAll(async () => {
  t = tempDir('restore-browse');
  data = join(t.dir, 'Office');
  root = basename(data);
  mkdirSync(join(data, 'Invoices'), { recursive: true });
  mkdirSync(join(data, 'many'));
  writeFileSync(join(data, 'Invoices', 'INV-1.pdf'), 'first draft');
  writeFileSync(join(data, 'notes.txt'), 'notes');
  for (let i = 0; i < 1200; i++) writeFileSync(join(data, 'many', `scan ${i}.png`), String(i));
  for (const d of ['b', 'A', 'c']) mkdirSync(join(data, 'many', d));
  const other = join(t.dir, 'Home');
  mkdirSync(other);
  writeFileSync(join(other, 'inv-home.pdf'), 'home');

  hosted = openHostedService({
    paths: localPaths({ BULWARK_HOME: join(t.dir, 'home') }),
    kdf: TEST_KDF,
    tuning: { watch: { enabled: false }, backup: { readers: 2 } },
  });
  await hosted.prepare(); // the default target; not started: backups run when asked
  sourceId = (await hosted.service.addSource({ name: 'Office', paths: [data] })).id;
  otherId = (await hosted.service.addSource({ name: 'Home', paths: [other] })).id;
  await hosted.service.start();
  await hosted.service.whenIdle(); // both are backed up once at start (never backed up before)
  snapshots.push(hosted.service.history({ sourceId, limit: 1 })[0]!.snapshotId!);
  writeFileSync(join(data, 'Invoices', 'INV-1.pdf'), 'final version');
  snapshots.push(await backupNow(sourceId));
  rmSync(join(data, 'notes.txt'));
  snapshots.push(await backupNow(sourceId));
});

afterAll(async () => {
  await hosted?.stop();
  t?.cleanup();
});

describe('restore.find / restore.versions / restore.browse over the contract', () => {
  it('find: grouped by file, newest version first, across sources or one; deleted files marked', async () => {
    const all = await value('bulwark:restore.find', { query: 'INV' });
    expect(all.truncated).toBe(false);
    expect(all.results.map((r) => [r.sourceName, r.path])).toEqual([
      ['Home', 'Home/inv-home.pdf'],
      ['Office', `${root}/Invoices/INV-1.pdf`],
    ]);
    const inv = all.results[1]!;
    expect(inv).toMatchObject({
      sourceId,
      name: 'INV-1.pdf',
      originalPath: join(data, 'Invoices', 'INV-1.pdf'),
      deleted: false,
    });
    expect(inv.versions.map((v) => [v.size, v.snapshotId, v.firstSnapshotId, v.endedBy])).toEqual([
      [13, snapshots[2], snapshots[1], undefined],
      [11, snapshots[0], snapshots[0], 'changed'],
    ]);
    const one = await value('bulwark:restore.find', { query: 'inv', sourceId: otherId });
    expect(one.results.map((r) => r.path)).toEqual(['Home/inv-home.pdf']);
    const notes = await value('bulwark:restore.find', { query: '*.txt' });
    expect(notes.results).toMatchObject([{ path: `${root}/notes.txt`, deleted: true }]);
    expect(notes.results[0]?.versions[0]).toMatchObject({ endedBy: 'deleted', snapshotId: snapshots[1] });
    const limited = await value('bulwark:restore.find', { query: '.png', limit: 5 });
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.results).toHaveLength(5);
    expect(await call('bulwark:restore.find', { query: '   ' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await call('bulwark:restore.find', { query: 'x', sourceId: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });

  it('versions: every distinct version of one file, newest first', async () => {
    const r = await value('bulwark:restore.versions', { sourceId, path: `${root}/Invoices/INV-1.pdf` });
    expect(r.versions.map((v) => [v.size, v.snapshotId, v.lastSeen !== undefined])).toEqual([
      [13, snapshots[2], false],
      [11, snapshots[0], true],
    ]);
    expect(r.versions[0]?.firstSeen).toMatch(/Z$/);
    expect(
      (await value('bulwark:restore.versions', { sourceId: otherId, path: `${root}/Invoices/INV-1.pdf` }))
        .versions,
    ).toEqual([]);
  });

  it('browse: a folder a page at a time, folders first; the top shows where the folders were', async () => {
    const top = await value('bulwark:restore.browse', { sourceId, snapshotId: snapshots[2], path: '' });
    expect(top).toEqual({
      path: '',
      total: 1,
      offset: 0,
      entries: [
        {
          name: root,
          path: root,
          type: 'dir',
          mtime: expect.stringMatching(/Z$/) as string,
          originalPath: data,
        },
      ],
    });
    const first = await value('bulwark:restore.browse', {
      sourceId,
      snapshotId: snapshots[2],
      path: `${root}/many`,
      limit: 1000,
    });
    expect(first.total).toBe(1203);
    expect(first.entries.slice(0, 5).map((e) => [e.name, e.type])).toEqual([
      ['A', 'dir'],
      ['b', 'dir'],
      ['c', 'dir'],
      ['scan 0.png', 'file'],
      ['scan 1.png', 'file'],
    ]);
    expect(first.entries[4]).toMatchObject({
      path: `${root}/many/scan 1.png`,
      size: 1,
      originalPath: join(data, 'many', 'scan 1.png'),
    });
    const second = await value('bulwark:restore.browse', {
      sourceId,
      snapshotId: snapshots[2],
      path: `${root}/many`,
      offset: 1000,
      limit: 1000,
    });
    expect(second).toMatchObject({ offset: 1000, total: 1203 });
    expect(second.entries.map((e) => e.name).at(-1)).toBe('scan 1199.png');
    expect(new Set([...first.entries, ...second.entries].map((e) => e.name)).size).toBe(1203);
    // another source's snapshot, a path that is not there, a page too large: typed errors
    expect(
      await call('bulwark:restore.browse', { sourceId: otherId, snapshotId: snapshots[2], path: '' }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(
      await call('bulwark:restore.browse', { sourceId, snapshotId: snapshots[2], path: `${root}/nope` }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(
      await call('bulwark:restore.browse', { sourceId, snapshotId: snapshots[2], path: '', limit: 5000 }),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('the listing cache keeps the last few folders, least recently used out first, bounded by size', () => {
    const lru = new ListingLru(2, 100);
    const l = (bytes: number) => ({ count: 1, bytes });
    lru.set('a', l(10));
    lru.set('b', l(10));
    lru.get('a');
    lru.set('c', l(10));
    expect([lru.get('a') !== undefined, lru.get('b') !== undefined, lru.get('c') !== undefined]).toEqual([
      true,
      false,
      true,
    ]);
    lru.set('big', l(95)); // over the size bound: everything older goes, the new one stays
    expect(lru.size).toBe(1);
    expect(lru.get('big')).toBeDefined();
  });
});
