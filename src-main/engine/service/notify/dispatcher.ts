import { hostname } from 'node:os';

import type { Catalog } from '../../catalog/catalog.ts';
import type { Clock } from '../../clock.ts';
import { BulwarkError } from '../../errors.ts';
import type { Alert, AlertCenter, AlertKind } from '../alerts.ts';
import { realTimers, type Timers } from '../timers.ts';
import { emailConfigProblem, sendEmail, type EmailMessage } from './email.ts';
import {
  alertEmail,
  alertWebhook,
  testEmail,
  testWebhook,
  type MessageContext,
  type WebhookBody,
} from './message.ts';
import {
  NotifySettingsStore,
  type EmailConfig,
  type NotifyChannel,
  type NotifyConfig,
  type NotifySecrets,
  type NotifySecretStore,
} from './settings.ts';
import { ping, postWebhook, urlHost } from './webhook.ts';

/**
 * Alerts that reach someone (DESIGN §5): every alert the AlertCenter opens goes, once, to the channels its
 * kind is routed to (email, a webhook); while it stays open and nobody acknowledged it, a reminder goes
 * once a day; when it clears, one "resolved" message (optional) to those that were told. After each good
 * backup a ping address (healthchecks-style) is called, so silence raises the alarm elsewhere.
 *
 * Every message is a row of notify_deliveries before it is sent: a failure is recorded with its reason in
 * plain words (shown on the Settings page), retried with a doubling delay, and given up after a few tries;
 * a restart neither repeats a message nor forgets one that is due. Sending happens beside the backups (its
 * own promise chain, every exchange with a timeout): nothing here ever waits for a backup or makes one wait.
 */

export type DeliveryChannel = NotifyChannel | 'ping';
export type DeliveryEvent = 'raised' | 'cleared' | 'reminder' | 'success' | 'test';

export interface DeliveryRecord {
  id: number;
  channel: DeliveryChannel;
  event: DeliveryEvent;
  alertId: number | null;
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  sentAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}

export interface ChannelStatus {
  lastSentAt: number | null;
  lastError: { at: number; message: string } | null;
  pending: number;
}

/** How messages leave: the real ones by default, tests may count or fail them. */
export interface NotifySenders {
  email(config: EmailConfig, password: string | undefined, message: EmailMessage): Promise<unknown>;
  webhook(url: string, body: WebhookBody): Promise<void>;
  ping(url: string): Promise<void>;
}

export interface NotifyUpdate {
  email?: EmailConfig & { password?: string };
  webhook?: { enabled: boolean; url?: string; pingUrl?: string };
  routes?: Record<NotifyChannel, AlertKind[]>;
  notifyCleared?: boolean;
}

export interface NotificationCenterOptions {
  catalog: Catalog;
  clock: Clock;
  alerts: AlertCenter;
  secrets: NotifySecretStore;
  timers?: Timers;
  senders?: Partial<NotifySenders>;
  /** extra certificate authorities (PEM) trusted for the mail server */
  emailCa?: string;
  /** the computer's name in messages (default: its host name) */
  computer?: string;
  /** first retry after a failed delivery (default 1 min), doubled per failure */
  retryBaseMs?: number;
  /** tries before a message is given up (default 6: about an hour of retries) */
  maxAttempts?: number;
  /** reminder interval while an alert stays open (default a day) */
  reminderMs?: number;
  /** how often reminders and retries are looked for (default 1 min) */
  checkMs?: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** a ping is about one backup: it is not worth retrying for long */
const PING_ATTEMPTS = 3;
/** delivery rows are kept this long (the status shows the last ones) */
const KEEP_MS = 90 * DAY;

interface DeliveryRow {
  id: number;
  channel: DeliveryChannel;
  event: DeliveryEvent;
  alert_id: number | null;
  state: DeliveryRecord['state'];
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  sent_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

const toRecord = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  channel: r.channel,
  event: r.event,
  alertId: r.alert_id,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
  sentAt: r.sent_at,
  lastError: r.last_error,
  lastErrorAt: r.last_error_at,
});

