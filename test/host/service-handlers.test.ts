import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createHandlers } from '../../src-main/app/handlers.ts';
import type { EventName, EventOf } from '../../src-main/contract/ipc.ts';
import type { Result } from '../../src-main/contract/result.ts';
import { localPaths } from '../../src-main/engine/index.ts';
import { openHostedService, type HostedService } from '../../src-main/host/service.ts';
import { dispatch, type Handlers } from '../../src-main/transport/dispatch.ts';
import { TEST_KDF } from '../engine/helpers/repo.ts';
import { tempDir, until } from '../engine/service/helpers/util.ts';

// The service channels through the shared dispatch core, against a real hosted BackupService on temp folders
// (the watcher off: runs are started by the API here; the watcher is covered by the e2e and scale tests).

type Received = { [E in EventName]: { event: E; payload: EventOf<E> } }[EventName];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function setup() {
  const t = tempDir('host');
  cleanups.push(() => t.cleanup());
  const home = join(t.dir, 'home');
  const data = join(t.dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'a.txt'), 'alpha');
  writeFileSync(join(data, 'b.txt'), 'beta');
  return { dir: t.dir, home, data };
}

function host(home: string): { hosted: HostedService; call: Call; received: Received[] } {
  const hosted = openHostedService({
    paths: localPaths({ BULWARK_HOME: home }),
    kdf: TEST_KDF,
    tuning: { watch: { enabled: false }, backup: { readers: 2 }, progressIntervalMs: 10 },
  });
  cleanups.push(() => hosted.stop());
  const received: Received[] = [];
  hosted.events.subscribe((event, payload) => received.push({ event, payload } as Received));
  const handlers = hosted.handlers as Partial<Handlers>;
  const call: Call = (channel, request) => dispatch(handlers, channel, request) as never;
  return { hosted, call, received };
}

