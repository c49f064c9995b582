import { Mail, Save, Send, Webhook } from 'lucide-react';
import { useEffect, useId, useState } from 'react';
import { Checkbox } from 'react-aria-components';

import type { AlertKind } from '../../../../src-main/contract/model.ts';
import type { EmailSecurity, NotificationSettings } from '../../../../src-main/contract/oversight.ts';
import {
  notificationsSelectors,
  notificationsStore,
  useNotificationsStore,
  type NotificationsUpdate,
  type TestChannel,
} from '../../stores/notifications/index.ts';
import { Banner } from '../../ui/Banner.tsx';
import { Button } from '../../ui/Button.tsx';
import { Card } from '../../ui/Card.tsx';
import { Select, Switch, TextField } from '../../ui/fields.tsx';
import { formatExact } from '../../ui/format.ts';
import { ErrorState, Skeleton } from '../../ui/States.tsx';
import { ALERT_KIND_LABEL, refusalText } from './oversight-words.ts';
import './settings.css';

const SECURITY_CHOICES = [
  { value: 'starttls', label: 'STARTTLS (usually port 587)' },
  { value: 'tls', label: 'TLS from the start (usually port 465)' },
  { value: 'none', label: 'None: only for a mail relay inside the office' },
] as const satisfies readonly { value: EmailSecurity; label: string }[];

const KINDS = Object.keys(ALERT_KIND_LABEL) as AlertKind[];

/** What the form holds; secrets typed here are sent once and never shown again. */
interface Form {
  emailEnabled: boolean;
  host: string;
  port: string;
  security: EmailSecurity;
  user: string;
  password: string;
  from: string;
  to: string;
  webhookEnabled: boolean;
  webhookUrl: string;
  pingUrl: string;
  routes: { email: AlertKind[]; webhook: AlertKind[] };
  notifyCleared: boolean;
}

function formOf(s: NotificationSettings): Form {
  return {
    emailEnabled: s.email.enabled,
    host: s.email.host,
    port: String(s.email.port),
    security: s.email.security,
    user: s.email.user,
    password: '',
    from: s.email.from,
    to: s.email.to.join(', '),
    webhookEnabled: s.webhook.enabled,
    webhookUrl: '',
    pingUrl: '',
    routes: { email: [...s.routes.email], webhook: [...s.routes.webhook] },
    notifyCleared: s.notifyCleared,
  };
}

/** The request of a form: secrets only when typed (an empty field keeps the saved one). */
function updateOf(f: Form): NotificationsUpdate {
  const port = Number(f.port.trim());
  return {
    email: {
      enabled: f.emailEnabled,
      host: f.host.trim(),
      port: Number.isInteger(port) ? port : Number.NaN,
      security: f.security,
      user: f.user.trim(),
      from: f.from.trim(),
      to: f.to
        .split(/[,;\s]+/)
        .map((x) => x.trim())
        .filter((x) => x !== ''),
      ...(f.password !== '' ? { password: f.password } : {}),
    },
    webhook: {
      enabled: f.webhookEnabled,
      ...(f.webhookUrl.trim() !== '' ? { url: f.webhookUrl.trim() } : {}),
      ...(f.pingUrl.trim() !== '' ? { pingUrl: f.pingUrl.trim() } : {}),
    },
    routes: f.routes,
    notifyCleared: f.notifyCleared,
  };
}

/** The Notifications tab of Settings: email, webhook, which alerts go where, and how deliveries went. */
export function NotificationsSection() {
  const status = useNotificationsStore(notificationsSelectors.status);
  const settings = useNotificationsStore(notificationsSelectors.settings);
  const error = useNotificationsStore(notificationsSelectors.error);
  const [form, setForm] = useState<Form | undefined>(undefined);

  useEffect(() => {
    void notificationsStore.getState().load();
  }, []);
  // the form starts from what is saved, once
  useEffect(() => {
    if (settings && !form) setForm(formOf(settings));
  }, [settings, form]);

  if (status === 'error' && error && !settings)
    return (
      <ErrorState
        error={error}
        title="Could not load the notification settings"
        onRetry={() => void notificationsStore.getState().load()}
      />
    );
  if (!settings || !form) return <Skeleton lines={6} label="Loading the notification settings…" />;

  const change = (patch: Partial<Form>) => setForm({ ...form, ...patch });
  return (
    <div className="settings">
      <p className="settings__intro">
        Bulwark shows every problem in this app. So that someone hears about it when nobody is looking, it can
        also send an email or a message to a chat or monitoring service: once when a problem starts, a
        reminder once a day while it lasts, and once when it is resolved.
      </p>
      <EmailCard form={form} settings={settings} change={change} />
      <WebhookCard form={form} settings={settings} change={change} />
      <RoutesCard form={form} change={change} />
    </div>
  );
}

