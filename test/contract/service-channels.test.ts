import { describe, expect, it } from 'vitest';

import { channels, events, type ChannelName } from '../../src-main/contract/ipc.ts';
import {
  alertSchema,
  sourceStatusSchema,
  type Alert,
  type Job,
  type SourceStatus,
  type Target,
} from '../../src-main/contract/model.ts';
import { checkRequest } from '../../src-main/contract/validation.ts';

// The service channels of the contract (issue 6): what each request schema accepts and refuses, and that
// the answers and events are plain JSON with the contract's enums.

const at = '2026-03-01T10:00:00.000Z';
const accepts = (c: ChannelName, v: unknown) => channels[c].request.safeParse(v).success;

const source: SourceStatus = {
  id: 's1',
  name: 'Accounting',
  paths: ['/srv/accounting'],
  include: [],
  exclude: ['*.tmp'],
  targetId: 'default',
  rpoMinutes: 60,
  quietSeconds: 30,
  rescanMinutes: 60,
  enabled: true,
  createdAt: at,
  target: { id: 'default', name: 'This computer', kind: 'fs', location: '/var/lib/bulwark/repository' },
  protected: true,
  protection: { state: 'protected', summary: 'Protected', reasons: [] },
  rpoState: 'ok',
  lastSnapshotAt: at,
  lastSnapshotId: 'snap',
  lastRun: { runId: 3, sourceId: 's1', state: 'succeeded', startedAt: at, finishedAt: at },
  nextRunAt: at,
  watch: { mode: 'live', degraded: false, pendingChanges: 0 },
};

const job: Job = {
  id: 'j1',
  kind: 'backup',
  sourceId: 's1',
  targetId: 'default',
  reason: 'watch',
  state: 'running',
  changes: 1000,
  queuedAt: at,
  startedAt: at,
  progress: { jobId: 'j1', sourceId: 's1', phase: 'backing-up', bytesDone: 10, filesDone: 1, rate: 5 },
};

const target: Target = {
  id: 'default',
  name: 'This computer',
  kind: 'fs',
  location: '/var/lib/bulwark/repository',
  isDefault: true,
  immutability: 'worm-folder',
  createdAt: at,
};

const alert: Alert = {
  id: 4,
  kind: 'rpo-missed',
  severity: 'warning',
  sourceId: 's1',
  text: 'Accounting was last backed up 2 h ago.',
  action: 'Choose "Back up now".',
  raisedAt: at,
  lastSeenAt: at,
  count: 2,
  active: true,
};

