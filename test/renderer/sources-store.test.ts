import { describe, expect, it } from 'vitest';

import type { Job, SourceStatus } from '../../src-main/contract/model.ts';
import { err, ok } from '../../src-main/contract/result.ts';
import { sourcesSelectors as sel } from '../../src-renderer/src/stores/sources/selectors.ts';
import { createSourcesStore } from '../../src-renderer/src/stores/sources/store.ts';
import { fakeClient } from './fake-client.ts';

const at = '2026-03-01T10:00:00.000Z';

function source(id: string, extra: Partial<SourceStatus> = {}): SourceStatus {
  return {
    id,
    name: `Source ${id}`,
    paths: [`/data/${id}`],
    include: [],
    exclude: [],
    targetId: 'default',
    rpoMinutes: 60,
    quietSeconds: 30,
    rescanMinutes: 60,
    enabled: true,
    createdAt: at,
    protected: false,
    protection: {
      state: 'not-protected',
      summary: 'Not protected: not backed up yet',
      reasons: [{ code: 'never-backed-up', text: 'It has not been backed up yet.' }],
    },
    rpoState: 'pending',
    ...extra,
  };
}

function setup() {
  const { client, calls } = fakeClient();
  return { store: createSourcesStore(() => client), calls };
}

describe('useSourcesStore', () => {
  it('load: loading, then the sources; empty only once loaded', async () => {
    const { store, calls } = setup();
    expect(sel.isEmpty(store.getState())).toBe(false);
    const loading = store.getState().load();
    expect(sel.isInitialLoading(store.getState())).toBe(true);
    calls[0]?.resolve(ok({ sources: [] }));
    await loading;
    expect(sel.isEmpty(store.getState())).toBe(true);

    const again = store.getState().load();
    calls[1]?.resolve(ok({ sources: [source('a', { protected: true, rpoState: 'ok' }), source('b')] }));
    await again;
    const s = store.getState();
    expect(sel.count(s)).toBe(2);
    expect(sel.protectedCount(s)).toBe(1);
    expect(sel.nameOf('b')(s)).toBe('Source b');
    expect(sel.nameOf(undefined)(s)).toBeUndefined();
  });

  it('load: an error is kept with its code; an older answer is ignored', async () => {
    const { store, calls } = setup();
    const first = store.getState().load();
    const second = store.getState().load();
    calls[1]?.resolve(err('NETWORK', 'cannot reach the Bulwark service'));
    calls[0]?.resolve(ok({ sources: [source('late')] }));
    await Promise.all([first, second]);
    expect(sel.status(store.getState())).toBe('error');
    expect(sel.error(store.getState())?.code).toBe('NETWORK');
    expect(sel.count(store.getState())).toBe(0);
  });

  it('add: refuses a relative path before calling the service, then adds a valid source', async () => {
    const { store, calls } = setup();
    expect(await store.getState().add({ name: 'Docs', paths: ['Documents'] })).toBe(false);
    expect(calls).toHaveLength(0);
    expect(sel.adding(store.getState())).toBe('error');
    expect(sel.addError(store.getState())).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/full path of the folder/),
    });

    const adding = store.getState().add({ name: 'Docs', paths: ['/home/ann/Docs'], rpoMinutes: 15 });
    expect(sel.adding(store.getState())).toBe('saving');
    expect(calls[0]?.request).toEqual({ name: 'Docs', paths: ['/home/ann/Docs'], rpoMinutes: 15 });
    calls[0]?.resolve(ok({ source: source('new', { name: 'Docs', rpoMinutes: 15 }) }));
    expect(await adding).toBe(true);
    expect(sel.adding(store.getState())).toBe('idle');
    expect(sel.source('new')(store.getState())?.rpoMinutes).toBe(15);

    const refused = store.getState().add({ name: 'Docs', paths: ['/home/ann/Docs'] });
    calls[1]?.resolve(err('INVALID_ARGUMENT', 'source paths overlap', 'Give each folder once'));
    expect(await refused).toBe(false);
    expect(sel.addError(store.getState())?.hint).toBe('Give each folder once');
    store.getState().clearAddError();
    expect(sel.adding(store.getState())).toBe('idle');
  });

  it('runNow and remove mark the source busy; a failure is kept per source', async () => {
    const { store, calls } = setup();
    const loading = store.getState().load();
    calls[0]?.resolve(ok({ sources: [source('a'), source('b')] }));
    await loading;

    const running = store.getState().runNow('a');
    expect(sel.busy('a')(store.getState())).toBe('run');
    expect(calls[1]?.channel).toBe('bulwark:jobs.runNow');
    calls[1]?.resolve(
      ok({
        job: {
          id: 'j1',
          kind: 'backup',
          sourceId: 'a',
          reason: 'manual',
          state: 'queued',
          changes: 0,
          queuedAt: at,
        },
      }),
    );
    await running;
    expect(sel.busy('a')(store.getState())).toBeUndefined();
    expect(sel.source('a')(store.getState())?.job?.id).toBe('j1');

    const removing = store.getState().remove('b');
    calls[2]?.resolve(err('NOT_FOUND', 'no source b'));
    await removing;
    expect(sel.actionError('b')(store.getState())?.code).toBe('NOT_FOUND');
    expect(sel.count(store.getState())).toBe(2);

    const again = store.getState().remove('b');
    expect(sel.actionError('b')(store.getState())).toBeUndefined();
    calls[3]?.resolve(ok({ sourceId: 'b' }));
    await again;
    expect(sel.items(store.getState()).map((s) => s.id)).toEqual(['a']);
  });

  it('applyChanged: adds, replaces and removes sources from source.changed events', () => {
    const { store } = setup();
    store.getState().applyChanged({ sourceId: 'a', removed: false, source: source('a') });
    store.getState().applyChanged({
      sourceId: 'a',
      removed: false,
      source: source('a', { protected: true, rpoState: 'ok', lastSnapshotAt: at }),
    });
    expect(sel.source('a')(store.getState())).toMatchObject({ protected: true, lastSnapshotAt: at });
    expect(sel.count(store.getState())).toBe(1);
    store.getState().applyChanged({ sourceId: 'a', removed: true });
    expect(sel.count(store.getState())).toBe(0);
  });
  it('load: what events and answers changed while the list was on its way is not taken back by it', async () => {
    const { store, calls } = setup();
    const first = store.getState().load();
    calls[0]?.resolve(ok({ sources: [source('a'), source('b')] }));
    await first;

    // The service computes the list, then a source is added and its backup starts, then b is removed:
    // the events arrive before the list does.
    const loading = store.getState().load();
    const job: Job = {
      id: 'j1',
      kind: 'backup',
      sourceId: 'new',
      reason: 'manual',
      state: 'running',
      changes: 0,
      queuedAt: at,
    };
    store.getState().applyChanged({ sourceId: 'new', removed: false, source: source('new') });
    store.getState().applyChanged({ sourceId: 'new', removed: false, source: source('new', { job }) });
    store.getState().applyChanged({ sourceId: 'b', removed: true });
    calls[1]?.resolve(ok({ sources: [source('a', { rpoState: 'ok' }), source('b')] }));
    await loading;
    const s = store.getState();
    expect(s.items.map((x) => x.id)).toEqual(['a', 'new']);
    expect(s.items.find((x) => x.id === 'new')?.job).toMatchObject({ id: 'j1', state: 'running' });
    expect(s.items.find((x) => x.id === 'a')?.rpoState).toBe('ok'); // the list's own news kept

    // once the list is in, later changes are no longer replayed on the next one
    store.getState().applyChanged({ sourceId: 'a', removed: true });
    const again = store.getState().load();
    calls[2]?.resolve(ok({ sources: [source('a')] }));
    await again;
    expect(store.getState().items.map((x) => x.id)).toEqual(['a']);
  });

  it('update: changes a source (the form gets the error); refuses a relative folder before calling', async () => {
    const { store, calls } = setup();
    store.getState().applyChanged({ sourceId: 'a', removed: false, source: source('a') });
    expect(await store.getState().update({ sourceId: 'a', paths: ['Documents'] })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/full path of the folder/),
    });
    expect(calls).toHaveLength(0);

    const saving = store.getState().update({ sourceId: 'a', name: 'Office', rpoMinutes: 240 });
    expect(sel.busy('a')(store.getState())).toBe('update');
    expect(calls[0]).toMatchObject({
      channel: 'bulwark:sources.update',
      request: { sourceId: 'a', name: 'Office', rpoMinutes: 240 },
    });
    calls[0]?.resolve(ok({ source: source('a', { name: 'Office', rpoMinutes: 240 }) }));
    expect(await saving).toBeUndefined();
    expect(sel.source('a')(store.getState())).toMatchObject({ name: 'Office', rpoMinutes: 240 });

    const refused = store.getState().update({ sourceId: 'a', name: 'X' });
    calls[1]?.resolve(err('NOT_FOUND', 'no source a'));
    expect(await refused).toMatchObject({ code: 'NOT_FOUND' });
    // the form shows it; the row does not
    expect(sel.actionError('a')(store.getState())).toBeUndefined();
  });

  it('setEnabled: pauses and resumes one source', async () => {
    const { store, calls } = setup();
    store.getState().applyChanged({ sourceId: 'a', removed: false, source: source('a') });
    const pausing = store.getState().setEnabled('a', false);
    expect(sel.busy('a')(store.getState())).toBe('pause');
    expect(calls[0]?.request).toEqual({ sourceId: 'a', enabled: false });
    calls[0]?.resolve(ok({ source: source('a', { enabled: false }) }));
    await pausing;
    expect(sel.source('a')(store.getState())?.enabled).toBe(false);
    const resuming = store.getState().setEnabled('a', true);
    expect(sel.busy('a')(store.getState())).toBe('resume');
    calls[1]?.resolve(err('LOCKED', 'busy'));
    await resuming;
    expect(sel.actionError('a')(store.getState())?.code).toBe('LOCKED');
  });
});