type Call = <C extends keyof Handlers>(channel: C, request: unknown) => Promise<Result<OkValue<C>>>;
type OkValue<C extends keyof Handlers> = Extract<Awaited<ReturnType<Handlers[C]>>, { ok: true }>['value'];

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('service handlers (src-main/host)', () => {
  it('first start: the embedded default target; a source added over the contract is backed up, with events', async () => {
    const e = setup();
    const { hosted, call, received } = host(e.home);
    const prepared = await hosted.prepare();
    expect(prepared.defaultTarget).toMatchObject({
      id: 'default',
      location: join(e.home, 'data', 'repository'),
    });
    await hosted.start();

    const status = value(await call('bulwark:service.status', {}));
    expect(status).toMatchObject({
      started: true,
      paused: false,
      sources: [],
      targets: [{ id: 'default', kind: 'fs', isDefault: true, immutability: 'worm-folder' }],
      rpo: { ok: 0, pending: 0, missed: 0 },
      overall: {
        state: 'not-protected',
        headline: 'No folders yet: add one to start protecting',
        counts: { protected: 0, atRisk: 0, notProtected: 0 },
      },
    });

    const { source } = value(
      await call('bulwark:sources.add', {
        name: 'Docs',
        paths: [e.data],
        exclude: ['*.tmp'],
        rpoMinutes: 15,
      }),
    );
    expect(source).toMatchObject({ name: 'Docs', targetId: 'default', rpoMinutes: 15, exclude: ['*.tmp'] });
    // a source never backed up is queued at once
    await until(
      () => received.some((r) => r.event === 'bulwark:job.state' && r.payload.state === 'succeeded'),
      'the first backup',
    );
    await hosted.service.whenIdle();

    const after = value(await call('bulwark:sources.list', {})).sources[0];
    // backed up, but the only copy is in the data folder, on the same disk: at risk, never green
    expect(after).toMatchObject({
      id: source.id,
      protected: false,
      rpoState: 'ok',
      protection: {
        state: 'at-risk',
        summary: 'At risk: the only copy is on the same disk',
        reasons: [{ code: 'same-disk', fix: { page: 'targets' } }],
      },
    });
    expect(after?.lastSnapshotAt).toMatch(/Z$/);
    const states = received.flatMap((r) => (r.event === 'bulwark:job.state' ? [r.payload.state] : []));
    expect(states).toEqual(['queued', 'running', 'succeeded']);
    expect(received.some((r) => r.event === 'bulwark:job.progress' && r.payload.sourceId === source.id)).toBe(
      true,
    );
    const changed = received.filter((r) => r.event === 'bulwark:source.changed');
    expect(changed.at(-1)?.payload).toMatchObject({
      sourceId: source.id,
      removed: false,
      source: { protected: false, protection: { state: 'at-risk' } },
    });
    const later = value(await call('bulwark:service.status', {}));
    expect(later.rpo).toEqual({ ok: 1, pending: 0, missed: 0 });
    expect(later.overall).toEqual({
      state: 'at-risk',
      headline: 'Docs is at risk: the only copy is on the same disk',
      lastBackupAt: after?.lastSnapshotAt,
      counts: { protected: 0, atRisk: 1, notProtected: 0 },
    });
    // the snapshot list shows the source's name (the repository handlers use hosted.sourceName)
    expect(hosted.sourceName(source.id)).toBe('Docs');

    const jobs = value(await call('bulwark:jobs.list', { sourceId: source.id }));
    expect(jobs.jobs.map((j) => j.state)).toEqual(['succeeded']);
    expect(jobs.history).toMatchObject([{ state: 'succeeded', files: 2, sourceId: source.id }]);

    const updated = value(
      await call('bulwark:sources.update', { sourceId: source.id, name: 'Documents', rpoMinutes: 30 }),
    );
    expect(updated.source).toMatchObject({ name: 'Documents', rpoMinutes: 30, rpoState: 'ok' });

    // one source paused on its own, through the contract: at risk "paused" at once, in the answer and the event
    const pausedOne = value(await call('bulwark:sources.update', { sourceId: source.id, enabled: false }));
    expect(pausedOne.source).toMatchObject({
      enabled: false,
      protected: false,
      protection: {
        state: 'at-risk',
        summary: 'At risk: backups of this folder are paused',
        reasons: [
          { code: 'source-disabled', fix: { page: 'sources', label: 'Resume this folder' } },
          { code: 'same-disk' },
        ],
      },
    });
    expect(received.at(-1)).toMatchObject({
      event: 'bulwark:source.changed',
      payload: { sourceId: source.id, source: { protection: { state: 'at-risk' } } },
    });
    const resumedOne = value(await call('bulwark:sources.update', { sourceId: source.id, enabled: true }));
    expect(resumedOne.source.protection.reasons.map((r) => r.code)).toEqual(['same-disk']);

    // bad requests never reach the service, and say what is wrong in plain words (no channel, no field
    // path); unknown ids come back as typed errors
    expect(await call('bulwark:sources.add', { name: 'X', paths: ['relative/path'] })).toEqual({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message:
          'Give the full path of the folder: it starts with / (or with a drive letter like C:\\ on Windows).',
      },
    });
    expect(await call('bulwark:sources.add', { name: 'X', paths: ['/x'], color: 'red' })).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message: 'This request is not valid.',
        hint: expect.stringMatching(/^bulwark:sources\.add: .*Unrecognized key: "color"/),
      },
    });
    const nowhere = join(e.dir, 'nowhere');
    expect(await call('bulwark:sources.add', { name: 'X', paths: [nowhere] })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', message: `There is no folder ${nowhere} on this computer.` },
    });
    if (process.platform !== 'win32') {
      const windows = await call('bulwark:sources.add', {
        name: 'X',
        paths: ['C:\\Users\\office\\Documents'],
      });
      expect(windows).toMatchObject({
        ok: false,
        error: {
          code: 'INVALID_ARGUMENT',
          message: expect.stringMatching(/^C:\\Users\\office\\Documents is a Windows folder/),
        },
      });
    }
    expect(value(await call('bulwark:sources.list', {})).sources).toHaveLength(1);
    mkdirSync(join(e.data, 'inner'));
    expect(
      await call('bulwark:sources.add', { name: 'Again', paths: [e.data, join(e.data, 'inner')] }),
    ).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/overlap/) },
    });
    expect(await call('bulwark:jobs.runNow', { sourceId: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await call('bulwark:jobs.cancel', { jobId: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });

    expect(value(await call('bulwark:sources.remove', { sourceId: source.id }))).toEqual({
      sourceId: source.id,
    });
    expect(received.at(-1)).toEqual({
      event: 'bulwark:source.changed',
      payload: { sourceId: source.id, removed: true },
    });
    expect(value(await call('bulwark:sources.list', {})).sources).toEqual([]);

    // the Electron shell gets the same handlers through its createHandlers
    const app = createHandlers(
      { name: 'Bulwark', version: '1.0.0', platform: 'linux', versions: { node: '24' } },
      hosted.handlers,
    );
    expect(value(await dispatch(app, 'bulwark:targets.list', {})).targets.map((t) => t.id)).toEqual([
      'default',
    ]);
    expect(await dispatch(app, 'bulwark:repo.info', {})).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED' },
    });
  });

  it('targets.add keeps the password in a 0600 file, never answers it, and a later start uses it', async () => {
    const e = setup();
    const secret = 'a repository password that must never leave';
    const nas = join(e.dir, 'nas');
    {
      const { call } = host(e.home);
      const added = await call('bulwark:targets.add', {
        kind: 'fs',
        path: nas,
        password: secret,
        name: 'NAS',
      });
      const { target } = value(added);
      expect(target).toMatchObject({
        name: 'NAS',
        kind: 'fs',
        location: nas,
        isDefault: false,
        immutability: 'worm-folder',
      });
      expect(target.repositoryId).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.stringify(added)).not.toContain(secret);
      expect(JSON.stringify(await call('bulwark:targets.list', {}))).not.toContain(secret);
      expect(JSON.stringify(await call('bulwark:service.status', {}))).not.toContain(secret);

      const dir = join(e.home, 'config', 'target-secrets');
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const file = join(dir, `${target.id}.json`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ password: secret });
      // the catalog does not hold it
      expect(readFileSync(join(e.home, 'data', 'service.db')).includes(Buffer.from(secret))).toBe(false);

      // the same folder again: refused, nothing kept
      const wrong = await call('bulwark:targets.add', { kind: 'fs', path: nas, password: 'wrong' });
      expect(wrong).toMatchObject({ ok: false, error: { code: 'ALREADY_EXISTS' } });
      const src = await call('bulwark:sources.add', { name: 'Docs', paths: [e.data], targetId: target.id });
      expect(value(src).source.target).toMatchObject({ id: target.id, name: 'NAS' });
    }
    await cleanups.pop()?.(); // stop the first service

    // a new process: the password comes from the secret file
    const { hosted, call } = host(e.home);
    const [src] = value(await call('bulwark:sources.list', {})).sources;
    const { job } = value(await call('bulwark:jobs.runNow', { sourceId: src!.id }));
    expect(job).toMatchObject({ state: 'running', reason: 'manual' });
    expect((await hosted.service.waitForJob(job.id)).state).toBe('SUCCEEDED');

    // nothing at the location and not asked to create a repository: refused
    const copy = join(e.dir, 'elsewhere');
    expect(
      await call('bulwark:targets.add', { kind: 'fs', path: copy, password: secret, initialize: false }),
    ).toMatchObject({ ok: false, error: { code: 'REPO_NOT_FOUND' } });
    // a wrong password for an existing repository is refused and leaves no target or secret behind
    const second = value(
      await call('bulwark:targets.add', { kind: 'fs', path: copy, password: 'right' }),
    ).target;
    value(await call('bulwark:targets.remove', { targetId: second.id }));
    expect(await call('bulwark:targets.add', { kind: 'fs', path: copy, password: 'wrong' })).toMatchObject({
      ok: false,
      error: { code: 'WRONG_PASSWORD' },
    });
    expect(value(await call('bulwark:targets.list', {})).targets).toHaveLength(1);
    expect(readdirSync(join(e.home, 'config', 'target-secrets'))).toHaveLength(1);

    // a target in use cannot go; once its source is removed it can, and its secret goes with it
    const used = value(await call('bulwark:targets.list', {})).targets[0]!;
    expect(await call('bulwark:targets.remove', { targetId: used.id })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    value(await call('bulwark:sources.remove', { sourceId: src!.id }));
    expect(value(await call('bulwark:targets.remove', { targetId: used.id }))).toEqual({ targetId: used.id });
    expect(readdirSync(join(e.home, 'config', 'target-secrets'))).toEqual([]);
  });

  it('pause, resume, cancel and alerts (list, acknowledge, cleared by a good run)', async () => {
    const e = setup();
    const { hosted, call, received } = host(e.home);
    await hosted.prepare();
    const usb = join(e.dir, 'usb');
    mkdirSync(usb);
    value(await call('bulwark:jobs.pauseAll', {}));
    expect(value(await call('bulwark:service.status', {})).paused).toBe(true);
    const { source } = value(await call('bulwark:sources.add', { name: 'USB', paths: [usb] }));
    expect(source.protection.reasons.map((r) => r.code)).toContain('paused');

    // paused: a job waits in the queue, and can be canceled there
    const { job } = value(await call('bulwark:jobs.runNow', { sourceId: source.id }));
    expect(job.state).toBe('queued');
    expect(value(await call('bulwark:jobs.cancel', { jobId: job.id })).job.state).toBe('canceled');
    expect(value(await call('bulwark:jobs.resumeAll', {}))).toEqual({ paused: false });

    // resuming announces every source's fresh status
    const resumed = received.filter((r) => r.event === 'bulwark:source.changed').at(-1);
    expect(resumed?.payload.source?.protection.reasons.map((r) => r.code)).not.toContain('paused');

    // the disk is unplugged: the run fails and raises source-missing (not backup-failed) with what to do
    renameSync(usb, `${usb}-unplugged`);
    const failed = value(await call('bulwark:jobs.runNow', { sourceId: source.id })).job;
    expect((await hosted.service.waitForJob(failed.id)).state).toBe('FAILED');
    const raised = received.find((r) => r.event === 'bulwark:alert.raised');
    expect(raised?.payload).toMatchObject({
      kind: 'source-missing',
      severity: 'error',
      sourceId: source.id,
      active: true,
      fix: { page: 'sources', label: 'Open Sources' },
    });
    const [open] = value(await call('bulwark:alerts.list', { active: true })).alerts;
    expect(open).toMatchObject({ kind: 'source-missing', text: expect.stringContaining('USB') });
    expect(open?.action).toMatch(/Reconnect the disk/);
    // the status changed with the failure: source.changed carried it at once
    const afterFailure = received.filter((r) => r.event === 'bulwark:source.changed').at(-1);
    expect(afterFailure?.payload.source?.protection.state).toBe('not-protected');
    expect(afterFailure?.payload.source?.protection.reasons.map((r) => r.code)).toEqual([
      'service-stopped', // this test never starts the service
      'source-missing',
      'never-backed-up',
    ]);
    const failedState = received.find((r) => r.event === 'bulwark:job.state' && r.payload.state === 'failed');
    expect(failedState?.payload).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const acked = value(await call('bulwark:alerts.acknowledge', { alertId: open!.id })).alert;
    expect(acked).toMatchObject({ active: true, acknowledgedAt: expect.stringMatching(/Z$/) });
    expect(received.some((r) => r.event === 'bulwark:alert.acknowledged')).toBe(true);
    expect(await call('bulwark:alerts.acknowledge', { alertId: 999 })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });

    // the folder is back: a good run clears the alert; it stays in the history
    renameSync(`${usb}-unplugged`, usb);
    writeFileSync(join(usb, 'x.txt'), 'x');
    const good = value(await call('bulwark:jobs.runNow', { sourceId: source.id })).job;
    expect((await hosted.service.waitForJob(good.id)).state).toBe('SUCCEEDED');
    expect(received.some((r) => r.event === 'bulwark:alert.cleared' && r.payload.id === open!.id)).toBe(true);
    expect(value(await call('bulwark:alerts.list', { active: true })).alerts).toEqual([]);
    expect(value(await call('bulwark:alerts.list', { active: false })).alerts.map((a) => a.id)).toEqual([
      open!.id,
    ]);
    // runs are recorded once started: the job canceled in the queue never ran
    const history = value(await call('bulwark:jobs.list', {})).history.map((r) => r.state);
    expect(history).toEqual(['succeeded', 'failed']);
  });
});
