import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { EventName } from '../../src-main/contract/ipc.ts';
import { forkedChild } from '../../src-main/app/service/children.ts';
import type { ToService } from '../../src-main/app/service/protocol.ts';
import {
  restartDelay,
  ServiceRelay,
  type RelayTimers,
  type ServiceChild,
  type ServiceHealth,
} from '../../src-main/app/service/relay.ts';

// The relay between the desktop app's main process and its backup-service process. A Node child
// (child_process.fork) runs the real service entry (src-main/app/service/main.ts) on a temp BULWARK_HOME,
// standing in for Electron's utilityProcess (same message API through children.ts).

const ENTRY = path.resolve(import.meta.dirname, '../../src-main/app/service/main.ts');

function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = check();
      if (v !== undefined) resolve(v);
      else if (Date.now() - t0 > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe('service relay with the real service entry in a forked child', () => {
  let home: string;
  let relay: ServiceRelay | undefined;
  const health: ServiceHealth[] = [];
  const events: { event: EventName; payload: unknown }[] = [];
  const spawned: ServiceChild[] = [];

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'bulwark-relay-'));
    health.length = 0;
    events.length = 0;
    spawned.length = 0;
    relay = new ServiceRelay({
      spawn: () => {
        const child = forkedChild(ENTRY, {
          env: { ...process.env, BULWARK_HOME: home, BULWARK_KDF_N: '16' },
          stdio: 'ignore',
        });
        spawned.push(child);
        return child;
      },
      init: () => ({ type: 'init' }),
      backoff: { initialMs: 100, factor: 2, maxMs: 1000, healthyAfterMs: 60_000 },
      stopTimeoutMs: 10_000,
    });
    relay.onHealth((h) => health.push(h));
    relay.onEvent((event, payload) => events.push({ event, payload }));
  });

  afterEach(async () => {
    await relay?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('relays requests, answers and events, and stops gracefully', async () => {
    const r = relay!;
    r.start();
    // a request made while the process starts is queued and answered once it is ready
    const status = await r.call('bulwark:service.status', {});
    expect(status.ok).toBe(true);
    if (!status.ok) return;
    expect(status.value.overall.state).toBe('not-protected'); // no folders yet
    expect(health.map((h) => h.state)).toEqual(['starting', 'running']);

    // the request is validated in the service process by the shared dispatch core
    const refused = await r.call('bulwark:sources.add', { name: '', paths: ['relative'] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });

    const folder = path.join(home, 'Documents');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'a.txt'), 'hello');
    const added = await r.call('bulwark:sources.add', { name: 'Documents', paths: [folder] });
    expect(added.ok).toBe(true);
    const sourceId = added.ok ? added.value.source.id : '';
    // its first backup runs in the service process; its events come through the relay
    await waitFor('the first backup to succeed', () =>
      events.find(
        (e) =>
          e.event === 'bulwark:job.state' &&
          (e.payload as { state: string; sourceId?: string }).state === 'succeeded',
      ),
    );
    expect(events.some((e) => e.event === 'bulwark:source.changed')).toBe(true);
    const after = await r.call('bulwark:sources.list', {});
    expect(after.ok && after.value.sources.find((s) => s.id === sourceId)?.lastSnapshotId).toBeTruthy();

    expect(await r.ping()).toBeLessThan(1000);

    const child = spawned[0]!;
    const exit = new Promise<number | null>((resolve) => child.onExit(resolve));
    await r.stop();
    expect(await exit).toBe(0); // it stopped by itself, not killed
    expect(r.status.state).toBe('stopped');
    expect(await r.call('bulwark:service.status', {})).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL' },
    });
  }, 60_000);

  it('detects a crash, answers the open request, and restarts the service with backoff', async () => {
    const r = relay!;
    r.start();
    expect((await r.call('bulwark:service.status', {})).ok).toBe(true);
    const first = spawned[0]!;
    const firstPid = first.pid!;

    // a request in flight when the process dies is answered, not left hanging
    const inFlight = r.call('bulwark:jobs.list', {});
    process.kill(firstPid, 'SIGKILL');
    const answer = await inFlight;
    // the request may have been answered just before the kill; if not, it carries the crash
    if (!answer.ok) expect(answer.error.message).toMatch(/not running: it was ended by the system/);

    const crash = await waitFor('the crash to be seen', () =>
      health.find((h): h is Extract<ServiceHealth, { state: 'crashed' }> => h.state === 'crashed'),
    );
    expect(crash).toMatchObject({ crashes: 1, exitCode: null, reason: 'it was ended by the system' });
    // while it is down, calls are answered at once in plain words
    if (r.status.state === 'crashed')
      expect(await r.call('bulwark:service.status', {})).toMatchObject({
        ok: false,
        error: { code: 'INTERNAL', hint: 'It restarts by itself; try again in a moment.' },
      });

    await waitFor('the restarted service', () => (r.status.state === 'running' ? true : undefined));
    expect(spawned).toHaveLength(2);
    expect(spawned[1]!.pid).not.toBe(firstPid);
    const again = await r.call('bulwark:service.status', {});
    expect(again.ok).toBe(true);

    // a second crash soon after waits twice as long
    const restartAt = health.length;
    process.kill(spawned[1]!.pid!, 'SIGKILL');
    const second = await waitFor('the second crash', () =>
      health
        .slice(restartAt)
        .find((h): h is Extract<ServiceHealth, { state: 'crashed' }> => h.state === 'crashed'),
    );
    expect(second.crashes).toBe(2);
    await waitFor('the second restart', () => (r.status.state === 'running' ? true : undefined));
    expect(spawned).toHaveLength(3);
  }, 60_000);
});

/** A service process that never gets ready and exits at once: the backoff schedule without real processes. */
describe('restart backoff', () => {
  it('doubles up to the maximum and starts over after a healthy run', () => {
    const b = { initialMs: 1000, factor: 2, maxMs: 8000, healthyAfterMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => restartDelay(n, b))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('restarts a crashing service with growing pauses, and from the start after a healthy run', () => {
    let now = 0;
    const scheduled: { at: number; fn: () => void }[] = [];
    const timers: RelayTimers = {
      setTimeout: (fn, ms) => {
        const t = { at: now + ms, fn };
        scheduled.push(t);
        return t;
      },
      clearTimeout: (h) => {
        const i = scheduled.indexOf(h as (typeof scheduled)[number]);
        if (i >= 0) scheduled.splice(i, 1);
      },
      now: () => now,
    };
    const exits: ((code: number | null) => void)[] = [];
    const sent: ToService[] = [];
    const relay = new ServiceRelay({
      spawn: () => ({
        pid: 1,
        postMessage: (m) => void sent.push(m),
        onMessage: () => {},
        onExit: (l) => void exits.push(l),
        kill: () => {},
      }),
      init: () => ({ type: 'init' }),
      backoff: { initialMs: 1000, factor: 2, maxMs: 8000, healthyAfterMs: 60_000 },
      timers,
    });
    const delays: number[] = [];
    relay.onHealth((h) => {
      if (h.state === 'crashed') delays.push(h.restartAt - now);
    });
    relay.start();
    for (let i = 0; i < 5; i++) {
      exits.at(-1)!(1);
      const next = scheduled.shift()!;
      now = next.at;
      next.fn();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    // this one ran for two minutes before crashing: a healthy run, so the pause starts over
    now += 120_000;
    exits.at(-1)!(1);
    expect(delays.at(-1)).toBe(1000);
    expect(relay.status).toMatchObject({ state: 'crashed', crashes: 1, exitCode: 1 });
  });
});
