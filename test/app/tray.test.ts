import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import type { EventName, ResponseOf } from '../../src-main/contract/ipc.ts';
import type { JobProgress, OverallProtection } from '../../src-main/contract/model.ts';
import { ok, type Result } from '../../src-main/contract/result.ts';
import { DesktopController, startOfTomorrow, type RelayLike } from '../../src-main/app/desktop.ts';
import { AlertNotifier, type NotificationLike } from '../../src-main/app/notifications.ts';
import type { ServiceHealth } from '../../src-main/app/service/relay.ts';
import {
  TRAY_ICON,
  TrayController,
  trayMenu,
  type TrayFactories,
  type TrayMenuItem,
  type TraySettings,
} from '../../src-main/app/tray.ts';
import {
  TRAY_STATES,
  progressPercent,
  trayView,
  whenLabel,
  type TrayInput,
} from '../../src-main/app/tray-view.ts';

const NOW = Date.parse('2026-03-10T15:00:00Z');
const TZ = 'UTC';
const RESOURCES = path.resolve(import.meta.dirname, '../../resources');

const overall = (state: OverallProtection['state'], headline: string, last?: string): OverallProtection => ({
  state,
  headline,
  ...(last ? { lastBackupAt: last } : {}),
  counts: { protected: 0, atRisk: 0, notProtected: 0 },
});
const input = (over: Partial<TrayInput> = {}): TrayInput => ({
  service: { state: 'running' },
  status: {
    overall: overall('protected', 'All 2 folders protected', '2026-03-10T14:02:00Z'),
    paused: false,
    sourceIds: ['s1', 's2'],
  },
  progress: new Map(),
  now: NOW,
  timeZone: TZ,
  locale: 'en-GB',
  ...over,
});
const progress = (jobId: string, p: Partial<JobProgress> = {}): JobProgress => ({
  jobId,
  phase: 'backing-up',
  bytesDone: 0,
  filesDone: 0,
  rate: 0,
  ...p,
});

describe('tray view: state, tooltip, labels', () => {
  it('protected: green only when the service said protected and nothing runs', () => {
    const v = trayView(input());
    expect(v.state).toBe('protected');
    expect(v.tooltip).toBe('Bulwark: All 2 folders protected\nLast backup: today at 14:02');
    expect(v.canBackUpNow).toBe(true);
  });

  it('backing up with progress: bytes when every total is known, else files', () => {
    const v = trayView(
      input({
        progress: new Map([['j1', progress('j1', { bytesDone: 250, bytesTotal: 1000, filesDone: 1 })]]),
      }),
    );
    expect(v).toMatchObject({ state: 'backing-up', percent: 25, backingUp: true });
    expect(v.tooltip).toContain('\nBacking up: 25%');
    expect(
      progressPercent([
        progress('a', { filesDone: 1, filesTotal: 4, bytesDone: 9 }),
        progress('b', { filesDone: 1, filesTotal: 4, bytesDone: 1, bytesTotal: 2 }),
      ]),
    ).toBe(25);
    expect(trayView(input({ progress: new Map([['j', progress('j')]]) })).tooltip).toContain('Backing up…');
  });

  it('warning for at risk (paused included), and a running backup never hides it', () => {
    const atRisk = input({
      status: {
        overall: overall('at-risk', 'All 2 folders at risk: backups are paused'),
        paused: true,
        sourceIds: ['s1'],
      },
      progress: new Map([['j', progress('j', { bytesDone: 1, bytesTotal: 2 })]]),
      pausedUntil: NOW + 3_600_000,
    });
    const v = trayView(atRisk);
    expect(v.state).toBe('warning');
    expect(v.percent).toBe(50);
    expect(v.pausedLabel).toBe('Paused until today at 16:00');
    expect(v).toMatchObject({ paused: true, canPause: false, canBackUpNow: false });
  });

  it('error for not protected, and for a service process that is down', () => {
    expect(
      trayView(
        input({
          status: { overall: overall('not-protected', 'No folders yet'), paused: false, sourceIds: [] },
        }),
      ).state,
    ).toBe('error');
    const down = trayView(input({ service: { state: 'down', reason: 'it was ended by the system' } }));
    expect(down.state).toBe('error');
    expect(down.headline).toMatch(
      /^Not protected: the backup service stopped \(it was ended by the system\)/,
    );
    expect(down.canBackUpNow).toBe(false);
  });

  it('is never green before the service answered', () => {
    const { status: _none, ...rest } = input();
    const v = trayView({ ...rest, service: { state: 'starting' } });
    expect(v.state).toBe('warning');
    expect(v.lastBackup).toBe('Last backup: never');
  });

  it('labels times as today, yesterday, or a date; keeps tooltips within 127 characters', () => {
    expect(whenLabel(Date.parse('2026-03-09T23:59:00Z'), NOW, TZ, 'en-GB')).toBe('yesterday at 23:59');
    expect(whenLabel(Date.parse('2026-03-11T00:00:00Z'), NOW, TZ, 'en-GB')).toBe('tomorrow at 00:00');
    expect(whenLabel(Date.parse('2026-01-02T08:05:00Z'), NOW, TZ, 'en-GB')).toMatch(/2 Jan.* 2026 at 08:05/);
    const long = trayView(
      input({ status: { overall: overall('at-risk', 'x'.repeat(300)), paused: false, sourceIds: ['s'] } }),
    );
    expect(long.tooltip.length).toBeLessThanOrEqual(127);
    expect(long.tooltip).toMatch(/…\nLast backup/);
  });

  it('has an icon file (16 px and @2x) for every state', () => {
    for (const state of TRAY_STATES) {
      const file = path.join(RESOURCES, TRAY_ICON[state]);
      for (const f of [file, file.replace(/\.png$/, '@2x.png')]) {
        expect(existsSync(f), f).toBe(true);
        expect(readFileSync(f).subarray(1, 4).toString()).toBe('PNG');
      }
    }
  });
});

