import { describe, expect, it } from 'vitest';

import type {
  FileVersion,
  FindResult,
  Job,
  SnapshotEntry,
  SnapshotSummary,
} from '../../src-main/contract/model.ts';
import { err, ok } from '../../src-main/contract/result.ts';
import {
  breadcrumbs,
  createBrowseSelectors,
  createBrowseStore,
  parentOf,
} from '../../src-renderer/src/stores/restore/browse.ts';
import { createFindStore, findSelectors } from '../../src-renderer/src/stores/restore/find.ts';
import { createFlowStore, flowSelectors } from '../../src-renderer/src/stores/restore/flow.ts';
import { createPreviewStore } from '../../src-renderer/src/stores/restore/preview.ts';
import { fakeClient } from './fake-client.ts';

const at = '2026-03-01T10:00:00.000Z';
const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function version(snapshotId: string, firstSeen: string, extra: Partial<FileVersion> = {}): FileVersion {
  return {
    snapshotId,
    firstSnapshotId: snapshotId,
    firstSeen,
    path: 'docs/a.txt',
    originalPath: '/home/ann/docs/a.txt',
    size: 10,
    mtime: firstSeen,
    ...extra,
  };
}

function result(name: string, versions: FileVersion[], deleted = false): FindResult {
  return {
    sourceId: 's1',
    sourceName: 'Office',
    path: `docs/${name}`,
    originalPath: `/home/ann/docs/${name}`,
    name,
    versions,
    deleted,
  };
}

function snapshot(id: string, time: string): SnapshotSummary {
  return {
    id,
    time,
    host: 'pc',
    source: 'Office',
    sourceId: 's1',
    paths: ['/home/ann/docs'],
    stats: { files: 3, dirs: 1, bytes: 30, bytesAdded: 30, errors: 0 },
  };
}

const entry = (i: number): SnapshotEntry => ({
  name: `file-${i}.txt`,
  path: `big/file-${i}.txt`,
  type: 'file',
  size: i,
});

describe('find a file', () => {
  it('searches, sorts files newest first, ignores an older answer; an empty query clears', async () => {
    const { client, calls } = fakeClient();
    const store = createFindStore(() => client);
    const first = store.getState().search('inv');
    const second = store.getState().search(' invoice ');
    expect(calls[1]?.request).toEqual({ query: 'invoice', limit: 200 });
    calls[1]?.resolve(
      ok({
        results: [
          result('old.txt', [version('a', '2026-01-01T00:00:00Z')]),
          result('new.txt', [version('c', '2026-03-01T00:00:00Z'), version('b', '2026-02-01T00:00:00Z')]),
          result(
            'gone.txt',
            [version('a', '2026-01-15T00:00:00Z', { lastSeen: '2026-02-15T00:00:00Z', endedBy: 'deleted' })],
            true,
          ),
        ],
        truncated: true,
      }),
    );
    calls[0]?.resolve(ok({ results: [result('stale.txt', [])], truncated: false }));
    await Promise.all([first, second]);
    const s = store.getState();
    expect(findSelectors.query(s)).toBe('invoice');
    expect(findSelectors.results(s).map((r) => r.name)).toEqual(['new.txt', 'gone.txt', 'old.txt']);
    expect(findSelectors.truncated(s)).toBe(true);

    await store.getState().search('   ');
    expect(findSelectors.status(store.getState())).toBe('idle');
    expect(calls).toHaveLength(2);
  });

  it('loads the full version timeline of one file; a channel that does not exist yet is an error state', async () => {
    const { client, calls } = fakeClient();
    const store = createFindStore(() => client);
    const search = store.getState().search('a.txt');
    calls[0]?.resolve(ok({ results: [result('a.txt', [version('c', at)])], truncated: false }));
    await search;
    const loading = store.getState().loadVersions('s1', 'docs/a.txt');
    expect(findSelectors.versions('s1', 'docs/a.txt')(store.getState())?.status).toBe('loading');
    expect(calls[1]).toMatchObject({
      channel: 'bulwark:restore.versions',
      request: { sourceId: 's1', path: 'docs/a.txt' },
    });
    calls[1]?.resolve(ok({ versions: [version('c', at), version('b', '2026-02-01T00:00:00Z')] }));
    await loading;
    expect(findSelectors.versions('s1', 'docs/a.txt')(store.getState())?.items).toHaveLength(2);

    const unsupported = store.getState().search('x');
    calls[2]?.resolve(err('UNSUPPORTED', 'bulwark:restore.find is not available here'));
    await unsupported;
    expect(findSelectors.status(store.getState())).toBe('error');
    expect(findSelectors.error(store.getState())?.code).toBe('UNSUPPORTED');
    expect(findSelectors.results(store.getState())).toEqual([]);
  });
});