interface CardProps {
  form: Form;
  settings: NotificationSettings;
  change: (patch: Partial<Form>) => void;
}

function SaveAndTest({
  form,
  origin,
  tests,
}: {
  form: Form;
  origin: string;
  tests: { channel: TestChannel; label: string }[];
}) {
  const saving = useNotificationsStore(notificationsSelectors.saving);
  const testing = useNotificationsStore(notificationsSelectors.testing);
  async function save() {
    const ok = await notificationsStore.getState().save(updateOf(form), origin);
    if (ok) notificationsStore.setState({ tests: {} });
  }
  return (
    <div className="actions-row">
      <Button variant="primary" icon={Save} onPress={() => void save()} isPending={saving && !testing}>
        Save
      </Button>
      {tests.map((t) => (
        <Button
          key={t.channel}
          icon={Send}
          onPress={() => void notificationsStore.getState().test(t.channel, updateOf(form))}
          isPending={testing === t.channel}
          isDisabled={testing !== undefined && testing !== t.channel}
        >
          {t.label}
        </Button>
      ))}
    </div>
  );
}

/** The outcome of the last test of a channel, and the channel's last failed delivery, in words. */
function ChannelOutcome({
  channel,
  what,
  status,
}: {
  channel: TestChannel;
  what: string;
  status: NotificationSettings['status']['email'];
}) {
  const test = useNotificationsStore(notificationsSelectors.test(channel));
  return (
    <div className="notify__outcome" aria-live="polite">
      {test?.ok === true ? (
        <Banner tone="success" title="Test message sent">
          Sent to {test.to} at {formatExact(test.at)}. Check that it arrived.
        </Banner>
      ) : null}
      {test?.ok === false ? (
        <Banner tone="danger" title="The test message could not be sent">
          {refusalText(test.error)}
        </Banner>
      ) : null}
      {test === undefined && status.lastError ? (
        <Banner tone="warning" title={`The last ${what} could not be sent`}>
          {status.lastError.message} ({formatExact(status.lastError.at)}
          {status.pending > 0 ? `; Bulwark tries again by itself, ${status.pending} waiting` : ''})
        </Banner>
      ) : null}
      {test === undefined && !status.lastError && status.lastSentAt ? (
        <p className="notify__last">
          Last {what} sent {formatExact(status.lastSentAt)}.
        </p>
      ) : null}
    </div>
  );
}

function SaveError({ origin }: { origin: string }) {
  const saveError = useNotificationsStore(notificationsSelectors.saveError);
  const saveOrigin = useNotificationsStore(notificationsSelectors.saveOrigin);
  if (!saveError || saveOrigin !== origin) return null;
  return (
    <Banner tone="danger" title="The settings were not saved">
      {refusalText(saveError)}
    </Banner>
  );
}

function EmailCard({ form, settings, change }: CardProps) {
  return (
    <Card title="Email" actions={<Mail aria-hidden="true" size={20} className="notify__card-icon" />}>
      <Switch isSelected={form.emailEnabled} onChange={(emailEnabled) => change({ emailEnabled })}>
        Send alerts by email
      </Switch>
      <div className="notify__grid">
        <TextField
          label="Mail server"
          description="From your email provider, for example smtp.office365.com"
          value={form.host}
          onChange={(host) => change({ host })}
          maxLength={253}
        />
        <TextField label="Port" value={form.port} onChange={(port) => change({ port })} maxLength={5} />
        <Select
          label="Secure connection"
          value={form.security}
          onChange={(security) => change({ security })}
          choices={SECURITY_CHOICES}
        />
        <TextField
          label="User name"
          description="Usually the email address of the account that sends"
          value={form.user}
          onChange={(user) => change({ user })}
          maxLength={320}
        />
        <TextField
          label="Password"
          type="password"
          description={
            settings.email.passwordSet
              ? 'A password is saved. Leave this empty to keep it.'
              : 'Some providers need an app password made for this.'
          }
          value={form.password}
          onChange={(password) => change({ password })}
          maxLength={1024}
        />
        <TextField
          label="Sender address"
          description="Optional: the user name is used when it is an address"
          value={form.from}
          onChange={(from) => change({ from })}
          maxLength={320}
        />
        <div className="notify__wide">
          <TextField
            label="Send to"
            description="One or more addresses, separated by commas"
            value={form.to}
            onChange={(to) => change({ to })}
            maxLength={2000}
          />
        </div>
      </div>
      <SaveAndTest form={form} origin="email" tests={[{ channel: 'email', label: 'Send test email' }]} />
      <SaveError origin="email" />
      <ChannelOutcome channel="email" what="email" status={settings.status.email} />
    </Card>
  );
}

