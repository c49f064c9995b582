import { describe, expect, it } from 'vitest';

import { createClient, type Transport } from '../../src-renderer/src/api/client.ts';
import { findElectronBridge } from '../../src-renderer/src/api/electron.ts';
import { httpTransport } from '../../src-renderer/src/api/http.ts';

function transport(answer: (channel: string, request: unknown) => Promise<unknown>) {
  const listeners = new Map<string, (payload: unknown) => void>();
  const t: Transport = {
    name: 'electron',
    failureCode: 'INTERNAL',
    invoke: (channel, request) => answer(channel, request),
    on: (event, listener) => {
      listeners.set(event, listener);
      return () => listeners.delete(event);
    },
  };
  return { t, emit: (event: string, payload: unknown) => listeners.get(event)?.(payload), listeners };
}

const version = { name: 'Bulwark', version: '1.0.0', platform: 'linux', runtime: { node: '24.0.0' } };

describe('createClient', () => {
  it('returns a valid Result as is', async () => {
    const { t } = transport(() => Promise.resolve({ ok: true, value: version }));
    expect(await createClient(t).call('bulwark:app.version', {})).toEqual({ ok: true, value: version });
  });

  it('turns an answer that breaks the contract into INTERNAL', async () => {
    const { t } = transport(() => Promise.resolve({ ok: true, value: { name: 'Bulwark' } }));
    const result = await createClient(t).call('bulwark:app.version', {});
    expect(result).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: 'the answer to bulwark:app.version did not match the contract' },
    });
  });

  it("turns a failed link into the transport's failure code, never a rejection", async () => {
    const { t } = transport(() => Promise.reject(new Error('Error invoking remote method: no handler')));
    const result = await createClient(t).call('bulwark:repo.info', {});
    expect(result.ok ? 'ok' : result.error.code).toBe('INTERNAL');
  });

  it('delivers valid event payloads and drops invalid ones', () => {
    const { t, emit, listeners } = transport(() => Promise.resolve(undefined));
    const warnings: string[] = [];
    const received: unknown[] = [];
    const off = createClient(t, (m) => warnings.push(m)).on('bulwark:job.state', (e) => received.push(e));
    const good = { jobId: 'j1', kind: 'backup', state: 'running', at: '2026-03-01T10:00:00Z' };
    emit('bulwark:job.state', good);
    emit('bulwark:job.state', { jobId: 'j1', state: 'exploded' });
    expect(received).toEqual([good]);
    expect(warnings).toEqual(['dropped bulwark:job.state: payload does not match the contract']);
    off();
    expect(listeners.size).toBe(0);
  });

  it('the HTTP transport answers PERMISSION, as a value, when the page has no token and no session', async () => {
    // what `bulwark serve` answers a call without the token or the session cookie
    const refusal = {
      ok: false,
      error: { code: 'PERMISSION', message: 'this browser is not signed in to Bulwark' },
    };
    const fetch = (() =>
      Promise.resolve(new Response(JSON.stringify(refusal), { status: 401 }))) as typeof globalThis.fetch;
    const result = await createClient(httpTransport({ baseUrl: 'http://127.0.0.1:7420', fetch })).call(
      'bulwark:snapshots.list',
      {},
    );
    expect(result.ok ? 'ok' : result.error.code).toBe('PERMISSION');
  });
});

describe('findElectronBridge', () => {
  it('finds window.bulwark only when it looks like the bridge', () => {
    const bridge = { invoke: () => Promise.resolve(), on: () => () => {} };
    expect(findElectronBridge({ bulwark: bridge })).toBe(bridge);
    expect(findElectronBridge({})).toBeUndefined();
    expect(findElectronBridge({ bulwark: 'nope' })).toBeUndefined();
  });
});
