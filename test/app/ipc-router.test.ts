import { describe, expect, it } from 'vitest';

import { channelNames } from '../../src-main/contract/ipc.ts';
import { err, ok } from '../../src-main/contract/result.ts';
import { createHandlers } from '../../src-main/app/handlers.ts';
import {
  createEventPublisher,
  dispatch,
  isTrustedSender,
  registerIpcRouter,
  type Handlers,
  type InvokeEventLike,
  type IpcMainLike,
} from '../../src-main/app/ipc-router.ts';

const PAGE = 'file:///opt/Bulwark/resources/app.asar/dist/renderer/index.html';
const mainFrame = (url = PAGE) => ({ url, parent: null });

const handlers = createHandlers({
  name: 'Bulwark',
  version: '1.2.3',
  platform: 'linux',
  versions: { node: '24.0.0', electron: '45.5.0' },
});

const snapshot = {
  id: 'snap-1',
  time: '2026-03-01T10:00:00.000Z',
  host: 'office-pc',
  source: 'Documents',
  paths: ['/home/ann/Documents'],
  stats: { files: 10, dirs: 2, bytes: 4096, bytesAdded: 1024, errors: 0 },
};

function withHandler(overrides: Partial<Handlers>): Handlers {
  return { ...handlers, ...overrides };
}

describe('isTrustedSender', () => {
  it('accepts the main frame of our page, ignoring query and fragment', () => {
    expect(isTrustedSender(mainFrame(), PAGE)).toBe(true);
    expect(isTrustedSender(mainFrame(`${PAGE}#/snapshots?x=1`), PAGE)).toBe(true);
  });

  it.each([
    ['a destroyed frame', null],
    ['a subframe of our page', { url: PAGE, parent: mainFrame() }],
    ['a remote page', mainFrame('https://example.com/index.html')],
    ['another local file', mainFrame('file:///tmp/evil.html')],
    ['a devtools page', mainFrame('devtools://devtools/bundled/index.html')],
    ['a garbage URL', mainFrame('not a url')],
  ])('refuses %s', (_what, frame) => {
    expect(isTrustedSender(frame, PAGE)).toBe(false);
  });
});

describe('dispatch', () => {
  it('answers app.version with a Result', async () => {
    expect(await dispatch(handlers, 'bulwark:app.version', {})).toEqual({
      ok: true,
      value: {
        name: 'Bulwark',
        version: '1.2.3',
        platform: 'linux',
        runtime: { node: '24.0.0', electron: '45.5.0' },
      },
    });
  });

  it('answers the not-yet-wired channels with UNSUPPORTED', async () => {
    for (const channel of ['bulwark:repo.info', 'bulwark:snapshots.list'] as const) {
      const result = await dispatch(handlers, channel, {});
      expect(result.ok ? 'ok' : result.error.code).toBe('UNSUPPORTED');
    }
  });

  it.each([
    ['a missing request', undefined],
    ['an unknown field', { limit: 1, rm: true }],
    ['a wrong type', { limit: 'ten' }],
    ['an out-of-range value', { limit: 0 }],
  ])('refuses %s with INVALID_ARGUMENT before calling the handler', async (_what, request) => {
    let called = false;
    const h = withHandler({
      'bulwark:snapshots.list': () => {
        called = true;
        return ok({ snapshots: [] });
      },
    });
    const result = await dispatch(h, 'bulwark:snapshots.list', request);
    expect(result.ok ? 'ok' : result.error.code).toBe('INVALID_ARGUMENT');
    expect(called).toBe(false);
  });

  it('passes the parsed request and a valid answer through', async () => {
    const seen: unknown[] = [];
    const h = withHandler({
      'bulwark:snapshots.list': (request) => {
        seen.push(request);
        return Promise.resolve(ok({ snapshots: [snapshot] }));
      },
    });
    expect(await dispatch(h, 'bulwark:snapshots.list', { limit: 3 })).toEqual({
      ok: true,
      value: { snapshots: [snapshot] },
    });
    expect(seen).toEqual([{ limit: 3 }]);
  });

  it('keeps the code, message and hint of a Result error', async () => {
    const h = withHandler({
      'bulwark:repo.info': () => err('REPO_NOT_FOUND', 'no repository', 'Connect one.'),
    });
    expect(await dispatch(h, 'bulwark:repo.info', {})).toEqual({
      ok: false,
      error: { code: 'REPO_NOT_FOUND', message: 'no repository', hint: 'Connect one.' },
    });
  });

  it('turns a thrown coded error into its Result and anything else into INTERNAL, without leaking', async () => {
    const coded = withHandler({
      'bulwark:repo.info': () => {
        throw Object.assign(new Error('bucket is locked'), { code: 'LOCKED', hint: 'wait' });
      },
    });
    expect(await dispatch(coded, 'bulwark:repo.info', {})).toEqual({
      ok: false,
      error: { code: 'LOCKED', message: 'bucket is locked', hint: 'wait' },
    });

    const logged: string[] = [];
    const buggy = withHandler({
      'bulwark:repo.info': () => Promise.reject(new TypeError('secret path /home/ann/.key')),
    });
    const result = await dispatch(buggy, 'bulwark:repo.info', {}, (m) => logged.push(m));
    expect(result).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'unexpected internal error' } });
    expect(logged).toEqual(['handler for bulwark:repo.info threw']);
  });

  it('refuses to send an answer that does not match the contract', async () => {
    const h = withHandler({
      'bulwark:snapshots.list': () => ok({ snapshots: [{ ...snapshot, time: 'yesterday' }] }),
    });
    const result = await dispatch(h, 'bulwark:snapshots.list', {});
    expect(result.ok ? 'ok' : result.error.code).toBe('INTERNAL');
  });
});

