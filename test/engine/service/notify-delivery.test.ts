/**
 * Alerts that reach someone, end to end on real parts: a backup service backing up a real folder to a real
 * folder target, a real SMTP server on 127.0.0.1 that insists on STARTTLS (self-signed certificate made
 * here) and a password, and a real HTTP receiver for the webhook and the ping. A backup that fails for real
 * (the NAS folder replaced by a file) sends exactly one email and one webhook; failing again for the same
 * cause sends nothing; a day later one reminder each; the good run after it one "resolved" each.
 * Also the storage history and the audit log the same runs left, through their contract handlers.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels } from '../../../src-main/contract/ipc.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { createBackupService } from '../../../src-main/engine/service/service.ts';
import { createOversightHandlers } from '../../../src-main/host/oversight.ts';
import {
  makeCertificate,
  startHttpReceiver,
  startSmtpReceiver,
  type HttpReceiver,
  type SmtpReceiver,
  type TestCertificate,
} from '../../harness/notify-receivers.ts';
import { PASSWORD, TEST_KDF } from '../helpers/repo.ts';
import { otherDisk } from './helpers/disk.ts';
import { ManualTimers, tempDir } from './helpers/util.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('alert delivery to a real SMTP server and a real webhook', () => {
  let cert: TestCertificate;
  let smtp: SmtpReceiver;
  let http: HttpReceiver;
  beforeAll(async () => {
    cert = makeCertificate();
    smtp = await startSmtpReceiver(cert, { user: 'office@example.com', password: 'mail-secret' });
    http = await startHttpReceiver();
  });
  afterAll(async () => {
    await smtp.close();
    await http.close();
    cert.cleanup();
  });

  it('one email and one webhook per failure cause, a daily reminder, one "resolved"', async () => {
    const t = tempDir('notify-e2e');
    const data = join(t.dir, 'office');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'invoice.txt'), 'invoice 1');
    const nas = join(t.dir, 'nas', 'bulwark');
    const clock = new FakeClock(Date.now());
    const timers = new ManualTimers(clock);
    const svc = createBackupService({
      home: join(t.dir, 'home'),
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      backup: { readers: 2 },
      watch: { enabled: false },
      clock,
      timers,
      disk: otherDisk(join(t.dir, 'nas')),
      notify: { emailCa: cert.cert, computer: 'office-pc' },
    });
    try {
      const target = await svc.addTarget({ name: 'NAS', location: nas }, { initialize: true });
      const source = await svc.addSource({ name: 'Office', paths: [data], targetId: target.id });
      svc.notifications.update({
        email: {
          enabled: true,
          host: '127.0.0.1',
          port: smtp.port,
          security: 'starttls',
          user: 'office@example.com',
          from: '',
          to: ['boss@example.com', 'it@example.com'],
          password: 'mail-secret',
        },
        webhook: { enabled: true, url: `${http.url}/hooks/office`, pingUrl: `${http.url}/ping/abc` },
      });
      await svc.start();

      // the first backup (queued by the start) is good: the ping address hears of it, nobody gets mail
      await svc.whenIdle();
      expect(svc.history({ sourceId: source.id }).map((r) => r.state)).toEqual(['succeeded']);
      await svc.notifications.flush();
      expect(smtp.mails).toHaveLength(0);
      expect(http.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /ping/abc']);

      // the NAS folder is replaced by a file: the backup fails for real
      rmSync(nas, { recursive: true, force: true });
      writeFileSync(nas, 'not a backup folder');
      const failed = await svc.waitForJob(svc.runNow(source.id).id);
      expect(failed.state).toBe('FAILED');
      await svc.notifications.flush();
      expect(smtp.mails).toHaveLength(1);
      const mail = smtp.mails[0];
      expect(mail?.secure).toBe(true); // upgraded with STARTTLS before the password and the message
      expect(mail?.user).toBe('office@example.com');
      expect(mail?.to).toEqual(['boss@example.com', 'it@example.com']);
      expect(mail?.subject).toMatch(/^\[Bulwark on office-pc\] Problem: /);
      expect(mail?.raw).toContain('What to do:');
      const hooks = () => http.requests.filter((r) => r.path === '/hooks/office');
      expect(hooks()).toHaveLength(1);
      expect(hooks()[0]?.contentType).toBe('application/json');
      expect(hooks()[0]?.json).toMatchObject({
        event: 'raised',
        app: 'Bulwark',
        computer: 'office-pc',
        alert: { kind: 'target-unreachable', targetId: target.id },
      });
      expect((hooks()[0]?.json as { text: string }).text).toContain('NAS');

      // the same cause again: the open alert is refreshed, nothing new is sent
      const again = await svc.waitForJob(svc.runNow(source.id).id);
      expect(again.state).toBe('FAILED');
      await svc.notifications.flush();
      expect(smtp.mails).toHaveLength(1);
      expect(hooks()).toHaveLength(1);

      // a day later it is still open: one reminder each
      clock.advance(DAY);
      svc.notifications.checkReminders();
      await svc.notifications.flush();
      expect(smtp.mails).toHaveLength(2);
      expect(smtp.mails[1]?.subject).toContain('Still not resolved');
      expect(hooks().map((r) => (r.json as { event: string }).event)).toEqual(['raised', 'reminder']);

      // the NAS is back: the good run clears the alert, one "resolved" each
      rmSync(nas, { force: true });
      await svc.removeSource(source.id);
      svc.removeTarget(target.id);
      const nas2 = join(t.dir, 'nas', 'bulwark2');
      const target2 = await svc.addTarget({ name: 'NAS', location: nas2 }, { initialize: true });
      const source2 = await svc.addSource({ name: 'Office', paths: [data], targetId: target2.id });
      await svc.waitForJob(svc.runNow(source2.id).id);
      await svc.notifications.flush();
      expect(smtp.mails).toHaveLength(3);
      expect(smtp.mails[2]?.subject).toContain('Resolved');
      expect(svc.notifications.status().email).toMatchObject({ pending: 0, lastError: null });

      // what the runs left: the storage history and the audit log, through their contract handlers
      const handlers = createOversightHandlers(svc, clock);
      const storage = await handlers['bulwark:stats.storage']({ targetId: target2.id, days: 7 });
      if (!storage.ok) throw new Error(storage.error.message);
      channels['bulwark:stats.storage'].response.parse(storage.value);
      expect(storage.value.days).toHaveLength(7);
      const today = storage.value.days.at(-1);
      expect(today?.backups).toBeGreaterThanOrEqual(1); // the first backup a new source gets, and the one asked for
      expect(today?.bytesAdded).toBeGreaterThan(0);
      expect(today?.repositoryBytes).toBeGreaterThan(0);
      expect(storage.value.currentBytes).toBe(today?.repositoryBytes);

      const audit = await handlers['bulwark:audit.list']({ targetId: target2.id });
      if (!audit.ok) throw new Error(audit.error.message);
      channels['bulwark:audit.list'].response.parse(audit.value);
      expect(audit.value.total).toBeGreaterThanOrEqual(1);
      expect(audit.value.entries[0]).toMatchObject({
        action: 'backup',
        sourceId: source2.id,
        sourceName: 'Office',
        targetName: 'NAS',
        stored: true,
      });
      expect(audit.value.actions).toContain('backup');
      const all = await handlers['bulwark:audit.list']({ action: 'backup', limit: 1 });
      if (!all.ok) throw new Error(all.error.message);
      expect(all.value.entries).toHaveLength(1);
      expect(all.value.total).toBeGreaterThanOrEqual(3); // the good, the two failed (recorded in the catalog), the last

      // the answers never carry a secret
      const shown = await handlers['bulwark:notifications.get']({});
      if (!shown.ok) throw new Error(shown.error.message);
      const text = JSON.stringify(shown.value);
      expect(text).not.toContain('mail-secret');
      expect(text).not.toContain('/hooks/office');
      expect(text).not.toContain('/ping/abc');
      expect(shown.value.webhook).toMatchObject({ urlSet: true, urlHost: http.url.replace('http://', '') });
    } finally {
      await svc.stop();
      t.cleanup();
    }
  }, 60_000);

  it('a wrong password is told in plain words by Send test, and recorded as the last error', async () => {
    const t = tempDir('notify-test');
    const svc = createBackupService({
      home: join(t.dir, 'home'),
      passwordFor: () => PASSWORD,
      kdf: TEST_KDF,
      watch: { enabled: false },
      notify: { emailCa: cert.cert, computer: 'office-pc' },
    });
    try {
      svc.notifications.update({
        email: {
          enabled: true,
          host: '127.0.0.1',
          port: smtp.port,
          security: 'starttls',
          user: 'office@example.com',
          from: 'office@example.com',
          to: ['boss@example.com'],
          password: 'wrong',
        },
      });
      await expect(svc.notifications.test('email')).rejects.toThrow(
        'The mail server 127.0.0.1 (port ' +
          String(smtp.port) +
          ') did not accept the user name and password.',
      );
      expect(svc.notifications.status().email.lastError?.message).toMatch(/did not accept the user name/);
      svc.notifications.update({
        email: {
          enabled: true,
          host: '127.0.0.1',
          port: smtp.port,
          security: 'starttls',
          user: 'office@example.com',
          from: 'office@example.com',
          to: ['boss@example.com'],
          password: 'mail-secret',
        },
      });
      const before = smtp.mails.length;
      await expect(svc.notifications.test('email')).resolves.toMatchObject({ to: 'boss@example.com' });
      expect(smtp.mails).toHaveLength(before + 1);
      expect(smtp.mails.at(-1)?.subject).toBe('[Bulwark on office-pc] Test message');
      expect(svc.notifications.status().email.lastError).toBeNull();

      http.status = 404;
      svc.notifications.update({ webhook: { enabled: true, url: `${http.url}/gone` } });
      await expect(svc.notifications.test('webhook')).rejects.toThrow(/does not exist any more/);
      http.status = 200;
    } finally {
      await svc.stop();
      t.cleanup();
    }
  }, 30_000);
});