describe('service channels: requests', () => {
  it('no-argument channels take {} and nothing else', () => {
    for (const c of [
      'bulwark:service.status',
      'bulwark:sources.list',
      'bulwark:targets.list',
      'bulwark:jobs.pauseAll',
      'bulwark:jobs.resumeAll',
    ] as const) {
      expect(accepts(c, {}), c).toBe(true);
      expect(accepts(c, { all: true }), c).toBe(false);
      expect(accepts(c, undefined), c).toBe(false);
    }
  });

  it('sources.add: a name and absolute paths; the rest optional and bounded; nothing unknown', () => {
    const c = 'bulwark:sources.add';
    expect(accepts(c, { name: 'Docs', paths: ['/home/ann/Docs'] })).toBe(true);
    expect(
      accepts(c, {
        name: 'Accounting',
        paths: ['C:\\Users\\ann\\Accounting', 'D:/Scans', '\\\\nas\\share\\office'],
        exclude: ['*.tmp', 'node_modules'],
        include: ['*.pdf'],
        targetId: 'default',
        rpoMinutes: 15,
        quietSeconds: 1,
        rescanMinutes: 120,
        enabled: false,
      }),
    ).toBe(true);
    for (const bad of [
      { paths: ['/d'] },
      { name: '   ', paths: ['/d'] },
      { name: 'Docs', paths: [] },
      { name: 'Docs', paths: ['Documents'] },
      { name: 'Docs', paths: ['./Documents'] },
      { name: 'Docs', paths: ['/d\0/x'] },
      { name: 'Docs', paths: ['/d'], rpoMinutes: 0 },
      { name: 'Docs', paths: ['/d'], quietSeconds: -1 },
      { name: 'Docs', paths: ['/d'], exclude: [''] },
      { name: 'Docs', paths: ['/d'], retentionTemplateId: 'x' },
      { name: 'Docs', paths: ['/d'], id: 'mine' },
    ])
      expect(accepts(c, bad), JSON.stringify(bad)).toBe(false);
  });

  it('sources.update needs the source id; sources.remove takes only it', () => {
    expect(accepts('bulwark:sources.update', { sourceId: 's1', rpoMinutes: 30 })).toBe(true);
    expect(accepts('bulwark:sources.update', { sourceId: 's1', enabled: false, paths: ['/x'] })).toBe(true);
    expect(accepts('bulwark:sources.update', { rpoMinutes: 30 })).toBe(false);
    expect(accepts('bulwark:sources.update', { sourceId: 's1', paths: ['rel'] })).toBe(false);
    expect(accepts('bulwark:sources.update', { sourceId: 's1', lastSuccessAt: 0 })).toBe(false);
    expect(accepts('bulwark:sources.remove', { sourceId: 's1' })).toBe(true);
    expect(accepts('bulwark:sources.remove', { sourceId: '' })).toBe(false);
    expect(accepts('bulwark:sources.remove', { sourceId: 's1', force: true })).toBe(false);
  });

  it('targets.add: a folder or an S3 bucket, always with the repository password', () => {
    const c = 'bulwark:targets.add';
    expect(accepts(c, { kind: 'fs', path: '/mnt/nas/backups', password: 'pw' })).toBe(true);
    expect(accepts(c, { kind: 'fs', path: '/mnt/nas', password: 'pw', name: 'NAS', initialize: false })).toBe(
      true,
    );
    expect(
      accepts(c, {
        kind: 's3',
        bucket: 'office-backups',
        prefix: 'pc-1',
        endpoint: 'https://s3.eu-central-1.wasabisys.com',
        region: 'eu-central-1',
        accessKeyId: 'AKIA',
        secretAccessKey: 'secret',
        password: 'pw',
        objectLock: { mode: 'COMPLIANCE', days: 30 },
        bytesPerSecond: 1_000_000,
      }),
    ).toBe(true);
    expect(accepts(c, { kind: 's3', bucket: 'office-backups', password: 'pw' })).toBe(true);
    for (const bad of [
      { kind: 'fs', path: '/mnt/nas' },
      { kind: 'fs', path: 'relative', password: 'pw' },
      { kind: 'fs', path: '/mnt/nas', password: 'pw', endpoint: 'http://x' },
      { kind: 'ftp', path: '/mnt/nas', password: 'pw' },
      { kind: 's3', bucket: 'Bad_Bucket', password: 'pw' },
      { kind: 's3', bucket: 'ok-bucket', password: 'pw', prefix: '../other' },
      { kind: 's3', bucket: 'ok-bucket', password: 'pw', endpoint: 'file:///etc' },
      { kind: 's3', bucket: 'ok-bucket', password: 'pw', accessKeyId: 'AKIA' },
      { kind: 's3', bucket: 'ok-bucket', password: 'pw', objectLock: { mode: 'STRICT', days: 30 } },
      { kind: 's3', bucket: 'ok-bucket', password: 'pw', objectLock: { mode: 'COMPLIANCE', days: 0 } },
      { kind: 's3', location: 's3://ok-bucket', password: 'pw' },
    ])
      expect(accepts(c, bad), JSON.stringify(bad)).toBe(false);
    expect(accepts('bulwark:targets.remove', { targetId: 't' })).toBe(true);
    expect(accepts('bulwark:targets.remove', {})).toBe(false);
  });

  it('jobs and alerts channels take their ids and bounded options', () => {
    expect(accepts('bulwark:jobs.list', {})).toBe(true);
    expect(accepts('bulwark:jobs.list', { sourceId: 's1', historyLimit: 0 })).toBe(true);
    expect(accepts('bulwark:jobs.list', { historyLimit: 5000 })).toBe(false);
    expect(accepts('bulwark:jobs.runNow', { sourceId: 's1' })).toBe(true);
    expect(accepts('bulwark:jobs.runNow', {})).toBe(false);
    expect(accepts('bulwark:jobs.cancel', { jobId: 'j1' })).toBe(true);
    expect(accepts('bulwark:jobs.cancel', { jobId: 1 })).toBe(false);
    expect(accepts('bulwark:alerts.list', { active: true, limit: 10, sourceId: 's1' })).toBe(true);
    expect(accepts('bulwark:alerts.list', { active: 'yes' })).toBe(false);
    expect(accepts('bulwark:alerts.acknowledge', { alertId: 4 })).toBe(true);
    expect(accepts('bulwark:alerts.acknowledge', { alertId: '4' })).toBe(false);
    expect(accepts('bulwark:alerts.acknowledge', { alertId: 0 })).toBe(false);
  });
});