/** A failure in the words shown on the Settings page: the message, then what to check. */
export function deliveryErrorText(e: unknown): string {
  if (e instanceof BulwarkError) return e.hint ? `${e.message} ${e.hint}` : e.message;
  return `The message could not be sent: ${e instanceof Error ? e.message : String(e)}`;
}

export class NotificationCenter {
  readonly settings: NotifySettingsStore;
  private readonly o: NotificationCenterOptions;
  private readonly timers: Timers;
  private readonly senders: NotifySenders;
  private readonly ctx: MessageContext;
  private readonly offs: (() => void)[] = [];
  private loopTimer: unknown;
  private pumping: Promise<void> | undefined;
  private again = false;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(o: NotificationCenterOptions) {
    this.o = o;
    this.timers = o.timers ?? realTimers;
    this.settings = new NotifySettingsStore(o.catalog, o.clock);
    this.senders = {
      email: (c, pw, m) => sendEmail(c, pw, m, o.emailCa ? { ca: o.emailCa } : {}),
      webhook: (url, body) => postWebhook(url, body),
      ping: (url) => ping(url),
      ...o.senders,
    };
    const computer = o.computer ?? hostname();
    this.ctx = {
      computer,
      formatTime: (ms) => new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }),
    };
    this.offs.push(
      o.alerts.on('alert.raised', (a) => this.guard(() => this.alertRaised(a))),
      o.alerts.on('alert.cleared', (a) => this.guard(() => this.alertCleared(a))),
    );
  }

  /** Starts delivering: what is due now, then a check every minute (reminders, retries). */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'started';
    const loop = (): void => {
      this.loopTimer = this.timers.setTimeout(() => {
        if (this.state !== 'started') return;
        this.guard(() => this.checkReminders());
        this.kick();
        loop();
      }, this.o.checkMs ?? MINUTE);
    };
    loop();
    this.guard(() => this.checkReminders());
    this.kick();
  }

  /** Stops the checks and waits for a delivery in flight (each has its own timeout). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.loopTimer !== undefined) this.timers.clearTimeout(this.loopTimer);
    for (const off of this.offs) off();
    await this.pumping;
  }

  // ---- settings -------------------------------------------------------------------------------------

  config(): NotifyConfig {
    return this.settings.get();
  }

  /** Which secrets are kept, as shown: never the secret, only that it is set (and an address's host). */
  secretsShown(): { emailPassword: boolean; webhookUrlHost?: string; pingUrlHost?: string } {
    const s = this.o.secrets.get();
    const webhookUrlHost = urlHost(s.webhookUrl);
    const pingUrlHost = urlHost(s.pingUrl);
    return {
      emailPassword: s.emailPassword !== undefined,
      ...(webhookUrlHost ? { webhookUrlHost } : {}),
      ...(pingUrlHost ? { pingUrlHost } : {}),
    };
  }

  /** Changes the settings; a secret given as '' is removed, one left out is kept. Refuses, in plain words, a channel turned on that cannot send. */
  update(change: NotifyUpdate): NotifyConfig {
    const current = this.settings.get();
    const secrets: NotifySecrets = this.o.secrets.get();
    const next: NotifyConfig = { ...current };
    if (change.email) {
      const { password, ...email } = change.email;
      next.email = { ...email, to: [...email.to] };
      if (password !== undefined) secrets.emailPassword = password === '' ? undefined : password;
      if (email.enabled) {
        const problem = emailConfigProblem(next.email);
        if (problem) throw new BulwarkError('INVALID_ARGUMENT', problem);
      }
    }
    if (change.webhook) {
      const { url, pingUrl, enabled } = change.webhook;
      if (url !== undefined) secrets.webhookUrl = url === '' ? undefined : url;
      if (pingUrl !== undefined) secrets.pingUrl = pingUrl === '' ? undefined : pingUrl;
      if (enabled && !secrets.webhookUrl)
        throw new BulwarkError('INVALID_ARGUMENT', 'Give the webhook address to send the alerts to.');
      next.webhook = { enabled };
    }
    if (change.routes) next.routes = { email: [...change.routes.email], webhook: [...change.routes.webhook] };
    if (change.notifyCleared !== undefined) next.notifyCleared = change.notifyCleared;
    const clean = Object.fromEntries(
      Object.entries(secrets).filter(([, v]) => typeof v === 'string' && v !== ''),
    ) as NotifySecrets;
    this.o.secrets.set(clean);
    const saved = this.settings.set(next);
    // messages waiting for a channel now off, or for a kind no longer routed to it, are not wanted any more
    this.dropUnwanted(saved);
    return saved;
  }

  /** How each channel's deliveries went. */
  status(): Record<DeliveryChannel, ChannelStatus> {
    const one = (channel: DeliveryChannel): ChannelStatus => {
      const db = this.o.catalog.db;
      const sent =
        db
          .prepare<[string], { at: number | null }>(
            `SELECT MAX(sent_at) AS at FROM notify_deliveries WHERE channel = ? AND state = 'sent'`,
          )
          .get(channel)?.at ?? null;
      const err = db
        .prepare<[string], { at: number; message: string }>(
          `SELECT last_error_at AS at, last_error AS message FROM notify_deliveries
           WHERE channel = ? AND last_error_at IS NOT NULL ORDER BY last_error_at DESC, id DESC LIMIT 1`,
        )
        .get(channel);
      const pending =
        db
          .prepare<[string], { n: number }>(
            `SELECT COUNT(*) AS n FROM notify_deliveries WHERE channel = ? AND state = 'pending'`,
          )
          .get(channel)?.n ?? 0;
      // an error that a later delivery got past is history, not the state of the channel
      const lastError = err && (sent === null || err.at > sent) ? err : null;
      return { lastSentAt: sent, lastError, pending };
    };
    return { email: one('email'), webhook: one('webhook'), ping: one('ping') };
  }

  /** Every delivery recorded, oldest first (tests, diagnostics). */
  deliveries(): DeliveryRecord[] {
    return this.o.catalog.db
      .prepare<[], DeliveryRow>('SELECT * FROM notify_deliveries ORDER BY id')
      .all()
      .map(toRecord);
  }

  /**
   * Sends a test message with the saved settings, now, and records how it went. Throws the failure in
   * plain words; the channel need not be turned on (that is what one tests before turning it on).
   */
  async test(channel: DeliveryChannel): Promise<{ sentAt: number; to: string }> {
    const now = this.now();
    const id = this.insert(channel, 'test', null, now);
    try {
      const to = await this.sendTest(channel);
      this.markSent(id);
      return { sentAt: this.now(), to };
    } catch (e) {
      this.o.catalog.db
        .prepare(
          `UPDATE notify_deliveries SET state = 'failed', attempts = 1, last_error = ?, last_error_at = ? WHERE id = ?`,
        )
        .run(deliveryErrorText(e), this.now(), id);
      throw e instanceof BulwarkError ? e : new BulwarkError('IO', deliveryErrorText(e), { cause: e });
    }
  }

  private async sendTest(channel: DeliveryChannel): Promise<string> {
    const cfg = this.settings.get();
    const secrets = this.o.secrets.get();
    switch (channel) {
      case 'email':
        await this.senders.email(cfg.email, secrets.emailPassword, testEmail(this.ctx, this.now()));
        return cfg.email.to.join(', ');
      case 'webhook':
        if (!secrets.webhookUrl)
          throw new BulwarkError('INVALID_ARGUMENT', 'Give the webhook address and save it first.');
        await this.senders.webhook(secrets.webhookUrl, testWebhook(this.ctx));
        return urlHost(secrets.webhookUrl) ?? 'the webhook';
      case 'ping':
        if (!secrets.pingUrl)
          throw new BulwarkError(
            'INVALID_ARGUMENT',
            'Give the address to call after each good backup and save it first.',
          );
        await this.senders.ping(secrets.pingUrl);
        return urlHost(secrets.pingUrl) ?? 'the address';
    }
  }

  // ---- what raises messages ---------------------------------------------------------------------------

  /** A backup succeeded: the ping address (if any) hears about it. At most one ping waits at a time. */
  backupSucceeded(): void {
    this.guard(() => {
      if (!this.o.secrets.get().pingUrl) return;
      const waiting = this.o.catalog.db
        .prepare(`SELECT 1 FROM notify_deliveries WHERE channel = 'ping' AND state = 'pending' LIMIT 1`)
        .get();
      if (waiting === undefined) this.insert('ping', 'success', null, this.now());
      this.kick();
    });
  }

  private alertRaised(a: Alert): void {
    const cfg = this.settings.get();
    for (const channel of this.channelsFor(cfg, a.kind)) {
      const told = this.o.catalog.db
        .prepare(
          `SELECT 1 FROM notify_deliveries WHERE alert_id = ? AND channel = ? AND event = 'raised' LIMIT 1`,
        )
        .get(a.id, channel);
      if (told === undefined) this.insert(channel, 'raised', a.id, this.now());
    }
    this.kick();
  }

  /**
   * An alert cleared: what was still waiting to say it is dropped (telling a problem that is over is
   * noise); the channels that were told get one "resolved" message, when asked for.
   */
  private alertCleared(a: Alert): void {
    const db = this.o.catalog.db;
    db.prepare(
      `DELETE FROM notify_deliveries WHERE alert_id = ? AND state = 'pending' AND event IN ('raised', 'reminder')`,
    ).run(a.id);
    const cfg = this.settings.get();
    if (!cfg.notifyCleared) return;
    for (const channel of this.channelsFor(cfg, a.kind)) {
      const told = db
        .prepare(
          `SELECT 1 FROM notify_deliveries WHERE alert_id = ? AND channel = ? AND state = 'sent'
           AND event IN ('raised', 'reminder') LIMIT 1`,
        )
        .get(a.id, channel);
      if (told !== undefined) this.insert(channel, 'cleared', a.id, this.now());
    }
    this.kick();
  }

  /**
   * Queues the daily reminders: an open alert nobody acknowledged, routed to a channel that was last told
   * about it (or, never told, that saw it raised) a day ago or more. Also forgets deliveries older than 90
   * days. The loop runs it; tests call it after moving the clock.
   */
  checkReminders(): void {
    const now = this.now();
    const cfg = this.settings.get();
    const db = this.o.catalog.db;
    const last = db.prepare<[number, string], { at: number | null }>(
      `SELECT MAX(created_at) AS at FROM notify_deliveries WHERE alert_id = ? AND channel = ?
       AND event IN ('raised', 'reminder')`,
    );
    for (const a of this.o.alerts.list({ active: true })) {
      if (a.acknowledgedAt !== null) continue;
      for (const channel of this.channelsFor(cfg, a.kind)) {
        const base = last.get(a.id, channel)?.at ?? a.raisedAt;
        if (now - base >= (this.o.reminderMs ?? DAY)) this.insert(channel, 'reminder', a.id, now);
      }
    }
    db.prepare(`DELETE FROM notify_deliveries WHERE state != 'pending' AND created_at < ?`).run(
      now - KEEP_MS,
    );
  }

  // ---- delivering -------------------------------------------------------------------------------------

  /** Delivers every message due now (retries whose time has come included); resolves when done. */
  async flush(): Promise<void> {
    this.kick();
    while (this.pumping) await this.pumping;
  }

  private kick(): void {
    if (this.state === 'stopped') return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.again && this.state !== 'stopped') {
        this.again = false;
        this.kick();
      }
    });
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.state === 'stopped') return;
        const due = this.o.catalog.db
          .prepare<[number], DeliveryRow>(
            `SELECT * FROM notify_deliveries WHERE state = 'pending' AND event != 'test' AND next_attempt_at <= ?
             ORDER BY id LIMIT 20`,
          )
          .all(this.now());
        if (due.length === 0) return;
        for (const row of due) await this.deliver(toRecord(row));
      }
    } catch (e) {
      // the catalog went away (closed, disk full): nothing is lost, the rows wait for the next start
      process.emitWarning(`notifications: ${deliveryErrorText(e)}`, 'BulwarkServiceWarning');
    }
  }

  private async deliver(d: DeliveryRecord): Promise<void> {
    const cfg = this.settings.get();
    const alert = d.alertId === null ? undefined : this.o.alerts.get(d.alertId);
    if (alert && d.channel !== 'ping' && !this.channelsFor(cfg, alert.kind).includes(d.channel)) {
      this.o.catalog.db.prepare('DELETE FROM notify_deliveries WHERE id = ?').run(d.id);
      return;
    }
    try {
      await this.send(d, cfg, alert);
      this.markSent(d.id);
    } catch (e) {
      const attempts = d.attempts + 1;
      const max = d.channel === 'ping' ? PING_ATTEMPTS : (this.o.maxAttempts ?? 6);
      const now = this.now();
      this.o.catalog.db
        .prepare(
          `UPDATE notify_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, last_error_at = ?
           WHERE id = ?`,
        )
        .run(
          attempts >= max ? 'failed' : 'pending',
          attempts,
          now + (this.o.retryBaseMs ?? MINUTE) * 2 ** (attempts - 1),
          deliveryErrorText(e),
          now,
          d.id,
        );
    }
  }

  private async send(d: DeliveryRecord, cfg: NotifyConfig, alert: Alert | undefined): Promise<void> {
    const secrets = this.o.secrets.get();
    if (d.channel === 'ping') {
      if (!secrets.pingUrl) return; // removed meanwhile: nothing to call
      await this.senders.ping(secrets.pingUrl);
      return;
    }
    if (!alert || d.event === 'success' || d.event === 'test') return;
    const event = d.event;
    if (d.channel === 'email') {
      await this.senders.email(cfg.email, secrets.emailPassword, alertEmail(event, alert, this.ctx));
      return;
    }
    if (!secrets.webhookUrl)
      throw new BulwarkError('INVALID_ARGUMENT', 'No webhook address is saved.', {
        hint: 'Enter it on the Settings page, under Notifications.',
      });
    await this.senders.webhook(secrets.webhookUrl, alertWebhook(event, alert, this.ctx));
  }

  // ---- helpers ---------------------------------------------------------------------------------------

  private channelsFor(cfg: NotifyConfig, kind: AlertKind): NotifyChannel[] {
    const out: NotifyChannel[] = [];
    if (cfg.email.enabled && cfg.routes.email.includes(kind)) out.push('email');
    if (cfg.webhook.enabled && cfg.routes.webhook.includes(kind)) out.push('webhook');
    return out;
  }

  private dropUnwanted(cfg: NotifyConfig): void {
    const db = this.o.catalog.db;
    const pending = db
      .prepare<[], DeliveryRow>(
        `SELECT * FROM notify_deliveries WHERE state = 'pending' AND alert_id IS NOT NULL`,
      )
      .all();
    const del = db.prepare('DELETE FROM notify_deliveries WHERE id = ?');
    const kinds = new Map(this.o.alerts.list({ active: true, limit: 10_000 }).map((a) => [a.id, a.kind]));
    for (const r of pending) {
      const kind = kinds.get(r.alert_id ?? 0);
      // a cleared alert's "resolved" message keeps its place while its channel still takes the kind
      if (kind === undefined) continue;
      if (r.channel !== 'ping' && !this.channelsFor(cfg, kind).includes(r.channel)) del.run(r.id);
    }
  }

  private insert(
    channel: DeliveryChannel,
    event: DeliveryEvent,
    alertId: number | null,
    now: number,
  ): number {
    const r = this.o.catalog.db
      .prepare(
        `INSERT INTO notify_deliveries (channel, event, alert_id, state, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, 'pending', 0, ?, ?)`,
      )
      .run(channel, event, alertId, now, now);
    return Number(r.lastInsertRowid);
  }

  private markSent(id: number): void {
    this.o.catalog.db
      .prepare(
        `UPDATE notify_deliveries SET state = 'sent', attempts = attempts + 1, sent_at = ? WHERE id = ?`,
      )
      .run(this.now(), id);
  }

  private now(): number {
    return this.o.clock.now().getTime();
  }

  /** Alert listeners must never throw into the AlertCenter (that would break the backup that raised it). */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      process.emitWarning(`notifications: ${deliveryErrorText(e)}`, 'BulwarkServiceWarning');
    }
  }
}
