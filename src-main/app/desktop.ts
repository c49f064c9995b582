import type { ChannelName, EventName, EventOf, ResponseOf } from '../contract/ipc.ts';
import type { JobProgress, Page } from '../contract/model.ts';
import type { Result } from '../contract/result.ts';
import type { Logger } from '../transport/dispatch.ts';
import type { AlertNotifier } from './notifications.ts';
import type { ServiceHealth } from './service/relay.ts';
import type { TrayActions, TraySettings } from './tray.ts';
import { trayView, type TrayInput, type TrayView } from './tray-view.ts';

/**
 * The desktop app's unattended side, without a window: it follows the service process through the relay
 * (its health, its events, service.status) and keeps the tray and the notifications true to it; it carries
 * out the tray menu (back up now, timed pauses, resume, the two settings). Electron-free: main.ts passes the
 * relay, a tray renderer, the notifier and the settings file.
 */

export interface RelayLike {
  readonly status: ServiceHealth;
  call<C extends ChannelName>(channel: C, request: unknown): Promise<Result<ResponseOf<C>>>;
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  onHealth(listener: (h: ServiceHealth) => void): () => void;
}

export interface DesktopTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface DesktopOptions {
  relay: RelayLike;
  /** draws the tray (undefined: this desktop has no tray area) */
  tray?: { render(view: TrayView, settings: TraySettings): void };
  notifier: AlertNotifier;
  settings: { load(): TraySettings; save(s: TraySettings): void };
  /** applies the start-at-login choice to the system (login-item.ts) */
  applyStartAtLogin(on: boolean): void;
  openWindow(page?: Page): void;
  quit(): void;
  timers?: DesktopTimers;
  timeZone?: string;
  locale?: string;
  log?: Logger;
}

const HOUR = 3_600_000;
/** events after which service.status is fetched again (debounced) */
const REFRESH_ON: ReadonlySet<EventName> = new Set([
  'bulwark:source.changed',
  'bulwark:job.state',
  'bulwark:alert.raised',
  'bulwark:alert.cleared',
]);
const REFRESH_DEBOUNCE_MS = 300;
/** labels like "today at 14:02" turn into "yesterday" at midnight */
const RELABEL_MS = 60_000;

const realTimers: DesktopTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

/** The next local midnight after `now`: "until tomorrow" ends when tomorrow starts. */
export function startOfTomorrow(now: number): number {
  const d = new Date(now);
  d.setHours(24, 0, 0, 0);
  return d.getTime();
}

type Status = ResponseOf<'bulwark:service.status'>;

export class DesktopController {
  private readonly o: DesktopOptions;
  private readonly timers: DesktopTimers;
  private readonly log: Logger;
  private settings: TraySettings;
  private status: Status | undefined;
  private readonly progress = new Map<string, JobProgress>();
  private pausedUntil: number | undefined;
  private pauseTimer: unknown;
  private refreshTimer: unknown;
  private relabelTimer: unknown;
  private readonly offs: (() => void)[] = [];
  private wasDown = false;
  private tray: DesktopOptions['tray'];
  /** the last view drawn (tests read it) */
  view: TrayView | undefined;

  constructor(o: DesktopOptions) {
    this.o = o;
    this.timers = o.timers ?? realTimers;
    this.log = o.log ?? (() => {});
    this.settings = o.settings.load();
    this.tray = o.tray;
  }

  /** What the tray menu does. */
  readonly actions: TrayActions = {
    open: () => this.o.openWindow(),
    backUpNow: () => void this.backUpNow(),
    pauseForAnHour: () => void this.pauseUntil(this.timers.now() + HOUR),
    pauseUntilTomorrow: () => void this.pauseUntil(startOfTomorrow(this.timers.now())),
    resume: () => void this.resume(),
    setStartAtLogin: (on) => this.changeSettings({ startAtLogin: on }),
    setNotifyOnSuccess: (on) => this.changeSettings({ notifyOnSuccess: on }),
    quit: () => this.o.quit(),
  };

  /** The tray, once it exists (it is built with `actions`, so after the controller). */
  attachTray(tray: NonNullable<DesktopOptions['tray']>): void {
    this.tray = tray;
    this.render();
  }

  get traySettings(): TraySettings {
    return this.settings;
  }

  start(): void {
    this.applyStartAtLogin();
    this.offs.push(
      this.o.relay.onHealth((h) => this.onHealth(h)),
      this.o.relay.onEvent((event, payload) => this.onEvent(event, payload)),
    );
    this.onHealth(this.o.relay.status);
    this.relabel();
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
    for (const t of [this.pauseTimer, this.refreshTimer, this.relabelTimer]) this.timers.clearTimeout(t);
  }

  // ---- tray menu ----

  async backUpNow(): Promise<void> {
    const ids = this.status?.sources.filter((s) => s.enabled).map((s) => s.id) ?? [];
    for (const sourceId of ids) {
      const r = await this.o.relay.call('bulwark:jobs.runNow', { sourceId });
      if (!r.ok) this.log(`could not queue a backup of ${sourceId}`, r.error);
    }
  }