function WebhookCard({ form, settings, change }: CardProps) {
  const saved = (host: string | undefined) =>
    host ? `An address at ${host} is saved. Leave this empty to keep it.` : undefined;
  return (
    <Card title="Webhook" actions={<Webhook aria-hidden="true" size={20} className="notify__card-icon" />}>
      <Switch isSelected={form.webhookEnabled} onChange={(webhookEnabled) => change({ webhookEnabled })}>
        Send alerts to a webhook (Slack, Microsoft Teams, ntfy or another service)
      </Switch>
      <div className="notify__grid">
        <div className="notify__wide">
          <TextField
            label="Webhook address"
            type="url"
            description={
              saved(settings.webhook.urlHost) ??
              'The address the chat or monitoring service gives you for incoming messages.'
            }
            value={form.webhookUrl}
            onChange={(webhookUrl) => change({ webhookUrl })}
            maxLength={2048}
          />
        </div>
        <div className="notify__wide">
          <TextField
            label="Address to call after each good backup (optional)"
            type="url"
            description={
              saved(settings.webhook.pingUrlHost) ??
              'For a service like healthchecks.io: it warns you when the calls stop, even if this computer is off.'
            }
            value={form.pingUrl}
            onChange={(pingUrl) => change({ pingUrl })}
            maxLength={2048}
          />
        </div>
      </div>
      <SaveAndTest
        form={form}
        origin="webhook"
        tests={[
          { channel: 'webhook', label: 'Send test message' },
          ...(settings.webhook.pingUrlSet || form.pingUrl.trim() !== ''
            ? [{ channel: 'ping' as const, label: 'Test the call' }]
            : []),
        ]}
      />
      <SaveError origin="webhook" />
      <ChannelOutcome channel="webhook" what="webhook message" status={settings.status.webhook} />
      {settings.webhook.pingUrlSet ? (
        <ChannelOutcome channel="ping" what="call after a good backup" status={settings.status.ping} />
      ) : null}
    </Card>
  );
}

function RoutesCard({ form, change }: Pick<CardProps, 'form' | 'change'>) {
  const captionId = useId();
  const toggle = (channel: 'email' | 'webhook', kind: AlertKind, on: boolean) => {
    const list = form.routes[channel].filter((k) => k !== kind);
    change({ routes: { ...form.routes, [channel]: on ? [...list, kind] : list } });
  };
  return (
    <Card title="Which alerts go where">
      <table className="notify__routes" aria-describedby={captionId}>
        <caption id={captionId} className="notify__caption">
          Every kind of problem is sent by default. Untick what a channel should not receive.
        </caption>
        <thead>
          <tr>
            <th scope="col">Alert</th>
            <th scope="col">Email</th>
            <th scope="col">Webhook</th>
          </tr>
        </thead>
        <tbody>
          {KINDS.map((kind) => (
            <tr key={kind}>
              <th scope="row">{ALERT_KIND_LABEL[kind]}</th>
              {(['email', 'webhook'] as const).map((channel) => (
                <td key={channel}>
                  <Checkbox
                    className="checkbox"
                    aria-label={`${ALERT_KIND_LABEL[kind]}: ${channel === 'email' ? 'email' : 'webhook'}`}
                    isSelected={form.routes[channel].includes(kind)}
                    onChange={(on) => toggle(channel, kind, on)}
                  >
                    <span className="checkbox__box" aria-hidden="true">
                      <svg viewBox="0 0 16 16" className="checkbox__mark">
                        <polyline points="3.5 8.5 6.5 11.5 12.5 4.5" />
                      </svg>
                    </span>
                  </Checkbox>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <Switch isSelected={form.notifyCleared} onChange={(notifyCleared) => change({ notifyCleared })}>
        Also send a message when a problem is resolved
      </Switch>
      <SaveAndTest form={form} origin="routes" tests={[]} />
      <SaveError origin="routes" />
    </Card>
  );
}
