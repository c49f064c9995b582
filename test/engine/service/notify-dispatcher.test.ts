/**
 * The notification dispatcher on a fake clock: one message per alert and channel, nothing new when the same
 * cause is seen again, a daily reminder while it stays open (none once acknowledged), one "resolved"
 * message to the channels that were told, routing per kind, failures recorded in plain words and retried
 * with a doubling delay, then given up; a restart repeats nothing.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { BulwarkError } from '../../../src-main/engine/errors.ts';
import { AlertCenter } from '../../../src-main/engine/service/alerts.ts';
import {
  NotificationCenter,
  type NotifySenders,
} from '../../../src-main/engine/service/notify/dispatcher.ts';
import type { EmailMessage } from '../../../src-main/engine/service/notify/email.ts';
import type { WebhookBody } from '../../../src-main/engine/service/notify/message.ts';
import {
  fileNotifySecretStore,
  memoryNotifySecretStore,
} from '../../../src-main/engine/service/notify/settings.ts';
import { ManualTimers, tempDir } from './helpers/util.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const EMAIL = {
  enabled: true,
  host: 'smtp.example.com',
  port: 587,
  security: 'starttls' as const,
  user: 'office@example.com',
  from: '',
  to: ['boss@example.com'],
};

describe('NotificationCenter', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  function setup(opts: { failing?: { email?: boolean; webhook?: boolean } } = {}) {
    const t = tempDir('notify');
    const clock = new FakeClock(Date.UTC(2026, 2, 2, 9));
    const path = join(t.dir, 'service.db');
    const catalog = Catalog.open(path, { clock });
    const alerts = new AlertCenter(catalog, clock);
    const sent: { email: EmailMessage[]; webhook: WebhookBody[]; ping: string[] } = {
      email: [],
      webhook: [],
      ping: [],
    };
    const failing = { email: false, webhook: false, ...opts.failing };
    const senders: NotifySenders = {
      email: (_c, _pw, m) => {
        if (failing.email)
          return Promise.reject(new BulwarkError('NETWORK', 'The mail server could not be reached.'));
        sent.email.push(m);
        return Promise.resolve();
      },
      webhook: (_url, body) => {
        if (failing.webhook)
          return Promise.reject(new BulwarkError('IO', 'The webhook refused the message.'));
        sent.webhook.push(body);
        return Promise.resolve();
      },
      ping: (url) => {
        sent.ping.push(url);
        return Promise.resolve();
      },
    };
    const secrets = memoryNotifySecretStore();
    const timers = new ManualTimers(clock);
    const make = (c: Catalog, a: AlertCenter) =>
      new NotificationCenter({
        catalog: c,
        clock,
        alerts: a,
        secrets,
        senders,
        timers,
        computer: 'office-pc',
        retryBaseMs: MINUTE,
        maxAttempts: 3,
      });
    const center = make(catalog, alerts);
    cleanups.push(async () => {
      await center.stop();
      catalog.close();
      t.cleanup();
    });
    center.update({
      email: { ...EMAIL, password: 'secret' },
      webhook: { enabled: true, url: 'https://hooks.example.com/services/T0/B0/abc' },
    });
    return { t, clock, catalog, alerts, center, sent, failing, secrets, timers, path, make };
  }

  it('one email and one webhook per alert; the same cause again sends nothing new', async () => {
    const { alerts, center, sent } = setup();
    const a = alerts.raise({
      kind: 'backup-failed',
      sourceId: 's1',
      text: 'The backup of Office failed: disk full.',
    });
    await center.flush();
    expect(sent.email).toHaveLength(1);
    expect(sent.webhook).toHaveLength(1);
    expect(sent.email[0]?.subject).toBe(
      '[Bulwark on office-pc] Problem: The backup of Office failed: disk full',
    );
    expect(sent.email[0]?.text).toContain('What to do: Bulwark tries again by itself');
    expect(sent.webhook[0]).toMatchObject({
      event: 'raised',
      computer: 'office-pc',
      alert: { id: a.id, kind: 'backup-failed', severity: 'error', sourceId: 's1' },
    });
    expect(sent.webhook[0]?.text).toMatch(/^Bulwark on office-pc — Problem: The backup of Office failed/);

    // the second failure of the same cause refreshes the open alert: no new message
    alerts.raise({ kind: 'backup-failed', sourceId: 's1', text: 'The backup of Office failed: disk full.' });
    await center.flush();
    expect(sent.email).toHaveLength(1);
    expect(sent.webhook).toHaveLength(1);
    expect(center.status().email).toMatchObject({ pending: 0, lastError: null });
    expect(center.status().email.lastSentAt).not.toBeNull();
  });

  it('a reminder once a day while it stays open, none once acknowledged; one "resolved" when it clears', async () => {
    const { alerts, center, sent, clock } = setup();
    const a = alerts.raise({ kind: 'target-unreachable', targetId: 't1', text: 'The NAS cannot be found.' });
    await center.flush();
    expect(sent.email).toHaveLength(1);

    clock.advance(23 * HOUR);
    center.checkReminders();
    await center.flush();
    expect(sent.email).toHaveLength(1); // not a day yet

    clock.advance(HOUR);
    center.checkReminders();
    center.checkReminders(); // checked twice: still one reminder
    await center.flush();
    expect(sent.email).toHaveLength(2);
    expect(sent.email[1]?.subject).toContain('Still not resolved: The NAS cannot be found');
    expect(sent.webhook.map((w) => w.event)).toEqual(['raised', 'reminder']);

    clock.advance(DAY);
    center.checkReminders();
    await center.flush();
    expect(sent.email).toHaveLength(3);

    alerts.acknowledge(a.id);
    clock.advance(DAY);
    center.checkReminders();
    await center.flush();
    expect(sent.email).toHaveLength(3); // a person has seen it: no more reminders

    alerts.clear('target-unreachable', { targetId: 't1' });
    await center.flush();
    expect(sent.email).toHaveLength(4);
    expect(sent.email[3]?.subject).toContain('Resolved: The NAS cannot be found');
    expect(sent.webhook.at(-1)?.event).toBe('cleared');
  });

  it('routes each kind only to the channels chosen for it; "resolved" messages can be turned off', async () => {
    const { alerts, center, sent } = setup();
    center.update({
      routes: { email: ['repository-tampered'], webhook: ['backup-failed', 'repository-tampered'] },
      notifyCleared: false,
    });
    alerts.raise({ kind: 'backup-failed', sourceId: 's1', text: 'Failed.' });
    alerts.raise({ kind: 'repository-tampered', targetId: 't1', text: 'Someone changed a backup file.' });
    alerts.raise({ kind: 'watch-degraded', sourceId: 's1', text: 'Watching fell back to checks.' });
    await center.flush();
    expect(sent.email.map((m) => m.subject)).toEqual([
      '[Bulwark on office-pc] Urgent: Someone changed a backup file',
    ]);
    expect(sent.webhook.map((w) => w.alert?.kind)).toEqual(['backup-failed', 'repository-tampered']);
    alerts.clear('backup-failed', { sourceId: 's1' });
    await center.flush();
    expect(sent.webhook).toHaveLength(2);
  });

  it('a failed delivery is recorded in plain words, retried with a doubling delay, then given up', async () => {
    const { alerts, center, sent, clock, failing } = setup({ failing: { email: true } });
    alerts.raise({ kind: 'backup-failed', sourceId: 's1', text: 'Failed.' });
    await center.flush();
    expect(sent.webhook).toHaveLength(1); // one channel failing never holds up the other
    const status = center.status().email;
    expect(status.pending).toBe(1);
    expect(status.lastError?.message).toBe('The mail server could not be reached.');
    const first = center.deliveries().find((d) => d.channel === 'email');
    expect(first).toMatchObject({
      attempts: 1,
      state: 'pending',
      nextAttemptAt: clock.now().getTime() + MINUTE,
    });

    clock.advance(MINUTE);
    await center.flush();
    expect(center.deliveries().find((d) => d.channel === 'email')).toMatchObject({
      attempts: 2,
      nextAttemptAt: clock.now().getTime() + 2 * MINUTE,
    });
    clock.advance(MINUTE);
    await center.flush(); // not due yet
    expect(center.deliveries().find((d) => d.channel === 'email')?.attempts).toBe(2);
    clock.advance(MINUTE);
    await center.flush();
    expect(center.deliveries().find((d) => d.channel === 'email')).toMatchObject({
      attempts: 3,
      state: 'failed',
    });
    expect(center.status().email).toMatchObject({ pending: 0 });
    expect(center.status().email.lastError).not.toBeNull();

    // the server is back: the next message goes, and the error is history
    failing.email = false;
    alerts.raise({ kind: 'rpo-missed', sourceId: 's1', text: 'Office was last backed up 3 hours ago.' });
    await center.flush();
    expect(sent.email).toHaveLength(1);
    expect(center.status().email.lastError).toBeNull();
  });

  it('a restart repeats nothing and still sends what was due; pings go after good backups', async () => {
    const { alerts, center, sent, catalog, make, clock, secrets } = setup();
    alerts.raise({ kind: 'backup-failed', sourceId: 's1', text: 'Failed.' });
    await center.flush();
    await center.stop();
    // a new process on the same catalog
    const again = make(catalog, new AlertCenter(catalog, clock));
    cleanups.push(() => again.stop());
    again.checkReminders();
    await again.flush();
    expect(sent.email).toHaveLength(1);
    clock.advance(DAY);
    again.checkReminders();
    await again.flush();
    expect(sent.email).toHaveLength(2);

    again.backupSucceeded(); // no ping address: nothing
    await again.flush();
    expect(sent.ping).toEqual([]);
    again.update({ webhook: { enabled: true, pingUrl: 'https://hc-ping.com/1234-abcd' } });
    expect(secrets.get().pingUrl).toBe('https://hc-ping.com/1234-abcd');
    again.backupSucceeded();
    await again.flush();
    expect(sent.ping).toEqual(['https://hc-ping.com/1234-abcd']);
  });

  it('refuses a channel turned on that cannot send, in plain words; shows no secret', () => {
    const { center } = setup();
    expect(() => center.update({ email: { ...EMAIL, to: [] } })).toThrow(
      'Give at least one address to send the alerts to.',
    );
    expect(() => center.update({ webhook: { enabled: true, url: '' } })).toThrow(
      'Give the webhook address to send the alerts to.',
    );
    expect(center.secretsShown()).toEqual({ emailPassword: true, webhookUrlHost: 'hooks.example.com' });
    expect(JSON.stringify(center.config())).not.toContain('secret');
  });

  it('the file secret store is private (0600)', () => {
    const t = tempDir('notify-secrets');
    cleanups.push(() => t.cleanup());
    const file = join(t.dir, 'config', 'notification-secrets.json');
    const store = fileNotifySecretStore(file);
    expect(store.get()).toEqual({});
    store.set({ emailPassword: 'pw', webhookUrl: 'https://x.example/hook' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(store.get()).toEqual({ emailPassword: 'pw', webhookUrl: 'https://x.example/hook' });
  });
});