describe('registerIpcRouter', () => {
  function fakeIpcMain() {
    const registered = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
    const ipc: IpcMainLike = {
      handle: (channel, listener) => {
        if (registered.has(channel)) throw new Error(`second handler for ${channel}`);
        registered.set(channel, listener);
      },
      removeHandler: (channel) => void registered.delete(channel),
    };
    return { ipc, registered };
  }

  it('registers every contract channel and unregisters them', () => {
    const { ipc, registered } = fakeIpcMain();
    const unregister = registerIpcRouter({ ipc, handlers, isTrusted: () => true });
    expect([...registered.keys()].sort()).toEqual([...channelNames].sort());
    unregister();
    expect(registered.size).toBe(0);
  });

  it('answers a trusted sender and refuses an untrusted one with PERMISSION', async () => {
    const { ipc, registered } = fakeIpcMain();
    registerIpcRouter({ ipc, handlers, isTrusted: (event) => isTrustedSender(event.senderFrame, PAGE) });
    const call = registered.get('bulwark:app.version');
    expect(call).toBeDefined();
    const good = (await call?.({ senderFrame: mainFrame() }, {})) as { ok: boolean };
    expect(good.ok).toBe(true);
    const disposed = {
      get url(): string {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
      parent: null,
    };
    for (const senderFrame of [
      null,
      mainFrame('https://evil.example/'),
      { url: PAGE, parent: mainFrame() },
      disposed,
    ]) {
      expect(await call?.({ senderFrame }, {})).toEqual({
        ok: false,
        error: { code: 'PERMISSION', message: 'this page may not call Bulwark' },
      });
    }
  });
});

describe('createEventPublisher', () => {
  it('sends valid payloads to live windows only and drops invalid ones', () => {
    const sent: Array<[string, unknown]> = [];
    const live = { send: (c: string, p: unknown) => void sent.push([c, p]), isDestroyed: () => false };
    const dead = { send: () => expect.fail('sent to a destroyed window'), isDestroyed: () => true };
    const logged: string[] = [];
    const publish = createEventPublisher(
      () => [live, dead],
      (m) => logged.push(m),
    );
    const event = { jobId: 'j1', kind: 'backup', state: 'running', at: '2026-03-01T10:00:00Z' } as const;
    publish('bulwark:job.state', event);
    expect(sent).toEqual([['bulwark:job.state', event]]);

    publish('bulwark:job.progress', { jobId: 'j1', phase: 'scanning' } as never);
    expect(sent).toHaveLength(1);
    expect(logged).toEqual(['dropped bulwark:job.progress: payload does not match the contract']);
  });
});
