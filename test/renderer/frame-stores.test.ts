import { describe, expect, it } from 'vitest';

import type { ResponseOf } from '../../src-main/contract/ipc.ts';
import type { Target } from '../../src-main/contract/model.ts';
import { err, ok } from '../../src-main/contract/result.ts';
import { createLinkMonitor, monitoredFetch, type LinkSignal } from '../../src-renderer/src/api/link.ts';
import {
  createConnectionStore,
  connectionSelectors as conn,
} from '../../src-renderer/src/stores/connection/store.ts';
import { createFolderPickerStore } from '../../src-renderer/src/stores/folders/store.ts';
import { createNotifyStore, MAX_TOASTS } from '../../src-renderer/src/stores/notify/store.ts';
import { createRouterStore, pageFromHash } from '../../src-renderer/src/stores/router/store.ts';
import { createServiceStore, serviceSelectors } from '../../src-renderer/src/stores/service/store.ts';
import { createTargetsStore, targetsSelectors } from '../../src-renderer/src/stores/targets/store.ts';
import { createThemeStore, THEME_STORAGE_KEY } from '../../src-renderer/src/stores/theme/store.ts';
import { fakeClient } from './fake-client.ts';

const at = '2026-03-01T10:00:00.000Z';

function status(state: 'protected' | 'at-risk' | 'not-protected'): ResponseOf<'bulwark:service.status'> {
  return {
    overall: {
      state,
      headline: 'All 1 folder protected',
      counts: { protected: 1, atRisk: 0, notProtected: 0 },
    },
    started: true,
    paused: false,
    sources: [],
    targets: [],
    rpo: { ok: 1, pending: 0, missed: 0 },
    activeAlerts: 0,
    jobs: { running: 0, queued: 0 },
  };
}

describe('connection (the "connection lost" banner)', () => {
  it('is lost as soon as the socket drops, and back only when it is open again', () => {
    const store = createConnectionStore(() => 1000);
    const apply = (s: LinkSignal) => store.getState().apply(s);
    expect(conn.status(store.getState())).toBe('starting');
    apply({ kind: 'socket', state: 'connecting' });
    apply({ kind: 'socket', state: 'open' });
    expect(conn.status(store.getState())).toBe('online');

    apply({ kind: 'socket', state: 'waiting' });
    expect(conn.isLost(store.getState())).toBe(true);
    expect(conn.lostAt(store.getState())).toBe(1000);
    // a call that reaches the service is not enough while the events do not flow
    apply({ kind: 'call', reached: true });
    expect(conn.isLost(store.getState())).toBe(true);
    apply({ kind: 'socket', state: 'connecting' });
    expect(conn.isLost(store.getState())).toBe(true);
    apply({ kind: 'socket', state: 'open' });
    expect(conn.status(store.getState())).toBe('online');
    expect(conn.recoveries(store.getState())).toBe(1);
    expect(conn.lostAt(store.getState())).toBeUndefined();
  });

  it('a call that cannot reach the service is lost too; the next answer clears it', () => {
    const store = createConnectionStore();
    store.getState().apply({ kind: 'socket', state: 'open' });
    store.getState().apply({ kind: 'call', reached: false });
    expect(conn.isLost(store.getState())).toBe(true);
    store.getState().apply({ kind: 'call', reached: true });
    expect(conn.status(store.getState())).toBe('online');
    expect(conn.recoveries(store.getState())).toBe(1);
  });

  it('monitoredFetch reports a refused fetch as not reached, any HTTP answer as reached', async () => {
    const monitor = createLinkMonitor();
    const seen: LinkSignal[] = [];
    monitor.subscribe((s) => seen.push(s));
    const refused = monitoredFetch(() => Promise.reject(new TypeError('Failed to fetch')), monitor);
    await expect(refused('http://x/api/a')).rejects.toThrow('Failed to fetch');
    const answered = monitoredFetch(() => Promise.resolve(new Response('{}', { status: 401 })), monitor);
    expect((await answered('http://x/api/a')).status).toBe(401);
    monitor.emit({ kind: 'socket', state: 'waiting' });
    expect(seen).toEqual([
      { kind: 'call', reached: false },
      { kind: 'call', reached: true },
      { kind: 'socket', state: 'waiting' },
    ]);
    expect(monitor.lastSocketState()).toBe('waiting');
  });
});

describe('service.status (the overall answer)', () => {
  it('loads the overall answer; a newer load wins; reloadSoon merges bursts', async () => {
    const { client, calls } = fakeClient();
    const timers: (() => void)[] = [];
    const store = createServiceStore(() => client, { setTimer: (fn) => timers.push(fn), now: () => 5 });
    const first = store.getState().load();
    const second = store.getState().load();
    calls[1]?.resolve(ok(status('at-risk')));
    calls[0]?.resolve(ok(status('protected')));
    await Promise.all([first, second]);
    expect(serviceSelectors.overall(store.getState())?.state).toBe('at-risk');
    expect(store.getState().receivedAt).toBe(5);

    store.getState().reloadSoon();
    store.getState().reloadSoon();
    store.getState().reloadSoon();
    expect(timers).toHaveLength(1);
    timers[0]?.();
    expect(calls).toHaveLength(3);
    calls[2]?.resolve(err('NETWORK', 'down'));
    await Promise.resolve();
    await Promise.resolve();
    // an error keeps the last answer (the connection state greys it out), and says so
    expect(serviceSelectors.status(store.getState())).toBe('error');
    expect(serviceSelectors.overall(store.getState())?.state).toBe('at-risk');
  });
});

