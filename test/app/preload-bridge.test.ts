import { describe, expect, it, vi } from 'vitest';

import { BRIDGE_KEY, channelNames, eventNames } from '../../src-main/contract/ipc.ts';
import {
  buildBridge,
  checkChannel,
  checkEvent,
  type IpcRendererLike,
} from '../../src-main/preload/bridge.ts';

type Listener = (event: unknown, ...args: unknown[]) => void;

/** A fake ipcRenderer that records calls and lets the test emit events. */
function fakeIpc() {
  const listeners = new Map<string, Set<Listener>>();
  const invoked: Array<{ channel: string; args: unknown[] }> = [];
  const ipc: IpcRendererLike = {
    invoke: (channel, ...args) => {
      invoked.push({ channel, args });
      return Promise.resolve({ ok: true, value: `answer to ${channel}` });
    },
    on: (channel, listener) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)?.add(listener);
    },
    removeListener: (channel, listener) => {
      listeners.get(channel)?.delete(listener);
    },
  };
  const emit = (channel: string, ...args: unknown[]) => {
    for (const l of listeners.get(channel) ?? []) l({ sender: 'the raw IpcRendererEvent' }, ...args);
  };
  const count = (channel: string) => listeners.get(channel)?.size ?? 0;
  return { ipc, invoked, emit, count };
}

const electron = vi.hoisted(() => ({
  exposeInMainWorld: vi.fn<(key: string, api: unknown) => void>(),
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn() },
}));
// never load the real package here (without its binary it tries to download one)
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: electron.exposeInMainWorld },
  ipcRenderer: electron.ipcRenderer,
}));

describe('channel allowlist', () => {
  it('accepts exactly the channels and events of the contract', () => {
    for (const name of channelNames) expect(checkChannel(name)).toBe(name);
    for (const name of eventNames) expect(checkEvent(name)).toBe(name);
    expect(channelNames.length).toBeGreaterThan(0);
    expect(eventNames.length).toBeGreaterThan(0);
  });

  it.each([
    'bulwark:fs.readFile',
    'app.version', // right name, missing prefix
    'BULWARK:app.version',
    'bulwark:job.progress', // an event is not a request channel
    '__proto__',
    'toString',
    '',
    42,
    undefined,
  ])('refuses %j as a channel', (name) => {
    expect(() => checkChannel(name)).toThrow(/not a channel of the contract/);
  });

  it.each(['bulwark:app.version', 'bulwark:job.unknown', 'constructor', null])(
    'refuses %j as an event',
    (name) => {
      expect(() => checkEvent(name)).toThrow(/not an event of the contract/);
    },
  );
});

describe('buildBridge', () => {
  it('exposes invoke and on, and nothing else (frozen)', () => {
    const bridge = buildBridge(fakeIpc().ipc);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on']);
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('forwards an allowlisted invoke with its request', async () => {
    const { ipc, invoked } = fakeIpc();
    const answer = await buildBridge(ipc).invoke('bulwark:snapshots.list', { limit: 5 });
    expect(answer).toEqual({ ok: true, value: 'answer to bulwark:snapshots.list' });
    expect(invoked).toEqual([{ channel: 'bulwark:snapshots.list', args: [{ limit: 5 }] }]);
  });

  it('rejects an invoke on a channel outside the contract without touching IPC', async () => {
    const { ipc, invoked } = fakeIpc();
    const bridge = buildBridge(ipc) as unknown as {
      invoke(channel: string, request: unknown): Promise<unknown>;
    };
    await expect(bridge.invoke('bulwark:shell.exec', { cmd: 'rm -rf /' })).rejects.toThrow(/not a channel/);
    expect(invoked).toEqual([]);
  });

  it('delivers only the payload of an event (no IpcRendererEvent) and unsubscribes', () => {
    const { ipc, emit, count } = fakeIpc();
    const bridge = buildBridge(ipc);
    const received: unknown[][] = [];
    const off = bridge.on('bulwark:job.state', (...args: unknown[]) => received.push(args));
    emit('bulwark:job.state', { jobId: 'j1' }, 'extra argument');
    expect(received).toEqual([[{ jobId: 'j1' }]]);
    expect(count('bulwark:job.state')).toBe(1);
    off();
    off(); // twice is harmless
    emit('bulwark:job.state', { jobId: 'j2' });
    expect(received).toHaveLength(1);
    expect(count('bulwark:job.state')).toBe(0);
  });

  it('refuses to subscribe to an event outside the contract', () => {
    const { ipc, count } = fakeIpc();
    const bridge = buildBridge(ipc) as unknown as { on(event: string, listener: () => void): () => void };
    expect(() => bridge.on('bulwark:app.version', () => {})).toThrow(/not an event/);
    expect(() => bridge.on('ipc-message', () => {})).toThrow(/not an event/);
    expect(count('bulwark:app.version') + count('ipc-message')).toBe(0);
  });
});

describe('preload.ts', () => {
  it('exposes exactly one object, { invoke, on }, under window.bulwark', async () => {
    await import('../../src-main/preload/preload.ts');
    expect(electron.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [key, api] = electron.exposeInMainWorld.mock.calls[0] ?? [];
    expect(key).toBe(BRIDGE_KEY);
    expect(Object.keys(api as object).sort()).toEqual(['invoke', 'on']);
  });
});
