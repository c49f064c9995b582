import { describe, expect, it } from 'vitest';

import { events } from '../../src-main/contract/ipc.ts';
import {
  alertKindSchema,
  alertSchema,
  jobPhaseSchema,
  jobSchema,
  jobStateSchema,
  overallProtectionSchema,
  pageSchema,
  runSummarySchema,
  sourceStatusSchema,
  targetSchema,
  watchModeSchema,
} from '../../src-main/contract/model.ts';
import type { JobInfo, JobState, SourceStatus, Target } from '../../src-main/engine/service/index.ts';
import {
  ALERT_FIX,
  ALERT_KINDS,
  JOB_TRANSITIONS,
  summarizeCopies,
} from '../../src-main/engine/service/index.ts';
import * as adapt from '../../src-main/host/adapt.ts';

const T = Date.UTC(2026, 2, 1, 10, 0, 0);

const engineJob = (extra: Partial<JobInfo> = {}): JobInfo => ({
  id: 'j1',
  kind: 'backup',
  sourceId: 's1',
  targetId: 'default',
  reason: 'watch',
  changes: 1000,
  requests: 1,
  state: 'RUNNING',
  queuedAt: T,
  startedAt: T + 1000,
  finishedAt: null,
  runId: 3,
  snapshotId: null,
  error: null,
  cancelReason: null,
  progress: null,
  restore: null,
  ...extra,
});