describe('service channels: answers and events', () => {
  it('service.status carries the overall answer, sources, targets, pause, RPO counts and job counts', () => {
    const value = {
      overall: {
        state: 'protected',
        headline: '1 folder protected',
        lastBackupAt: at,
        counts: { protected: 1, atRisk: 0, notProtected: 0 },
      },
      started: true,
      paused: false,
      sources: [source],
      targets: [target],
      rpo: { ok: 1, pending: 0, missed: 0 },
      activeAlerts: 1,
      jobs: { running: 1, queued: 0 },
    };
    const schema = channels['bulwark:service.status'].response;
    expect(schema.parse(JSON.parse(JSON.stringify(value)))).toEqual(value);
    expect(schema.safeParse({ ...value, rpo: { ok: 1 } }).success).toBe(false);
    expect(schema.safeParse({ ...value, overall: { ...value.overall, state: 'green' } }).success).toBe(false);
    const { overall: _overall, ...withoutOverall } = value;
    expect(schema.safeParse(withoutOverall).success).toBe(false);
    expect(schema.safeParse({ ...value, sources: [{ ...source, rpoState: 'late' }] }).success).toBe(false);
  });

  it('a target never carries a secret: unknown fields are dropped on the way out', () => {
    const schema = channels['bulwark:targets.add'].response;
    const leaked = { target: { ...target, password: 'pw', secretAccessKey: 'k' } };
    const parsed = schema.parse(leaked);
    expect(JSON.stringify(parsed)).not.toMatch(/password|secretAccessKey/);
    expect(parsed.target).toEqual(target);
  });

  it('jobs: the contract states include canceling and interrupted; progress phases are the contract ones', () => {
    const schema = channels['bulwark:jobs.list'].response;
    const value = { paused: true, jobs: [job, { ...job, id: 'j2', state: 'canceling' }], history: [] };
    expect(schema.safeParse(value).success).toBe(true);
    expect(schema.safeParse({ ...value, jobs: [{ ...job, state: 'RUNNING' }] }).success).toBe(false);
    expect(
      schema.safeParse({ ...value, jobs: [{ ...job, progress: { ...job.progress, phase: 'uploading' } }] })
        .success,
    ).toBe(false);
  });

  it('events: job.state with source and snapshot, alerts, source.changed', () => {
    expect(
      events['bulwark:job.state'].safeParse({
        jobId: 'j1',
        kind: 'backup',
        state: 'interrupted',
        at,
        sourceId: 's1',
        reason: 'resume',
        snapshotId: 'snap',
      }).success,
    ).toBe(true);
    expect(
      events['bulwark:job.state'].safeParse({ jobId: 'j1', kind: 'backup', state: 'paused', at }).success,
    ).toBe(false);
    for (const e of [
      'bulwark:alert.raised',
      'bulwark:alert.cleared',
      'bulwark:alert.acknowledged',
    ] as const) {
      expect(events[e].safeParse(alert).success, e).toBe(true);
      expect(events[e].safeParse({ ...alert, severity: 'fatal' }).success, e).toBe(false);
      expect(events[e].safeParse({ ...alert, raisedAt: 1_700_000_000_000 }).success, e).toBe(false);
    }
    expect(events['bulwark:source.changed'].safeParse({ sourceId: 's1', removed: true }).success).toBe(true);
    expect(
      events['bulwark:source.changed'].safeParse({ sourceId: 's1', removed: false, source }).success,
    ).toBe(true);
    expect(events['bulwark:source.changed'].safeParse({ sourceId: 's1' }).success).toBe(false);
  });
});