describe('tray menu', () => {
  const calls: string[] = [];
  const actions = {
    open: () => void calls.push('open'),
    backUpNow: () => void calls.push('backUpNow'),
    pauseForAnHour: () => void calls.push('pause1h'),
    pauseUntilTomorrow: () => void calls.push('pauseTomorrow'),
    resume: () => void calls.push('resume'),
    setStartAtLogin: (on: boolean) => void calls.push(`login:${on}`),
    setNotifyOnSuccess: (on: boolean) => void calls.push(`notify:${on}`),
    quit: () => void calls.push('quit'),
  };
  const settings: TraySettings = { startAtLogin: true, notifyOnSuccess: false };
  const item = (items: TrayMenuItem[], label: string | RegExp) =>
    items.find((i) => (typeof label === 'string' ? i.label === label : label.test(i.label ?? '')));

  it('lists open, back up now, the pauses, resume, the last backup, the settings and quit', () => {
    const items = trayMenu(trayView(input()), settings, actions);
    expect(items.filter((i) => i.type !== 'separator').map((i) => i.label)).toEqual([
      'All 2 folders protected',
      'Open Bulwark',
      'Back up now',
      'Pause protection for 1 hour',
      'Pause protection until tomorrow',
      'Resume protection',
      'Last backup: today at 14:02',
      'Start Bulwark at login',
      'Notify me after every backup',
      'Quit Bulwark',
    ]);
    expect(item(items, 'Last backup: today at 14:02')?.enabled).toBe(false);
    expect(item(items, 'Resume protection')?.enabled).toBe(false);
    expect(item(items, 'Start Bulwark at login')).toMatchObject({ type: 'checkbox', checked: true });
    calls.length = 0;
    for (const label of [
      'Open Bulwark',
      'Back up now',
      'Pause protection for 1 hour',
      'Pause protection until tomorrow',
    ])
      item(items, label)?.click?.();
    item(items, 'Start Bulwark at login')?.click?.();
    item(items, 'Notify me after every backup')?.click?.();
    item(items, 'Quit Bulwark')?.click?.();
    expect(calls).toEqual([
      'open',
      'backUpNow',
      'pause1h',
      'pauseTomorrow',
      'login:false',
      'notify:true',
      'quit',
    ]);
  });

  it('while paused: the pauses are off and Resume says until when', () => {
    const v = trayView(
      input({
        status: { overall: overall('at-risk', 'paused'), paused: true, sourceIds: ['s'] },
        pausedUntil: startOfTomorrow(NOW),
      }),
    );
    const items = trayMenu(v, settings, actions);
    expect(item(items, 'Pause protection for 1 hour')?.enabled).toBe(false);
    expect(item(items, /^Resume protection \(paused until/)?.enabled).toBe(true);
    expect(item(items, 'Back up now')?.enabled).toBe(false);
  });

  it('shows a running backup as a line of its own', () => {
    const v = trayView(input({ progress: new Map([['j', progress('j', { bytesDone: 3, bytesTotal: 4 })]]) }));
    expect(item(trayMenu(v, settings, actions), 'Backing up: 75%')?.enabled).toBe(false);
  });
});

// ---- the controller end to end with fakes: every state transition the tray goes through ----

interface FakeTray {
  images: string[];
  tooltips: string[];
  titles: string[];
  menus: TrayMenuItem[][];
  clicks: (() => void)[];
}

function fakeFactories(): { factories: TrayFactories; tray: FakeTray } {
  const tray: FakeTray = { images: [], tooltips: [], titles: [], menus: [], clicks: [] };
  return {
    tray,
    factories: {
      imageFromPath: (file) => path.basename(file),
      buildMenu: (items) => items,
      createTray: (image) => {
        tray.images.push(String(image));
        return {
          setImage: (i) => void tray.images.push(String(i)),
          setToolTip: (t) => void tray.tooltips.push(t),
          setTitle: (t) => void tray.titles.push(t),
          setContextMenu: (m) => void tray.menus.push(m as TrayMenuItem[]),
          on: (_e, l) => void tray.clicks.push(l),
          destroy: () => {},
        };
      },
    },
  };
}

type Status = ResponseOf<'bulwark:service.status'>;

class FakeRelay implements RelayLike {
  status: ServiceHealth = { state: 'starting' };
  serviceStatus: Status;
  calls: { channel: string; request: unknown }[] = [];
  private events = new Set<(e: EventName, p: unknown) => void>();
  private healths = new Set<(h: ServiceHealth) => void>();
  constructor(s: Status) {
    this.serviceStatus = s;
  }
  call<C extends Parameters<RelayLike['call']>[0]>(
    channel: C,
    request: unknown,
  ): Promise<Result<ResponseOf<C>>> {
    this.calls.push({ channel, request });
    const answers: Record<string, unknown> = {
      'bulwark:service.status': this.serviceStatus,
      'bulwark:alerts.list': { alerts: [] },
      'bulwark:jobs.pauseAll': { paused: true },
      'bulwark:jobs.resumeAll': { paused: false },
      'bulwark:jobs.runNow': { job: {} },
    };
    if (channel === 'bulwark:jobs.pauseAll') this.serviceStatus = { ...this.serviceStatus, paused: true };
    if (channel === 'bulwark:jobs.resumeAll') this.serviceStatus = { ...this.serviceStatus, paused: false };
    return Promise.resolve(ok(answers[channel] as ResponseOf<C>));
  }
  onEvent(l: (e: EventName, p: unknown) => void) {
    this.events.add(l);
    return () => void this.events.delete(l);
  }
  onHealth(l: (h: ServiceHealth) => void) {
    this.healths.add(l);
    return () => void this.healths.delete(l);
  }
  health(h: ServiceHealth) {
    this.status = h;
    for (const l of this.healths) l(h);
  }
  emit(e: EventName, p: unknown) {
    for (const l of this.events) l(e, p);
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function statusOf(o: OverallProtection, paused = false): Status {
  return {
    overall: o,
    started: true,
    paused,
    sources: [
      {
        id: 's1',
        name: 'Documents',
        enabled: true,
        protection: { state: o.state, summary: o.headline, reasons: [] },
      },
    ] as unknown as Status['sources'],
    targets: [],
    rpo: { ok: 1, pending: 0, missed: 0 },
    activeAlerts: 0,
    jobs: { running: 0, queued: 0 },
  };
}

describe('tray controller following the service', () => {
  it('goes starting → error → backing up → protected → warning (paused) → protected → error (crash) → protected', async () => {
    let now = NOW;
    const pending: { at: number; fn: () => void }[] = [];
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        const t = { at: now + ms, fn };
        pending.push(t);
        return t;
      },
      clearTimeout: (h: unknown) => {
        const i = pending.indexOf(h as (typeof pending)[number]);
        if (i >= 0) pending.splice(i, 1);
      },
      now: () => now,
    };
    const runDue = async () => {
      for (const t of pending.filter((p) => p.at <= now)) {
        pending.splice(pending.indexOf(t), 1);
        t.fn();
      }
      await flush();
    };
    const relay = new FakeRelay(
      statusOf(overall('not-protected', 'Documents is not protected: never backed up')),
    );
    const shown: NotificationLike[] = [];
    const notes: string[] = [];
    const notifier = new AlertNotifier({
      notify: (o) => {
        notes.push(o.title);
        const n = { show: () => {}, on: () => undefined };
        shown.push(n);
        return n;
      },
      store: { load: () => [], save: () => {} },
      openPage: () => {},
      notifyOnSuccess: () => false,
    });
    const { factories, tray } = fakeFactories();
    const logins: boolean[] = [];
    const desktop = new DesktopController({
      relay,
      notifier,
      settings: { load: () => ({ startAtLogin: true, notifyOnSuccess: false }), save: () => {} },
      applyStartAtLogin: (on) => void logins.push(on),
      openWindow: () => {},
      quit: () => {},
      timers,
      timeZone: TZ,
      locale: 'en-GB',
    });
    desktop.attachTray(new TrayController(factories, RESOURCES, desktop.actions));
    desktop.start();
    expect(logins).toEqual([true]); // the login item is applied at start
    const lastIcon = () => tray.images.at(-1);
    expect(lastIcon()).toBe('tray-warning.png'); // starting: nothing known yet

    relay.health({ state: 'running', pid: 1 });
    await flush();
    await flush();
    expect(lastIcon()).toBe('tray-error.png'); // never backed up: not protected

    relay.emit('bulwark:job.progress', progress('j1', { sourceId: 's1', bytesDone: 10, bytesTotal: 40 }));
    expect(lastIcon()).toBe('tray-error.png'); // a backup runs, but the truth is still "not protected"
    expect(tray.tooltips.at(-1)).toContain('Backing up: 25%');

    relay.serviceStatus = statusOf(overall('protected', '1 folder protected', '2026-03-10T14:59:00Z'));
    relay.emit('bulwark:source.changed', { sourceId: 's1', removed: false });
    now += 400;
    await runDue();
    expect(lastIcon()).toBe('tray-backing-up.png'); // protected, and a backup runs
    expect(tray.titles.at(-1)).toBe('25%');

    relay.emit('bulwark:job.state', {
      jobId: 'j1',
      kind: 'backup',
      state: 'succeeded',
      at: '2026-03-10T15:00:00Z',
      sourceId: 's1',
    });
    expect(lastIcon()).toBe('tray-protected.png');
    expect(tray.tooltips.at(-1)).toBe('Bulwark: 1 folder protected\nLast backup: today at 14:59');
    expect(notes).toEqual([]); // a routine success is quiet

    // pause for an hour from the menu: the service says at risk (paused)
    relay.serviceStatus = {
      ...statusOf(overall('at-risk', '1 folder at risk: backups are paused')),
      paused: false,
    };
    const menu = tray.menus.at(-1)!;
    menu.find((i) => i.label === 'Pause protection for 1 hour')!.click!();
    await flush();
    await flush();
    expect(relay.calls.map((c) => c.channel)).toContain('bulwark:jobs.pauseAll');
    expect(lastIcon()).toBe('tray-warning.png');
    expect(tray.tooltips.at(-1)).toContain('Paused until today at 16:00');

    // an hour later the pause ends by itself
    relay.serviceStatus = statusOf(overall('protected', '1 folder protected', '2026-03-10T14:59:00Z'));
    now += 3_600_000;
    await runDue();
    await flush();
    expect(relay.calls.at(-2)?.channel).toBe('bulwark:jobs.resumeAll');
    expect(lastIcon()).toBe('tray-protected.png');

    // the service process dies: red at once, and one notification
    relay.health({
      state: 'crashed',
      crashes: 1,
      exitCode: null,
      reason: 'it was ended by the system',
      restartAt: now + 1000,
    });
    expect(lastIcon()).toBe('tray-error.png');
    expect(tray.tooltips.at(-1)).toMatch(/^Bulwark: Not protected: the backup service stopped/);
    expect(notes).toEqual(['Bulwark stopped protecting your files']);

    relay.health({ state: 'running', pid: 2 });
    await flush();
    await flush();
    expect(lastIcon()).toBe('tray-protected.png');

    // "Back up now" queues every enabled source; clicking the icon opens the window
    tray.menus.at(-1)!.find((i) => i.label === 'Back up now')!.click!();
    await flush();
    expect(relay.calls.at(-1)).toEqual({ channel: 'bulwark:jobs.runNow', request: { sourceId: 's1' } });
    desktop.stop();
  });

  it('pause until tomorrow lasts until the next local midnight', () => {
    const t = startOfTomorrow(NOW);
    expect(t).toBeGreaterThan(NOW);
    expect(t - NOW).toBeLessThanOrEqual(86_400_000);
    const d = new Date(t);
    expect([d.getHours(), d.getMinutes(), d.getSeconds()]).toEqual([0, 0, 0]);
  });
});
