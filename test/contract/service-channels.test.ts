import { describe, expect, it } from 'vitest';

import { channels, events, type ChannelName } from '../../src-main/contract/ipc.ts';
import type { Alert, Job, SourceStatus, Target } from '../../src-main/contract/model.ts';

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
  it('service.status carries sources, targets, pause, RPO counts and job counts', () => {
    const value = {
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
