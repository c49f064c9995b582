import { describe, expect, it } from 'vitest';

import type { SnapshotSummary } from '../../src-main/contract/model.ts';
import { err, ok } from '../../src-main/contract/result.ts';
import { snapshotsSelectors as sel } from '../../src-renderer/src/stores/snapshots/selectors.ts';
import { createSnapshotsStore } from '../../src-renderer/src/stores/snapshots/store.ts';
import { fakeClient } from './fake-client.ts';

function snap(id: string, time: string, bytesAdded = 100): SnapshotSummary {
  return {
    id,
    time,
    host: 'office-pc',
    source: 'Documents',
    paths: ['/home/ann/Documents'],
    stats: { files: 3, dirs: 1, bytes: 1000, bytesAdded, errors: 0 },
  };
}

function setup() {
  const { client, calls } = fakeClient();
  const store = createSnapshotsStore(() => client);
  const answer = (index: number, result: Parameters<(typeof calls)[number]['resolve']>[0]) =>
    calls[index]?.resolve(result);
  return { store, calls, answer };
}

describe('useSnapshotsStore', () => {
  it('starts idle and empty, and is not "empty" before it has loaded', () => {
    const { store } = setup();
    const s = store.getState();
    expect(sel.status(s)).toBe('idle');
    expect(sel.count(s)).toBe(0);
    expect(sel.isEmpty(s)).toBe(false);
    expect(sel.isInitialLoading(s)).toBe(false);
    expect(sel.latest(s)).toBeUndefined();
  });

  it('load: loading, then ready with the snapshots newest first', async () => {
    const { store, calls, answer } = setup();
    const done = store.getState().load({ limit: 50 });
    expect(calls.map((c) => [c.channel, c.request])).toEqual([['bulwark:snapshots.list', { limit: 50 }]]);
    expect(sel.status(store.getState())).toBe('loading');
    expect(sel.isInitialLoading(store.getState())).toBe(true);

    answer(
      0,
      ok({
        snapshots: [
          snap('a', '2026-01-01T08:00:00Z', 10),
          snap('c', '2026-03-01T08:00:00Z', 30),
          snap('b', '2026-02-01T08:00:00+01:00', 20),
        ],
      }),
    );
    await done;
    const s = store.getState();
    expect(sel.status(s)).toBe('ready');
    expect(sel.items(s).map((x) => x.id)).toEqual(['c', 'b', 'a']);
    expect(sel.latest(s)?.id).toBe('c');
    expect(sel.count(s)).toBe(3);
    expect(sel.totalBytesAdded(s)).toBe(60);
    expect(sel.isEmpty(s)).toBe(false);
    expect(sel.error(s)).toBeUndefined();
  });

  it('an empty repository is "empty", not loading and not an error', async () => {
    const { store, answer } = setup();
    const done = store.getState().load();
    answer(0, ok({ snapshots: [] }));
    await done;
    expect(sel.isEmpty(store.getState())).toBe(true);
    expect(sel.isInitialLoading(store.getState())).toBe(false);
  });

  it('an error Result is kept with its code and hint; a reload clears it', async () => {
    const { store, answer } = setup();
    let done = store.getState().load();
    answer(0, err('REPO_NOT_FOUND', 'no repository', 'Connect a target first.'));
    await done;
    expect(sel.status(store.getState())).toBe('error');
    expect(sel.error(store.getState())).toEqual({
      code: 'REPO_NOT_FOUND',
      message: 'no repository',
      hint: 'Connect a target first.',
    });

    done = store.getState().load();
    expect(sel.error(store.getState())).toBeUndefined();
    answer(1, ok({ snapshots: [snap('a', '2026-01-01T08:00:00Z')] }));
    await done;
    expect(sel.status(store.getState())).toBe('ready');
  });

  it('a reload keeps showing the previous list (not the initial spinner)', async () => {
    const { store, answer } = setup();
    const first = store.getState().load();
    answer(0, ok({ snapshots: [snap('a', '2026-01-01T08:00:00Z')] }));
    await first;
    void store.getState().load();
    expect(sel.status(store.getState())).toBe('loading');
    expect(sel.isInitialLoading(store.getState())).toBe(false);
    expect(sel.count(store.getState())).toBe(1);
  });

  it('ignores the answer of a load that a newer load superseded, whatever the arrival order', async () => {
    const { store, answer } = setup();
    const older = store.getState().load();
    const newer = store.getState().load();
    answer(1, ok({ snapshots: [snap('new', '2026-02-01T08:00:00Z')] }));
    await newer;
    answer(0, ok({ snapshots: [snap('old', '2026-01-01T08:00:00Z')] }));
    await older;
    expect(sel.items(store.getState()).map((x) => x.id)).toEqual(['new']);
  });

  it('reset returns to the initial state and drops an answer still in flight', async () => {
    const { store, answer } = setup();
    const done = store.getState().load();
    store.getState().reset();
    answer(0, ok({ snapshots: [snap('a', '2026-01-01T08:00:00Z')] }));
    await done;
    expect(sel.status(store.getState())).toBe('idle');
    expect(sel.count(store.getState())).toBe(0);
  });

  it('selectors return the same reference while the state does not change', async () => {
    const { store, answer } = setup();
    const done = store.getState().load();
    answer(0, ok({ snapshots: [snap('a', '2026-01-01T08:00:00Z')] }));
    await done;
    const s = store.getState();
    expect(sel.items(s)).toBe(sel.items(store.getState()));
    expect(sel.latest(s)).toBe(sel.latest(store.getState()));
  });
});