describe('browse a point in time', () => {
  it('source → its snapshots (newest first) → the root folder, page 0', async () => {
    const { client, calls } = fakeClient();
    const store = createBrowseStore(() => client, { pageSize: 100 });
    const choosing = store.getState().chooseSource('s1');
    expect(calls[0]).toMatchObject({ channel: 'bulwark:snapshots.list', request: { sourceId: 's1' } });
    calls[0]?.resolve(ok({ snapshots: [snapshot('old', '2026-01-01T00:00:00Z'), snapshot('new', at)] }));
    await choosing;
    expect(store.getState().snapshots.items.map((s) => s.id)).toEqual(['new', 'old']);

    const opening = store.getState().chooseSnapshot('new');
    expect(store.getState().folder.status).toBe('loading');
    expect(calls[1]).toMatchObject({
      channel: 'bulwark:restore.browse',
      request: { sourceId: 's1', snapshotId: 'new', path: '', offset: 0, limit: 100 },
    });
    calls[1]?.resolve(ok({ path: '', total: 2, offset: 0, entries: [entry(0), entry(1)] }));
    await opening;
    const sel = createBrowseSelectors(100);
    expect(sel.total(store.getState())).toBe(2);
    expect(sel.entryAt(1)(store.getState())?.name).toBe('file-1.txt');
    expect(sel.snapshot(store.getState())?.id).toBe('new');
  });

  it('a folder of 100 000 entries: scrolling to the end loads only the pages in view, far pages are dropped', async () => {
    const { client, calls } = fakeClient();
    const store = createBrowseStore(() => client, { pageSize: 200, maxPages: 3 });
    store.setState({ sourceId: 's1', snapshotId: 'new' });
    const opening = store.getState().open('big');
    calls[0]?.resolve(
      ok({
        path: 'big',
        total: 100_000,
        offset: 0,
        entries: Array.from({ length: 200 }, (_, i) => entry(i)),
      }),
    );
    await opening;

    // the end of the list is in view: only its last page is asked for
    store.getState().ensureRange(99_980, 99_999);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.request).toMatchObject({ path: 'big', offset: 99_800, limit: 200 });
    // asked again while on its way: not asked twice
    store.getState().ensureRange(99_990, 99_999);
    expect(calls).toHaveLength(2);
    calls[1]?.resolve(
      ok({
        path: 'big',
        total: 100_000,
        offset: 99_800,
        entries: Array.from({ length: 200 }, (_, i) => entry(99_800 + i)),
      }),
    );
    await flush();
    const sel = createBrowseSelectors(200);
    expect(sel.entryAt(99_999)(store.getState())?.name).toBe('file-99999.txt');

    // a range over two pages asks for both; with 3 pages kept the farthest (page 0) goes
    store.getState().ensureRange(50_150, 50_250);
    expect(calls.slice(2).map((c) => (c.request as { offset: number }).offset)).toEqual([50_000, 50_200]);
    calls[2]?.resolve(ok({ path: 'big', total: 100_000, offset: 50_000, entries: [entry(50_000)] }));
    calls[3]?.resolve(ok({ path: 'big', total: 100_000, offset: 50_200, entries: [entry(50_200)] }));
    await flush();
    expect(
      Object.keys(store.getState().folder.pages)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([250, 251, 499]);
    expect(sel.entryAt(0)(store.getState())).toBeUndefined();
  });

  it('an answer for a folder left meanwhile is ignored; a failed page can be retried', async () => {
    const { client, calls } = fakeClient();
    const store = createBrowseStore(() => client, { pageSize: 10 });
    store.setState({ sourceId: 's1', snapshotId: 'new' });
    const a = store.getState().open('a');
    const b = store.getState().open('b');
    calls[1]?.resolve(ok({ path: 'b', total: 30, offset: 0, entries: [entry(1)] }));
    calls[0]?.resolve(ok({ path: 'a', total: 5, offset: 0, entries: [entry(9)] }));
    await Promise.all([a, b]);
    expect(store.getState().folder).toMatchObject({ path: 'b', total: 30 });

    store.getState().ensureRange(10, 19);
    calls[2]?.resolve(err('REPO_DAMAGED', 'pack missing'));
    await flush();
    expect(store.getState().folder.pageErrors[1]?.code).toBe('REPO_DAMAGED');
    // a failed page is not asked for again by scrolling, only by "Try again"
    store.getState().ensureRange(10, 19);
    expect(calls).toHaveLength(3);
    const retry = store.getState().retryPage(1);
    calls[3]?.resolve(ok({ path: 'b', total: 30, offset: 10, entries: [entry(10)] }));
    await retry;
    expect(store.getState().folder.pageErrors[1]).toBeUndefined();
    expect(store.getState().folder.pages[1]).toHaveLength(1);
  });

  it('the first page failing is the folder failing (wrong password, unreachable)', async () => {
    const { client, calls } = fakeClient();
    const store = createBrowseStore(() => client);
    store.setState({ sourceId: 's1', snapshotId: 'new' });
    const opening = store.getState().open('');
    calls[0]?.resolve(err('WRONG_PASSWORD', 'cannot open the repository'));
    await opening;
    expect(store.getState().folder).toMatchObject({ status: 'error', error: { code: 'WRONG_PASSWORD' } });
  });

  it('selection: toggle, all loaded, cleared when another folder opens', async () => {
    const { client, calls } = fakeClient();
    const store = createBrowseStore(() => client);
    store.setState({ sourceId: 's1', snapshotId: 'new' });
    const opening = store.getState().open('docs');
    calls[0]?.resolve(ok({ path: 'docs', total: 3, offset: 0, entries: [entry(0), entry(1), entry(2)] }));
    await opening;
    const sel = createBrowseSelectors();
    store.getState().toggle(entry(1));
    expect(sel.isSelected('big/file-1.txt')(store.getState())).toBe(true);
    store.getState().toggle(entry(1));
    expect(sel.selectedCount(store.getState())).toBe(0);
    store.getState().setAllLoaded(true);
    expect(sel.selectedCount(store.getState())).toBe(3);
    void store.getState().open('docs/sub');
    expect(sel.selectedCount(store.getState())).toBe(0);
  });

  it('breadcrumbs and parents', () => {
    expect(breadcrumbs('')).toEqual([]);
    expect(breadcrumbs('a/b')).toEqual([
      { name: 'a', path: 'a' },
      { name: 'b', path: 'a/b' },
    ]);
    expect(parentOf('a/b/c')).toBe('a/b');
    expect(parentOf('a')).toBe('');
  });
});