describe('targets', () => {
  it('lists the built-in target first, then by name', async () => {
    const { client, calls } = fakeClient();
    const store = createTargetsStore(() => client);
    const target = (id: string, name: string, isDefault = false): Target => ({
      id,
      name,
      kind: 'fs',
      location: `/t/${id}`,
      isDefault,
      immutability: 'worm-folder',
      createdAt: at,
    });
    const loading = store.getState().load();
    expect(targetsSelectors.isInitialLoading(store.getState())).toBe(true);
    calls[0]?.resolve(
      ok({
        targets: [target('b', 'Zeta NAS'), target('c', 'Alpha'), target('default', 'This computer', true)],
      }),
    );
    await loading;
    expect(targetsSelectors.items(store.getState()).map((t) => t.id)).toEqual(['default', 'c', 'b']);
    expect(targetsSelectors.target('c')(store.getState())?.name).toBe('Alpha');
  });
});

describe('theme', () => {
  function fakeRoot() {
    const attrs = new Map<string, string>();
    return {
      attrs,
      setAttribute: (k: string, v: string) => void attrs.set(k, v),
      removeAttribute: (k: string) => void attrs.delete(k),
    };
  }

  it('follows the system by default, keeps a manual choice in storage and on <html>', () => {
    const data = new Map<string, string>();
    const storage = {
      getItem: (k: string) => data.get(k) ?? null,
      setItem: (k: string, v: string) => void data.set(k, v),
    };
    const root = fakeRoot();
    const store = createThemeStore(storage, root);
    expect(store.getState().preference).toBe('system');
    expect(root.attrs.has('data-theme')).toBe(false);
    store.getState().setPreference('dark');
    expect(root.attrs.get('data-theme')).toBe('dark');
    expect(data.get(THEME_STORAGE_KEY)).toBe('dark');
    // the next page load starts dark
    const again = createThemeStore(storage, fakeRoot());
    expect(again.getState().preference).toBe('dark');
    store.getState().setPreference('system');
    expect(root.attrs.has('data-theme')).toBe(false);
  });

  it('ignores junk in storage and a storage that throws', () => {
    const throwing = {
      getItem: () => {
        throw new Error('blocked');
      },
      setItem: () => {
        throw new Error('blocked');
      },
    };
    const store = createThemeStore(throwing, fakeRoot());
    expect(store.getState().preference).toBe('system');
    store.getState().setPreference('light');
    expect(store.getState().preference).toBe('light');
    const junk = createThemeStore({ getItem: () => 'purple', setItem: () => {} }, fakeRoot());
    expect(junk.getState().preference).toBe('system');
  });
});

describe('router', () => {
  it('reads the page from the fragment; anything else is the overview', () => {
    expect(pageFromHash('#/sources')).toBe('sources');
    expect(pageFromHash('#/restore/anything')).toBe('restore');
    expect(pageFromHash('')).toBe('overview');
    expect(pageFromHash('#token=abc')).toBe('overview');
    expect(pageFromHash('#/nope')).toBe('overview');
  });

  it('navigates by writing the fragment; Back (hashchange) follows', () => {
    const location = { hash: '' };
    const store = createRouterStore(location);
    store.getState().navigate('alerts');
    expect(location.hash).toBe('#/alerts');
    expect(store.getState().page).toBe('alerts');
    const visit = store.getState().visit;
    store.getState().syncFromHash('#/overview');
    expect(store.getState().page).toBe('overview');
    expect(store.getState().visit).toBe(visit + 1);
    store.getState().syncFromHash('#/overview');
    expect(store.getState().visit).toBe(visit + 1);
  });
});

describe('notifications', () => {
  it('keeps a few toasts, dismisses them after a while; announcements repeat', () => {
    const timers: (() => void)[] = [];
    const store = createNotifyStore({ setTimer: (fn) => timers.push(fn) });
    for (let i = 0; i < MAX_TOASTS + 2; i++) store.getState().toast(`t${i}`);
    expect(store.getState().toasts.map((t) => t.text)).toEqual(['t2', 't3', 't4']);
    timers[4]?.();
    expect(store.getState().toasts.map((t) => t.text)).toEqual(['t2', 't3']);
    store.getState().announce('New alert');
    const first = store.getState().announcement?.seq;
    store.getState().announce('New alert');
    expect(store.getState().announcement?.seq).not.toBe(first);
  });
});

describe('folder picker', () => {
  it('starts with the places, opens folders, keeps the places, reports UNSUPPORTED', async () => {
    const { client, calls } = fakeClient();
    const store = createFolderPickerStore(() => client);
    const start = store.getState().open();
    expect(calls[0]?.request).toEqual({});
    calls[0]?.resolve(ok({ folders: [], places: [{ label: 'Home', path: '/home/ann' }], truncated: false }));
    await start;
    expect(store.getState()).toMatchObject({ status: 'ready', path: undefined, places: [{ label: 'Home' }] });

    const open = store.getState().open('/home/ann');
    calls[1]?.resolve(
      ok({
        path: '/home/ann',
        parent: '/home',
        folders: [{ name: 'Docs', path: '/home/ann/Docs' }],
        places: [],
        truncated: false,
      }),
    );
    await open;
    expect(store.getState()).toMatchObject({
      path: '/home/ann',
      parent: '/home',
      places: [{ label: 'Home' }],
    });

    const refused = store.getState().open('/x');
    calls[2]?.resolve(err('UNSUPPORTED', 'bulwark:fs.folders is not available here'));
    await refused;
    expect(store.getState().error?.code).toBe('UNSUPPORTED');
  });
});
