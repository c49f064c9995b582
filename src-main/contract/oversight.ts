import { z } from 'zod';

import { alertKindSchema } from './model.ts';

/**
 * The channels of what lets an office see and be told what happened, without opening the app: alert
 * delivery by email and webhook (`notifications.*`), the write-once audit log (`audit.list`) and the
 * storage history of a target (`stats.storage`). Spread into `channels` of ipc.ts.
 *
 * Secrets (the mail password, the webhook and ping addresses, which carry their own access tokens) are sent
 * to the main side and never back: answers say only whether one is set and, for an address, its host.
 */

const id = z.string().min(1).max(100);
const iso = z.iso.datetime({ offset: true });

export const emailSecuritySchema = z.enum(['starttls', 'tls', 'none']);
export type EmailSecurity = z.infer<typeof emailSecuritySchema>;

export const notifyChannelSchema = z.enum(['email', 'webhook']);
export type NotifyChannel = z.infer<typeof notifyChannelSchema>;

/** where a test goes: one of the channels, or the "ping on success" address */
export const notifyTestChannelSchema = z.enum(['email', 'webhook', 'ping']);

const emailAddress = z
  .string('Give an email address.')
  .trim()
  .min(3, 'Give an email address.')
  .max(320, 'This email address is too long.')
  .regex(
    /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/,
    'Give an email address like office@example.com.',
  );

const httpUrl = (what: string) =>
  z
    .url({ protocol: /^https?$/, error: `Give the ${what}: it starts with https:// (or http://).` })
    .max(2048, `The ${what} is too long.`);

/** the mail server and addresses; the password travels separately and is kept as a secret */
export const emailSettingsSchema = z.strictObject({
  enabled: z.boolean(),
  host: z
    .string('Give the name of the mail server.')
    .trim()
    .max(253, 'The name of the mail server is too long.')
    .regex(/^[A-Za-z0-9.:[\]-]*$/, 'Give the mail server as a name like smtp.example.com, without spaces.'),
  port: z
    .number('The port must be a number.')
    .int('The port must be a whole number.')
    .min(1, 'The port is a number from 1 to 65535.')
    .max(65_535, 'The port is a number from 1 to 65535.'),
  security: emailSecuritySchema,
  user: z.string().trim().max(320, 'The user name is too long.'),
  from: z.union([z.literal(''), emailAddress]),
  to: z.array(emailAddress, 'Give the addresses as a list.').max(20, 'Give at most 20 addresses.'),
});

export const webhookSettingsSchema = z.strictObject({
  enabled: z.boolean(),
});

export const channelStatusSchema = z.object({
  /** the last message this channel delivered */
  lastSentAt: iso.optional(),
  /** the last failure, in plain words; absent once a later message went through */
  lastError: z.object({ at: iso, message: z.string() }).optional(),
  /** messages waiting for a retry */
  pending: z.number().int().nonnegative(),
});

export const notificationSettingsSchema = z.object({
  email: emailSettingsSchema.extend({ passwordSet: z.boolean() }),
  webhook: webhookSettingsSchema.extend({
    /** the address is a secret: only whether it is set and its host are shown */
    urlSet: z.boolean(),
    urlHost: z.string().optional(),
    pingUrlSet: z.boolean(),
    pingUrlHost: z.string().optional(),
  }),
  /** which kinds of alert each channel receives */
  routes: z.object({ email: z.array(alertKindSchema), webhook: z.array(alertKindSchema) }),
  /** also say when an alert's problem is resolved */
  notifyCleared: z.boolean(),
  status: z.object({ email: channelStatusSchema, webhook: channelStatusSchema, ping: channelStatusSchema }),
});
export type NotificationSettings = z.infer<typeof notificationSettingsSchema>;

export const notificationsUpdateSchema = z.strictObject({
  email: emailSettingsSchema
    .extend({
      /** a new password; absent keeps the one kept, '' removes it */
      password: z.string().max(1024, 'The password is too long.').optional(),
    })
    .optional(),
  webhook: webhookSettingsSchema
    .extend({
      /** absent keeps the address kept, '' removes it */
      url: z.union([z.literal(''), httpUrl('webhook address')]).optional(),
      pingUrl: z.union([z.literal(''), httpUrl('address to call after each good backup')]).optional(),
    })
    .optional(),
  routes: z
    .strictObject({ email: z.array(alertKindSchema).max(50), webhook: z.array(alertKindSchema).max(50) })
    .optional(),
  notifyCleared: z.boolean().optional(),
});

export const auditEntrySchema = z.object({
  id: z.number().int(),
  time: iso,
  /** the program that acted: service, cli, app */
  actor: z.string(),
  /** the computer and the account */
  host: z.string().optional(),
  user: z.string().optional(),
  action: z.string(),
  subject: z.string().optional(),
  /** as recorded (counts, outcome, error) */
  details: z.unknown().optional(),
  sourceId: z.string().optional(),
  sourceName: z.string().optional(),
  targetId: z.string().optional(),
  targetName: z.string().optional(),
  /** the entry's write-once copy is in the backup destination (false: waiting to be written) */
  stored: z.boolean(),
});
export type AuditEntryView = z.infer<typeof auditEntrySchema>;

export const storageDaySchema = z.object({
  /** the day, YYYY-MM-DD, in the service's time zone */
  date: z.string(),
  /** the size of the backups at the end of the day (absent: not known yet) */
  repositoryBytes: z.number().nonnegative().optional(),
  /** new data the backups of that day added */
  bytesAdded: z.number().nonnegative(),
  backups: z.number().int().nonnegative(),
});

export const oversightChannels = {
  /** email and webhook settings (never a secret), routing, and how the last deliveries went */
  'bulwark:notifications.get': {
    request: z.strictObject({}),
    response: notificationSettingsSchema,
  },
  'bulwark:notifications.update': {
    request: notificationsUpdateSchema,
    response: notificationSettingsSchema,
  },
  /** sends a test message with the saved settings; a failure answers in plain words */
  'bulwark:notifications.test': {
    request: z.strictObject({ channel: notifyTestChannelSchema }),
    response: z.object({ sentAt: iso, to: z.string() }),
  },
  /** the audit log as this computer's catalog holds it, newest first, a page at a time */
  'bulwark:audit.list': {
    request: z.strictObject({
      since: iso.optional(),
      until: iso.optional(),
      action: z.string().min(1).max(100).optional(),
      sourceId: id.optional(),
      targetId: id.optional(),
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    response: z.object({
      entries: z.array(auditEntrySchema),
      total: z.number().int().nonnegative(),
      offset: z.number().int().nonnegative(),
      /** every action the log holds (for the filter) */
      actions: z.array(z.string()),
    }),
  },
  /** per day: the size of a target's backups and the data added, from each backup's statistics */
  'bulwark:stats.storage': {
    request: z.strictObject({ targetId: id, days: z.number().int().min(1).max(366).optional() }),
    response: z.object({
      targetId: z.string(),
      /** the size now, from this computer's catalog (absent: never opened) */
      currentBytes: z.number().nonnegative().optional(),
      days: z.array(storageDaySchema),
    }),
  },
} as const;
