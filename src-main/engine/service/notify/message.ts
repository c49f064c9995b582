import type { Alert, AlertSeverity } from '../alerts.ts';
import type { EmailMessage } from './email.ts';

/**
 * What a notification says, for someone who is not at the office computer: what happened and on which
 * computer, what it means, and what to do (the alert's own words: no codes, no commands).
 */

export type NotifyEvent = 'raised' | 'cleared' | 'reminder' | 'test';

const SEVERITY_WORD: Readonly<Record<AlertSeverity, string>> = {
  info: 'Note',
  warning: 'Warning',
  error: 'Problem',
  critical: 'Urgent',
};

export interface MessageContext {
  /** the computer the service runs on */
  computer: string;
  /** formats a time for people (the service's local time) */
  formatTime(ms: number): string;
}

function headline(event: NotifyEvent, alert: Alert): string {
  const first = firstSentence(alert.text);
  switch (event) {
    case 'raised':
      return `${SEVERITY_WORD[alert.severity]}: ${first}`;
    case 'reminder':
      return `Still not resolved: ${first}`;
    case 'cleared':
      return `Resolved: ${first}`;
    case 'test':
      return 'Test message';
  }
}

function firstSentence(text: string): string {
  const m = /^(.+?[.!?])(\s|$)/.exec(text);
  const s = (m?.[1] ?? text).replace(/[.!?]$/, '');
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

function body(event: NotifyEvent, alert: Alert, ctx: MessageContext): string[] {
  const lines = [alert.text, ''];
  if (event === 'cleared') {
    lines.push(
      `This is resolved since ${ctx.formatTime(alert.clearedAt ?? alert.lastSeenAt)}: nothing more to do.`,
    );
  } else {
    if (alert.action) lines.push(`What to do: ${alert.action}`, '');
    if (event === 'reminder')
      lines.push(
        `This has been going on since ${ctx.formatTime(alert.raisedAt)}. Bulwark reminds you once a day while it lasts ` +
          '(acknowledging it in the app stops the reminders).',
      );
    else lines.push(`Noticed at ${ctx.formatTime(alert.raisedAt)}.`);
  }
  return lines;
}

const FOOTER = (ctx: MessageContext): string =>
  `— Bulwark on ${ctx.computer}. Open Bulwark on that computer to see every backup and alert.`;

export function alertEmail(
  event: Exclude<NotifyEvent, 'test'>,
  alert: Alert,
  ctx: MessageContext,
): EmailMessage {
  return {
    subject: `[Bulwark on ${ctx.computer}] ${headline(event, alert)}`,
    text: [...body(event, alert, ctx), '', FOOTER(ctx)].join('\n'),
  };
}

export function testEmail(ctx: MessageContext, now: number): EmailMessage {
  return {
    subject: `[Bulwark on ${ctx.computer}] Test message`,
    text: [
      'This is a test message from Bulwark. Alerts about the backups of this computer will arrive like this one.',
      '',
      `Sent at ${ctx.formatTime(now)}.`,
      '',
      FOOTER(ctx),
    ].join('\n'),
  };
}

/** The JSON body of a webhook: `text` for chat services, the rest for anything that reads fields. */
export interface WebhookBody {
  /** one line for Slack, Teams and ntfy */
  text: string;
  title: string;
  event: NotifyEvent;
  computer: string;
  app: 'Bulwark';
  alert?: {
    id: number;
    kind: string;
    severity: AlertSeverity;
    text: string;
    action: string | null;
    raisedAt: string;
    clearedAt: string | null;
    sourceId: string | null;
    targetId: string | null;
  };
}

export function alertWebhook(
  event: Exclude<NotifyEvent, 'test'>,
  alert: Alert,
  ctx: MessageContext,
): WebhookBody {
  const title = headline(event, alert);
  const lines = body(event, alert, ctx).filter((l) => l !== '');
  return {
    text: `Bulwark on ${ctx.computer} — ${title}\n${lines.join('\n')}`,
    title,
    event,
    computer: ctx.computer,
    app: 'Bulwark',
    alert: {
      id: alert.id,
      kind: alert.kind,
      severity: alert.severity,
      text: alert.text,
      action: alert.action,
      raisedAt: new Date(alert.raisedAt).toISOString(),
      clearedAt: alert.clearedAt === null ? null : new Date(alert.clearedAt).toISOString(),
      sourceId: alert.sourceId,
      targetId: alert.targetId,
    },
  };
}

export function testWebhook(ctx: MessageContext): WebhookBody {
  return {
    text: `Bulwark on ${ctx.computer} — Test message: alerts about this computer's backups will arrive here.`,
    title: 'Test message',
    event: 'test',
    computer: ctx.computer,
    app: 'Bulwark',
  };
}