  /** Pauses every backup until `until` (the service resumes them then; a restart of the app resumes too). */
  async pauseUntil(until: number): Promise<void> {
    const r = await this.o.relay.call('bulwark:jobs.pauseAll', {});
    if (!r.ok) {
      this.log('could not pause the backups', r.error);
      return;
    }
    this.pausedUntil = until;
    this.timers.clearTimeout(this.pauseTimer);
    this.pauseTimer = this.timers.setTimeout(
      () => void this.resume(),
      Math.max(0, until - this.timers.now()),
    );
    await this.refresh();
  }

  async resume(): Promise<void> {
    this.timers.clearTimeout(this.pauseTimer);
    this.pausedUntil = undefined;
    const r = await this.o.relay.call('bulwark:jobs.resumeAll', {});
    if (!r.ok) this.log('could not resume the backups', r.error);
    await this.refresh();
  }

  private changeSettings(change: Partial<TraySettings>): void {
    const before = this.settings;
    this.settings = { ...this.settings, ...change };
    try {
      this.o.settings.save(this.settings);
    } catch (e) {
      this.log('could not save the desktop settings', e);
    }
    if (before.startAtLogin !== this.settings.startAtLogin) this.applyStartAtLogin();
    this.render();
  }

  private applyStartAtLogin(): void {
    try {
      this.o.applyStartAtLogin(this.settings.startAtLogin);
    } catch (e) {
      this.log('could not change whether Bulwark starts at login', e);
    }
  }

  // ---- following the service ----

  private onHealth(h: ServiceHealth): void {
    if (h.state === 'crashed') {
      this.wasDown = true;
      this.progress.clear();
      this.o.notifier.serviceDown(h.reason);
    } else if (h.state === 'running') {
      if (this.wasDown) this.o.notifier.serviceUp();
      this.wasDown = false;
      void this.afterStart();
    }
    this.render();
  }

  /** At start and after a restart: re-apply a tray pause still running, then catch up on alerts. */
  private async afterStart(): Promise<void> {
    if (this.pausedUntil !== undefined) {
      if (this.pausedUntil > this.timers.now()) {
        const r = await this.o.relay.call('bulwark:jobs.pauseAll', {});
        if (!r.ok) this.log('could not pause the restarted service again', r.error);
      } else this.pausedUntil = undefined;
    }
    await this.refresh();
    const alerts = await this.o.relay.call('bulwark:alerts.list', { active: true });
    if (!alerts.ok) {
      this.log('could not list the open alerts', alerts.error);
      return;
    }
    this.o.notifier.sync(alerts.value.alerts, this.status?.sources ?? []);
  }

  private onEvent(event: EventName, payload: unknown): void {
    switch (event) {
      case 'bulwark:job.progress': {
        const p = payload as EventOf<'bulwark:job.progress'>;
        if (p.phase === 'scanning' || p.phase === 'backing-up' || p.phase === 'finalizing') {
          this.progress.set(p.jobId, p);
          this.render();
        }
        break;
      }
      case 'bulwark:job.state': {
        const e = payload as EventOf<'bulwark:job.state'>;
        if (e.state !== 'running' && e.state !== 'queued') this.progress.delete(e.jobId);
        if (e.kind === 'backup' && e.state === 'succeeded') {
          const name = this.status?.sources.find((s) => s.id === e.sourceId)?.name;
          this.o.notifier.backupSucceeded(name);
        }
        this.render();
        break;
      }
      case 'bulwark:alert.raised':
        this.o.notifier.alertRaised(payload as EventOf<'bulwark:alert.raised'>);
        break;
      case 'bulwark:alert.cleared':
        this.o.notifier.alertCleared(payload as EventOf<'bulwark:alert.cleared'>);
        break;
      default:
        break;
    }
    if (REFRESH_ON.has(event)) this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    this.timers.clearTimeout(this.refreshTimer);
    this.refreshTimer = this.timers.setTimeout(() => void this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  /** Fetches service.status (the window's own answer) and redraws. */
  async refresh(): Promise<void> {
    const r = await this.o.relay.call('bulwark:service.status', {});
    if (!r.ok) {
      this.log('could not read the service status', r.error);
      return;
    }
    this.status = r.value;
    // resumed elsewhere (the window's Settings): the tray's pause is over
    if (!r.value.paused && this.pausedUntil !== undefined) {
      this.timers.clearTimeout(this.pauseTimer);
      this.pausedUntil = undefined;
    }
    this.o.notifier.reasons(r.value.sources);
    this.render();
  }

  private relabel(): void {
    this.render();
    this.relabelTimer = this.timers.setTimeout(() => this.relabel(), RELABEL_MS);
  }

  private render(): void {
    const h = this.o.relay.status;
    const input: TrayInput = {
      service:
        h.state === 'crashed'
          ? { state: 'down', reason: h.reason }
          : h.state === 'running'
            ? { state: 'running' }
            : { state: 'starting' },
      ...(this.status
        ? {
            status: {
              overall: this.status.overall,
              paused: this.status.paused,
              sourceIds: this.status.sources.filter((s) => s.enabled).map((s) => s.id),
            },
          }
        : {}),
      progress: this.progress,
      ...(this.pausedUntil !== undefined ? { pausedUntil: this.pausedUntil } : {}),
      now: this.timers.now(),
      ...(this.o.timeZone ? { timeZone: this.o.timeZone } : {}),
      ...(this.o.locale ? { locale: this.o.locale } : {}),
    };
    this.view = trayView(input);
    try {
      this.tray?.render(this.view, this.settings);
    } catch (e) {
      this.log('could not draw the tray icon', e);
    }
  }
}