describe('protection, pages and folders', () => {
  it('a source status carries its protection; reasons and alerts link to a page of the app', () => {
    const atRisk = {
      ...source,
      protected: false,
      protection: {
        state: 'at-risk',
        summary: 'At risk: the last backup failed',
        reasons: [
          {
            code: 'last-backup-failed',
            text: 'The last backup of Accounting failed.',
            fix: { page: 'sources', label: 'Back up now' },
          },
        ],
      },
    };
    expect(sourceStatusSchema.safeParse(atRisk).success).toBe(true);
    const { protection: _p, ...without } = source;
    expect(sourceStatusSchema.safeParse(without).success).toBe(false);
    const badPage = { ...atRisk.protection.reasons[0], fix: { page: 'terminal', label: 'x' } };
    expect(
      sourceStatusSchema.safeParse({ ...atRisk, protection: { ...atRisk.protection, reasons: [badPage] } })
        .success,
    ).toBe(false);
    const missing = {
      ...alert,
      kind: 'source-missing',
      severity: 'error',
      fix: { page: 'sources', label: 'Open Sources' },
    };
    expect(alertSchema.safeParse(missing).success).toBe(true);
  });

  it('fs.folders takes an absolute path or nothing', () => {
    const c = 'bulwark:fs.folders';
    expect(accepts(c, {})).toBe(true);
    expect(accepts(c, { path: '/home/office' })).toBe(true);
    expect(accepts(c, { path: 'C:\\Users' })).toBe(true);
    expect(accepts(c, { path: 'home' })).toBe(false);
    expect(accepts(c, { path: '/x', hidden: true })).toBe(false);
  });
});

describe('refusals in plain words (contract/validation.ts)', () => {
  const add = channels['bulwark:sources.add'].request;

  it('the fields a person fills in say what to do, without the channel or the field path', () => {
    const cases: [unknown, string][] = [
      [
        { name: 'Docs', paths: ['Documents'] },
        'Give the full path of the folder: it starts with / (or with a drive letter like C:\\ on Windows).',
      ],
      [{ name: '  ', paths: ['/d'] }, 'Give the folder a name.'],
      [{ name: 'Docs', paths: [] }, 'Choose at least one folder.'],
      [{ name: 'Docs' }, 'Choose at least one folder.'],
      [
        { name: 'Docs', paths: ['/d'], rpoMinutes: 0 },
        'The longest time without a backup must be more than 0 minutes.',
      ],
      [{ name: 'Docs', paths: ['/d'], quietSeconds: -1 }, 'The wait after a change cannot be negative.'],
      [{ name: 'Docs', paths: ['/d'], exclude: [''] }, 'A pattern cannot be empty.'],
    ];
    for (const [request, message] of cases) {
      const r = checkRequest(add, request);
      expect(r, JSON.stringify(request)).toMatchObject({ ok: false, plain: true, message });
      if (!r.ok) expect(r.message).not.toMatch(/bulwark:|paths\.0|expected/);
    }
    const bucket = checkRequest(channels['bulwark:targets.add'].request, {
      kind: 's3',
      bucket: 'Bad_Bucket',
      password: 'pw',
    });
    expect(bucket).toMatchObject({
      ok: false,
      plain: true,
      message: expect.stringMatching(/^A bucket name/),
    });
    const keys = checkRequest(channels['bulwark:targets.add'].request, {
      kind: 's3',
      bucket: 'ok-bucket',
      password: 'pw',
      accessKeyId: 'AKIA',
    });
    expect(keys).toMatchObject({ message: 'Give both the access key and the secret key, or neither.' });
  });

  it('anything else is told generically, with the technical detail apart', () => {
    const r = checkRequest(add, { name: 'Docs', paths: ['/d'], id: 'mine' });
    expect(r).toMatchObject({ ok: false, plain: false, message: 'This request is not valid.' });
    expect(r.ok ? '' : r.detail).toMatch(/Unrecognized key: "id"/);
    const typed = checkRequest(channels['bulwark:jobs.cancel'].request, { jobId: 1 });
    expect(typed).toMatchObject({ plain: false, detail: expect.stringMatching(/^jobId: .*expected string/) });
    expect(checkRequest(add, { name: 'Docs', paths: ['/d'] })).toEqual({
      ok: true,
      value: { name: 'Docs', paths: ['/d'] },
    });
  });
});