describe('preview', () => {
  it('shows the newest file asked for; download returns a link or the error', async () => {
    const { client, calls } = fakeClient();
    const store = createPreviewStore(() => client);
    const ref = { sourceId: 's1', snapshotId: 'n', path: 'a.txt', name: 'a.txt' };
    const first = store.getState().open({ ...ref, path: 'b.txt', name: 'b.txt' });
    const second = store.getState().open(ref);
    calls[1]?.resolve(
      ok({ name: 'a.txt', size: 5, kind: 'text', mime: 'text/plain', text: 'hello', truncated: false }),
    );
    calls[0]?.resolve(
      ok({ name: 'b.txt', size: 5, kind: 'text', mime: 'text/plain', text: 'stale', truncated: false }),
    );
    await Promise.all([first, second]);
    expect(store.getState().value?.text).toBe('hello');

    const dl = store.getState().download(ref);
    calls[2]?.resolve(ok({ url: '/api/download/x', name: 'a.txt', expiresAt: at }));
    expect(await dl).toEqual({ url: '/api/download/x', name: 'a.txt' });
    const refused = store.getState().download(ref);
    calls[3]?.resolve(err('UNSUPPORTED', 'no'));
    expect(await refused).toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('the restore dialog', () => {
  const plan = {
    planId: 'p1',
    destination: '/restore/here',
    items: [
      {
        path: 'a.txt',
        destination: '/restore/here/a.txt',
        type: 'file' as const,
        action: 'conflict' as const,
        size: 5,
        existing: { size: 3, mtime: at },
      },
      {
        path: 'b.txt',
        destination: '/restore/here/b.txt',
        type: 'file' as const,
        action: 'create' as const,
        size: 5,
      },
    ],
    totals: { files: 2, bytes: 10, create: 1, identical: 0, conflicts: 1 },
    truncated: false,
  };
  const job = (state: Job['state'], extra: Partial<Job> = {}): Job => ({
    id: 'r1',
    kind: 'restore',
    sourceId: 's1',
    reason: 'manual',
    state,
    changes: 0,
    queuedAt: at,
    ...extra,
  });

  it('destination → plan (nothing written) → policy → start → progress → summary from the job', async () => {
    const { client, calls } = fakeClient();
    const store = createFlowStore(() => client);
    store.getState().begin({ sourceId: 's1', snapshotId: 'n', paths: ['a.txt', 'b.txt'], label: '2 items' });
    expect(flowSelectors.step(store.getState())).toBe('destination');
    store.getState().setDestination({ kind: 'folder', path: '' });
    expect(flowSelectors.canPlan(store.getState())).toBe(false);
    store.getState().setDestination({ kind: 'folder', path: ' /restore/here ' });
    expect(flowSelectors.canPlan(store.getState())).toBe(true);

    const planning = store.getState().makePlan();
    expect(flowSelectors.step(store.getState())).toBe('planning');
    expect(calls[0]).toMatchObject({
      channel: 'bulwark:restore.plan',
      request: {
        sourceId: 's1',
        snapshotId: 'n',
        paths: ['a.txt', 'b.txt'],
        destination: { kind: 'folder', path: '/restore/here' },
      },
    });
    calls[0]?.resolve(ok(plan));
    await planning;
    expect(flowSelectors.step(store.getState())).toBe('review');
    expect(flowSelectors.hasConflicts(store.getState())).toBe(true);
    // the safe default: keep both
    expect(flowSelectors.policy(store.getState())).toBe('keep-both');
    store.getState().setPolicy('if-newer');

    const starting = store.getState().start();
    expect(calls[1]).toMatchObject({
      channel: 'bulwark:restore.start',
      request: { planId: 'p1', onConflict: 'if-newer' },
    });
    calls[1]?.resolve(ok({ job: job('queued') }));
    await starting;
    expect(flowSelectors.step(store.getState())).toBe('running');

    store
      .getState()
      .applyProgress({ jobId: 'other', phase: 'restoring', bytesDone: 1, filesDone: 1, rate: 1 });
    expect(flowSelectors.progress(store.getState())).toBeUndefined();
    store.getState().applyProgress({
      jobId: 'r1',
      phase: 'restoring',
      bytesDone: 5,
      bytesTotal: 10,
      filesDone: 1,
      rate: 2e6,
      etaSeconds: 3,
    });
    expect(flowSelectors.progress(store.getState())?.bytesDone).toBe(5);

    store.getState().applyState({ jobId: 'r1', kind: 'restore', state: 'succeeded', at });
    expect(flowSelectors.step(store.getState())).toBe('done');
    expect(calls[2]?.channel).toBe('bulwark:jobs.list');
    const summary = {
      restored: 1,
      skipped: 1,
      failed: 0,
      bytes: 5,
      keptBoth: 0,
      failures: [],
      destination: '/restore/here',
    };
    calls[2]?.resolve(ok({ paused: false, jobs: [job('succeeded', { restore: summary })], history: [] }));
    await flush();
    expect(flowSelectors.summary(store.getState())).toEqual(summary);
    store.getState().close();
    expect(flowSelectors.isOpen(store.getState())).toBe(false);
  });

  it('a failed plan goes back to the destination with the error; cancel asks jobs.cancel', async () => {
    const { client, calls } = fakeClient();
    const store = createFlowStore(() => client);
    store.getState().begin({ sourceId: 's1', snapshotId: 'n', paths: [''], label: 'everything in Office' });
    const planning = store.getState().makePlan();
    expect(calls[0]?.request).toMatchObject({ paths: [''], destination: { kind: 'original' } });
    calls[0]?.resolve(err('UNSUPPORTED', 'bulwark:restore.plan is not available here'));
    await planning;
    expect(flowSelectors.step(store.getState())).toBe('destination');
    expect(flowSelectors.error(store.getState())?.code).toBe('UNSUPPORTED');

    const again = store.getState().makePlan();
    calls[1]?.resolve(ok(plan));
    await again;
    const starting = store.getState().start();
    calls[2]?.resolve(ok({ job: job('running') }));
    await starting;
    store.getState().hide();
    expect(flowSelectors.isOpen(store.getState())).toBe(false);
    expect(flowSelectors.hidden(store.getState())).toBe(true);
    const canceling = store.getState().cancel();
    expect(calls[3]).toMatchObject({ channel: 'bulwark:jobs.cancel', request: { jobId: 'r1' } });
    calls[3]?.resolve(ok({ job: job('canceling') }));
    await canceling;
    store.getState().applyState({ jobId: 'r1', kind: 'restore', state: 'canceled', at });
    expect(flowSelectors.step(store.getState())).toBe('done');
    expect(flowSelectors.jobState(store.getState())).toBe('canceled');
  });

  it('a refused start stays on the plan with the reason', async () => {
    const { client, calls } = fakeClient();
    const store = createFlowStore(() => client);
    store.getState().begin({ sourceId: 's1', snapshotId: 'n', paths: ['a.txt'], label: 'a.txt' });
    const planning = store.getState().makePlan();
    calls[0]?.resolve(ok(plan));
    await planning;
    const starting = store.getState().start();
    calls[1]?.resolve(err('NO_SPACE', 'disk full'));
    await starting;
    expect(flowSelectors.step(store.getState())).toBe('review');
    expect(flowSelectors.error(store.getState())?.code).toBe('NO_SPACE');
  });

  it('a restore that is done before restore.start answers is shown as done (its event came first)', async () => {
    const { client, calls } = fakeClient();
    const store = createFlowStore(() => client);
    store.getState().begin({ sourceId: 's1', snapshotId: 'n', paths: ['a.txt'], label: 'a.txt' });
    const planning = store.getState().makePlan();
    calls[0]?.resolve(ok(plan));
    await planning;
    const starting = store.getState().start();
    // the event socket is faster than the answer: the job is over before its id is known here
    store.getState().applyState({ jobId: 'other', kind: 'backup', state: 'succeeded', at });
    store.getState().applyState({ jobId: 'r1', kind: 'restore', state: 'succeeded', at });
    expect(flowSelectors.step(store.getState())).toBe('starting');
    calls[1]?.resolve(ok({ job: job('running') }));
    await starting;
    expect(flowSelectors.step(store.getState())).toBe('done');
    expect(flowSelectors.jobState(store.getState())).toBe('succeeded');
    // and the summary is read from the job
    expect(calls[2]?.channel).toBe('bulwark:jobs.list');
  });
});