describe('engine → contract mapping', () => {
  it('maps every engine job state (and CANCELED by its reason) to a contract state', () => {
    const states = Object.keys(JOB_TRANSITIONS) as JobState[];
    expect(states).toHaveLength(6);
    for (const s of states) expect(jobStateSchema.safeParse(adapt.jobState(s, null)).success, s).toBe(true);
    expect(adapt.jobState('CANCELING', 'user')).toBe('canceling');
    expect(adapt.jobState('CANCELED', 'user')).toBe('canceled');
    expect(adapt.jobState('CANCELED', 'removed')).toBe('canceled');
    expect(adapt.jobState('CANCELED', 'shutdown')).toBe('interrupted');
    expect(adapt.jobState('CANCELED', 'pause')).toBe('interrupted');
    expect(() => adapt.jobState('EXPLODED' as JobState, null)).toThrow(/unmapped job state/);
  });

  it('maps backup phases, watch modes and alert kinds onto the contract enums', () => {
    expect(['scanning', 'uploading', 'committing'].map((p) => adapt.jobPhase(p as 'scanning'))).toEqual([
      'scanning',
      'backing-up',
      'finalizing',
    ]);
    for (const p of ['scanning', 'uploading', 'committing'] as const)
      expect(jobPhaseSchema.safeParse(adapt.jobPhase(p)).success).toBe(true);
    const modes = ['idle', 'starting', 'native', 'polling', 'rescan-only', 'stopped'] as const;
    expect(modes.map(adapt.watchMode)).toEqual(['off', 'starting', 'live', 'polling', 'rescan-only', 'off']);
    for (const m of modes) expect(watchModeSchema.safeParse(adapt.watchMode(m)).success).toBe(true);
    expect([...ALERT_KINDS].sort()).toEqual([...alertKindSchema.options].sort());
    for (const k of ALERT_KINDS) expect(adapt.alertKind(k)).toBe(k);
  });

  it('a job: ISO times, no nulls, progress totals only once the scan is done', () => {
    const scanning = adapt.job(
      engineJob({
        progress: {
          jobId: 'j1',
          sourceId: 's1',
          phase: 'scanning',
          scanDone: false,
          filesDone: 10,
          filesTotal: 40,
          bytesDone: 100,
          bytesTotal: 4000,
          bytesAdded: 50,
          rate: 1000,
          at: T,
        },
      }),
    );
    expect(jobSchema.parse(scanning)).toEqual(scanning);
    expect(scanning).toMatchObject({
      queuedAt: '2026-03-01T10:00:00.000Z',
      startedAt: '2026-03-01T10:00:01.000Z',
      state: 'running',
      progress: { phase: 'scanning', bytesDone: 100, filesDone: 10, sourceId: 's1', bytesAdded: 50 },
    });
    expect(scanning.progress?.bytesTotal).toBeUndefined();
    expect(Object.values(scanning)).not.toContain(null);
    expect('finishedAt' in scanning).toBe(false);

    const uploading = adapt.progress({
      jobId: 'j1',
      sourceId: 's1',
      phase: 'uploading',
      scanDone: true,
      filesDone: 40,
      filesTotal: 40,
      bytesDone: 2000,
      bytesTotal: 4000,
      bytesAdded: 1500,
      rate: 1000,
      etaSeconds: 2,
      currentPath: '/d/x.txt',
      at: T,
    });
    expect(events['bulwark:job.progress'].parse(uploading)).toEqual({
      jobId: 'j1',
      sourceId: 's1',
      phase: 'backing-up',
      bytesDone: 2000,
      bytesTotal: 4000,
      filesDone: 40,
      filesTotal: 40,
      rate: 1000,
      etaSeconds: 2,
      currentPath: '/d/x.txt',
      bytesAdded: 1500,
    });

    const failed = adapt.jobStateEvent({
      job: engineJob({ state: 'FAILED', finishedAt: T + 5000, error: { code: 'NETWORK', message: 'down' } }),
      previous: 'RUNNING',
      at: T + 5000,
    });
    expect(events['bulwark:job.state'].parse(failed)).toEqual({
      jobId: 'j1',
      kind: 'backup',
      state: 'failed',
      at: '2026-03-01T10:00:05.000Z',
      error: { code: 'NETWORK', message: 'down' },
      sourceId: 's1',
      reason: 'watch',
    });
  });

  it('a source status, a target (no secret fields at all), a run and an alert fit the contract', () => {
    const target: Target = {
      id: 't1',
      name: 'Wasabi',
      location: 's3://office/pc-1',
      kind: 's3',
      endpoint: 'https://s3.wasabisys.com',
      region: null,
      bytesPerSecond: null,
      isDefault: false,
      repoId: 'r1',
      lock: { mode: 'COMPLIANCE', days: 30, paddingDays: 10 },
      createdAt: T,
      updatedAt: T,
    };
    expect(targetSchema.parse(adapt.target(target))).toEqual({
      id: 't1',
      name: 'Wasabi',
      kind: 's3',
      location: 's3://office/pc-1',
      endpoint: 'https://s3.wasabisys.com',
      isDefault: false,
      immutability: 'object-lock',
      lock: { mode: 'COMPLIANCE', days: 30 },
      repositoryId: 'r1',
      createdAt: '2026-03-01T10:00:00.000Z',
    });
    expect(adapt.target({ ...target, kind: 'fs', location: '/mnt/nas', lock: null }).immutability).toBe(
      'worm-folder',
    );
    expect(adapt.target({ ...target, lock: null }).immutability).toBe('none');

    const status: SourceStatus = {
      id: 's1',
      name: 'Docs',
      paths: ['/d'],
      include: [],
      exclude: ['*.tmp'],
      targetId: 't1',
      rpoMinutes: 60,
      quietSeconds: 30,
      rescanMinutes: 60,
      retentionTemplateId: null,
      enabled: true,
      drillEveryDays: 7,
      rtoMinutes: 240,
      copyTargetIds: ['t2'],
      lastSuccessAt: null,
      lastSnapshotId: null,
      createdAt: T,
      updatedAt: T,
      target: { id: 't1', name: 'Wasabi', location: 's3://office/pc-1', kind: 's3' },
      protected: false,
      protection: {
        state: 'not-protected',
        summary: 'Not protected: the first backup failed',
        reasons: [
          {
            code: 'last-backup-failed',
            severity: 'at-risk',
            text: 'The first backup of Docs failed.',
            short: 'the first backup failed',
            fix: { page: 'sources', label: 'Back up now' },
          },
          {
            code: 'never-backed-up',
            severity: 'not-protected',
            text: 'Docs has not been backed up yet.',
            short: 'x',
          },
        ],
      },
      rpoState: 'missed',
      lastSnapshotAt: null,
      lastRun: { runId: 2, state: 'failed', startedAt: T, finishedAt: T + 1, error: 'NETWORK: down' },
      nextRunAt: T + 60_000,
      job: engineJob({ state: 'QUEUED', startedAt: null, runId: null }),
      watch: {
        sourceId: 's1',
        mode: 'rescan-only',
        degraded: true,
        since: T,
        lastError: { code: 'ENOSPC', message: 'no watches left' },
        failures: 1,
        nextRetryAt: T + 1000,
        pendingChanges: 0,
        missingRoots: [],
      },
      copies: summarizeCopies([
        {
          targetId: 't1',
          name: 'Wasabi',
          primary: true,
          medium: 'cloud',
          offsite: true,
          newestAt: null,
          lastAttemptAt: null,
          lastError: null,
          behind: false,
        },
        {
          targetId: 't2',
          name: 'NAS',
          primary: false,
          medium: 'nas',
          offsite: false,
          newestAt: T,
          lastAttemptAt: T,
          lastError: null,
          behind: false,
        },
      ]),
    };
    const mapped = adapt.sourceStatus(status);
    expect(sourceStatusSchema.parse(mapped)).toEqual(mapped);
    // 3-2-1: a place counts once it holds a backup; times as ISO strings
    expect(mapped.copyTargetIds).toEqual(['t2']);
    expect(mapped.copies).toMatchObject({ copies: 1, offsite: 0, met: false, media: ['nas'] });
    expect(mapped.copies?.places[1]).toMatchObject({ newestAt: new Date(T).toISOString(), medium: 'nas' });
    expect(mapped.copies?.places[0]?.newestAt).toBeUndefined();
    expect(mapped.copies?.summary).toBe('Only one copy — add an off-site copy');
    expect(mapped.protection).toEqual({
      state: 'not-protected',
      summary: 'Not protected: the first backup failed',
      reasons: [
        {
          code: 'last-backup-failed',
          text: 'The first backup of Docs failed.',
          fix: { page: 'sources', label: 'Back up now' },
        },
        { code: 'never-backed-up', text: 'Docs has not been backed up yet.' },
      ],
    });
    // `protected` follows the decision, whatever the engine's field says
    expect(adapt.sourceStatus({ ...status, protected: true }).protected).toBe(false);
    expect(mapped).toMatchObject({
      rpoState: 'missed',
      protected: false,
      lastRun: { state: 'failed', error: 'NETWORK: down' },
      job: { state: 'queued' },
      watch: { mode: 'rescan-only', degraded: true, error: 'ENOSPC: no watches left' },
    });
    expect('lastSnapshotAt' in mapped).toBe(false);
    expect('retentionTemplateId' in mapped).toBe(false);

    const r = adapt.run({
      runId: 5,
      kind: 'backup',
      sourceId: 's1',
      state: 'succeeded',
      startedAt: T,
      finishedAt: T + 2000,
      snapshotId: 'snap',
      error: null,
      stats: {
        reason: 'watch',
        changes: 1000,
        snapshot: { files: 20000, filesNew: 0, filesChanged: 1000, bytesAdded: 7 },
      },
    });
    expect(runSummarySchema.parse(r)).toEqual({
      runId: 5,
      sourceId: 's1',
      state: 'succeeded',
      startedAt: '2026-03-01T10:00:00.000Z',
      finishedAt: '2026-03-01T10:00:02.000Z',
      snapshotId: 'snap',
      reason: 'watch',
      files: 20000,
      filesChanged: 1000,
      bytesAdded: 7,
    });
    // stats from an older process that does not look as expected are left out, not trusted
    expect(
      adapt.run({
        ...{
          runId: 6,
          kind: 'backup',
          sourceId: null,
          state: 'interrupted',
          startedAt: T,
          finishedAt: null,
          snapshotId: null,
          error: null,
        },
        stats: { reason: 'bogus', snapshot: { files: -1 } },
      }),
    ).toEqual({
      runId: 6,
      state: 'interrupted',
      startedAt: '2026-03-01T10:00:00.000Z',
    });

    const a = adapt.alert({
      id: 1,
      kind: 'watch-degraded',
      severity: 'warning',
      sourceId: 's1',
      targetId: null,
      text: 'Docs: live watching is not available',
      action: null,
      fix: { page: 'sources', label: 'Open Sources' },
      raisedAt: T,
      lastSeenAt: T,
      count: 1,
      clearedAt: null,
      acknowledgedAt: null,
      active: true,
    });
    expect(alertSchema.parse(a)).toEqual({
      id: 1,
      kind: 'watch-degraded',
      severity: 'warning',
      sourceId: 's1',
      text: 'Docs: live watching is not available',
      fix: { page: 'sources', label: 'Open Sources' },
      raisedAt: '2026-03-01T10:00:00.000Z',
      lastSeenAt: '2026-03-01T10:00:00.000Z',
      count: 1,
      active: true,
    });
  });

  it('the overall protection: ISO time, counts, the contract enums', () => {
    const o = adapt.overall({
      state: 'at-risk',
      headline: '1 of 2 folders at risk: Docs — the last backup failed',
      lastBackupAt: T,
      counts: { protected: 1, atRisk: 1, notProtected: 0 },
    });
    expect(overallProtectionSchema.parse(o)).toEqual({
      state: 'at-risk',
      headline: '1 of 2 folders at risk: Docs — the last backup failed',
      lastBackupAt: '2026-03-01T10:00:00.000Z',
      counts: { protected: 1, atRisk: 1, notProtected: 0 },
    });
    expect('lastBackupAt' in adapt.overall({ ...o, lastBackupAt: null })).toBe(false);
    for (const p of ['overview', 'restore', 'sources', 'targets', 'alerts', 'settings'] as const)
      expect(pageSchema.parse(adapt.page(p))).toBe(p);
    expect(() => adapt.page('elsewhere' as 'overview')).toThrow(/unmapped page/);
    // every alert kind links to a page of the app
    for (const k of ALERT_KINDS) expect(pageSchema.safeParse(ALERT_FIX[k].page).success, k).toBe(true);
  });

  it('reads the source id out of a snapshot source key the service wrote', () => {
    expect(adapt.sourceIdOfKey('service:1234')).toBe('1234');
    expect(adapt.sourceIdOfKey('service:')).toBeUndefined();
    expect(adapt.sourceIdOfKey('office-pc:/home/ann')).toBeUndefined();
  });
});
