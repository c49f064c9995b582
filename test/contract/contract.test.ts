import { describe, expect, expectTypeOf, it } from 'vitest';

import type { ErrorCode as EngineErrorCode } from '../../src-main/engine/errors.ts';
import { BulwarkError } from '../../src-main/engine/errors.ts';
import { CHANNEL_PREFIX, channelNames, channels, eventNames, events } from '../../src-main/contract/ipc.ts';
import { snapshotSummarySchema } from '../../src-main/contract/model.ts';
import {
  err,
  errorCodes,
  ok,
  resultSchema,
  toResultError,
  type ErrorCode as ContractErrorCode,
} from '../../src-main/contract/result.ts';

describe('Result envelope', () => {
  it('has exactly the error codes of the engine (checked by tsc)', () => {
    expectTypeOf<ContractErrorCode>().toEqualTypeOf<EngineErrorCode>();
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
  });

  it('keeps the code, message and hint of an engine error', () => {
    const e = new BulwarkError('NO_SPACE', 'target full', { hint: 'free some space' });
    expect(toResultError(e)).toEqual({ code: 'NO_SPACE', message: 'target full', hint: 'free some space' });
    expect(toResultError(new BulwarkError('CANCELED', 'stopped'))).toEqual({
      code: 'CANCELED',
      message: 'stopped',
    });
  });

  it('turns anything else into INTERNAL with a generic message', () => {
    for (const thrown of [new Error('ENOENT /secret'), { code: 'ENOENT', message: 'x' }, 'text', null, 42]) {
      expect(toResultError(thrown)).toEqual({ code: 'INTERNAL', message: 'unexpected internal error' });
    }
  });

  it('resultSchema accepts ok and error envelopes and rejects anything else', () => {
    const schema = resultSchema(channels['bulwark:snapshots.list'].response);
    expect(schema.safeParse(ok({ snapshots: [] })).success).toBe(true);
    expect(schema.safeParse(err('LOCKED', 'locked', 'wait')).success).toBe(true);
    expect(schema.safeParse({ ok: true, value: { snapshots: 'none' } }).success).toBe(false);
    expect(schema.safeParse({ ok: false, error: { code: 'EACCES', message: 'x' } }).success).toBe(false);
    expect(schema.safeParse({ ok: false, error: 'boom' }).success).toBe(false);
  });
});

describe('IPC contract', () => {
  it('prefixes every channel and event with bulwark: and keeps the two name sets apart', () => {
    for (const name of [...channelNames, ...eventNames]) expect(name.startsWith(CHANNEL_PREFIX)).toBe(true);
    expect(channelNames.filter((n) => (eventNames as readonly string[]).includes(n))).toEqual([]);
    expect(channelNames).toEqual(Object.keys(channels));
    expect(eventNames).toEqual(Object.keys(events));
  });

  it('declares the repository and service channels and events', () => {
    expect([...channelNames].sort()).toEqual([
      'bulwark:alerts.acknowledge',
      'bulwark:alerts.list',
      'bulwark:app.version',
      'bulwark:audit.list',
      'bulwark:drills.list',
      'bulwark:drills.report',
      'bulwark:drills.run',
      'bulwark:fs.folders',
      'bulwark:fs.pickFolder',
      'bulwark:jobs.cancel',
      'bulwark:jobs.list',
      'bulwark:jobs.pauseAll',
      'bulwark:jobs.resumeAll',
      'bulwark:jobs.runNow',
      'bulwark:maintenance.checkLocks',
      'bulwark:maintenance.pausePrune',
      'bulwark:maintenance.resumePrune',
      'bulwark:maintenance.status',
      'bulwark:notifications.get',
      'bulwark:notifications.test',
      'bulwark:notifications.update',
      'bulwark:repo.info',
      'bulwark:restore.browse',
      'bulwark:restore.download',
      'bulwark:restore.find',
      'bulwark:restore.plan',
      'bulwark:restore.preview',
      'bulwark:restore.start',
      'bulwark:restore.versions',
      'bulwark:retention.get',
      'bulwark:retention.preview',
      'bulwark:retention.set',
      'bulwark:service.status',
      'bulwark:signals.canaries',
      'bulwark:signals.list',
      'bulwark:signals.resolve',
      'bulwark:snapshots.legalHold',
      'bulwark:snapshots.list',
      'bulwark:sources.add',
      'bulwark:sources.list',
      'bulwark:sources.remove',
      'bulwark:sources.update',
      'bulwark:stats.storage',
      'bulwark:targets.add',
      'bulwark:targets.connect',
      'bulwark:targets.list',
      'bulwark:targets.remove',
      'bulwark:targets.test',
    ]);
    expect([...eventNames].sort()).toEqual([
      'bulwark:alert.acknowledged',
      'bulwark:alert.cleared',
      'bulwark:alert.raised',
      'bulwark:job.progress',
      'bulwark:job.state',
      'bulwark:source.changed',
    ]);
  });

  it('request schemas refuse unknown fields (inputs are validated at the boundary)', () => {
    expect(channels['bulwark:app.version'].request.safeParse({}).success).toBe(true);
    expect(channels['bulwark:app.version'].request.safeParse({ path: '/etc' }).success).toBe(false);
    expect(channels['bulwark:snapshots.list'].request.safeParse({ limit: 10, source: 'Docs' }).success).toBe(
      true,
    );
    expect(channels['bulwark:snapshots.list'].request.safeParse({ limit: -1 }).success).toBe(false);
  });

  it('model values are plain JSON: timestamps are ISO strings', () => {
    const snap = {
      id: 's1',
      time: '2026-03-01T10:00:00Z',
      host: 'h',
      source: 'Docs',
      paths: ['/d'],
      stats: { files: 1, dirs: 0, bytes: 1, bytesAdded: 1, errors: 0 },
      retainUntil: '2027-03-01T10:00:00.000+01:00',
    };
    expect(snapshotSummarySchema.parse(JSON.parse(JSON.stringify(snap)))).toEqual(snap);
    expect(snapshotSummarySchema.safeParse({ ...snap, time: new Date() }).success).toBe(false);
    expect(snapshotSummarySchema.safeParse({ ...snap, stats: { ...snap.stats, files: -1 } }).success).toBe(
      false,
    );
  });
});
