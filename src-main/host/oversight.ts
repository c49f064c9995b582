import type { ParsedRequestOf, ResponseOf } from '../contract/ipc.ts';
import { ok } from '../contract/result.ts';
import { BulwarkError, systemClock, type Clock } from '../engine/index.ts';
import type { BackupService } from '../engine/service/index.ts';
import { listAudit } from '../engine/service/audit-view.ts';
import type { ChannelStatus, NotifyUpdate } from '../engine/service/notify/dispatcher.ts';
import { storageHistory } from '../engine/service/storage-stats.ts';
import type { Handlers } from '../transport/dispatch.ts';

/**
 * notifications.get/update/test, audit.list and stats.storage over the service (contract/oversight.ts).
 * Secrets go in and never come out: the answers say only whether one is set (and an address's host).
 */

export const OVERSIGHT_CHANNELS = [
  'bulwark:notifications.get',
  'bulwark:notifications.update',
  'bulwark:notifications.test',
  'bulwark:audit.list',
  'bulwark:stats.storage',
] as const;
export type OversightHandlers = Pick<Handlers, (typeof OVERSIGHT_CHANNELS)[number]>;

const iso = (ms: number): string => new Date(ms).toISOString();

function channelStatus(s: ChannelStatus): ResponseOf<'bulwark:notifications.get'>['status']['email'] {
  return {
    ...(s.lastSentAt !== null ? { lastSentAt: iso(s.lastSentAt) } : {}),
    ...(s.lastError !== null ? { lastError: { at: iso(s.lastError.at), message: s.lastError.message } } : {}),
    pending: s.pending,
  };
}

export function notificationSettings(service: BackupService): ResponseOf<'bulwark:notifications.get'> {
  const n = service.notifications;
  const cfg = n.config();
  const shown = n.secretsShown();
  const status = n.status();
  return {
    email: { ...cfg.email, to: [...cfg.email.to], passwordSet: shown.emailPassword },
    webhook: {
      enabled: cfg.webhook.enabled,
      urlSet: shown.webhookUrlHost !== undefined,
      ...(shown.webhookUrlHost !== undefined ? { urlHost: shown.webhookUrlHost } : {}),
      pingUrlSet: shown.pingUrlHost !== undefined,
      ...(shown.pingUrlHost !== undefined ? { pingUrlHost: shown.pingUrlHost } : {}),
    },
    routes: { email: [...cfg.routes.email], webhook: [...cfg.routes.webhook] },
    notifyCleared: cfg.notifyCleared,
    status: {
      email: channelStatus(status.email),
      webhook: channelStatus(status.webhook),
      ping: channelStatus(status.ping),
    },
  };
}

function toUpdate(req: ParsedRequestOf<'bulwark:notifications.update'>): NotifyUpdate {
  const update: NotifyUpdate = {};
  if (req.email) {
    const { password, ...email } = req.email;
    update.email = { ...email, ...(password !== undefined ? { password } : {}) };
  }
  if (req.webhook) {
    update.webhook = {
      enabled: req.webhook.enabled,
      ...(req.webhook.url !== undefined ? { url: req.webhook.url } : {}),
      ...(req.webhook.pingUrl !== undefined ? { pingUrl: req.webhook.pingUrl } : {}),
    };
  }
  if (req.routes) update.routes = { email: [...req.routes.email], webhook: [...req.routes.webhook] };
  if (req.notifyCleared !== undefined) update.notifyCleared = req.notifyCleared;
  return update;
}

function ms(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Date.parse(text);
}

export function createOversightHandlers(
  service: BackupService,
  clock: Clock = systemClock,
): OversightHandlers {
  return {
    'bulwark:notifications.get': () => ok(notificationSettings(service)),

    'bulwark:notifications.update': (req) => {
      service.notifications.update(toUpdate(req));
      return ok(notificationSettings(service));
    },

    'bulwark:notifications.test': async ({ channel }) => {
      const r = await service.notifications.test(channel);
      return ok({ sentAt: iso(r.sentAt), to: r.to });
    },

    'bulwark:audit.list': (req) => {
      const since = ms(req.since);
      const until = ms(req.until);
      if (since !== undefined && until !== undefined && since >= until)
        throw new BulwarkError('INVALID_ARGUMENT', 'The start of the period must be before its end.');
      const page = listAudit(
        { catalog: service.catalog, config: service.config },
        {
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          ...(req.action !== undefined ? { action: req.action } : {}),
          ...(req.sourceId !== undefined ? { sourceId: req.sourceId } : {}),
          ...(req.targetId !== undefined ? { targetId: req.targetId } : {}),
          ...(req.offset !== undefined ? { offset: req.offset } : {}),
          ...(req.limit !== undefined ? { limit: req.limit } : {}),
        },
      );
      return ok({
        total: page.total,
        offset: page.offset,
        actions: page.actions,
        entries: page.entries.map((e) => ({
          id: e.id,
          time: iso(e.time),
          actor: e.actor,
          ...(e.host !== null ? { host: e.host } : {}),
          ...(e.user !== null ? { user: e.user } : {}),
          action: e.action,
          ...(e.subject !== null ? { subject: e.subject } : {}),
          ...(e.details !== null ? { details: e.details } : {}),
          ...(e.sourceId !== null ? { sourceId: e.sourceId } : {}),
          ...(e.sourceName !== null ? { sourceName: e.sourceName } : {}),
          ...(e.targetId !== null ? { targetId: e.targetId } : {}),
          ...(e.targetName !== null ? { targetName: e.targetName } : {}),
          stored: e.stored,
        })),
      });
    },

    'bulwark:stats.storage': ({ targetId, days }) => {
      const h = storageHistory(
        { catalog: service.catalog, config: service.config, clock },
        targetId,
        days ?? 30,
      );
      return ok({
        targetId: h.targetId,
        ...(h.currentBytes !== null ? { currentBytes: h.currentBytes } : {}),
        days: h.days.map((d) => ({
          date: d.date,
          ...(d.repositoryBytes !== null ? { repositoryBytes: d.repositoryBytes } : {}),
          bytesAdded: d.bytesAdded,
          backups: d.backups,
        })),
      });
    },
  };
}
