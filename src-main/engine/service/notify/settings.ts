import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { Catalog } from '../../catalog/catalog.ts';
import type { Clock } from '../../clock.ts';
import { BulwarkError, fromSystemError } from '../../errors.ts';
import type { LocalPaths } from '../../paths.ts';
import { ALERT_KINDS, DEFAULT_SEVERITY, type AlertKind } from '../alerts.ts';

/**
 * Where alerts go besides the app: the settings of the email and webhook channels, kept in the catalog
 * (notify_settings) without any secret, and the secrets (the mail password; the webhook and ping addresses,
 * whose paths are their access tokens) in a 0600 file of the config folder, like the target secrets.
 */

export type NotifyChannel = 'email' | 'webhook';
export type EmailSecurity = 'starttls' | 'tls' | 'none';

export interface EmailConfig {
  enabled: boolean;
  host: string;
  port: number;
  /** starttls: plain connection upgraded (port 587, required); tls: TLS from the start (465); none: never (a relay on the LAN) */
  security: EmailSecurity;
  /** empty: the server takes mail without signing in */
  user: string;
  /** empty: the user name when it is an address */
  from: string;
  to: string[];
}

export interface NotifyConfig {
  email: EmailConfig;
  webhook: { enabled: boolean };
  /** which kinds of alert each channel receives */
  routes: Record<NotifyChannel, AlertKind[]>;
  /** send one more message when an alert's problem is resolved */
  notifyCleared: boolean;
}

export interface NotifySecrets {
  emailPassword?: string;
  /** Slack, Teams, ntfy or any address that takes a JSON POST */
  webhookUrl?: string;
  /** healthchecks-style: called after every good backup, so silence raises the alarm on its side */
  pingUrl?: string;
}

export interface NotifySecretStore {
  get(): NotifySecrets;
  set(secrets: NotifySecrets): void;
}

/** Warnings and worse go everywhere by default (every kind today: none is merely informational). */
export const DEFAULT_ROUTED_KINDS: readonly AlertKind[] = ALERT_KINDS.filter(
  (k) => DEFAULT_SEVERITY[k] !== 'info',
);

export const DEFAULT_NOTIFY_CONFIG: NotifyConfig = {
  email: { enabled: false, host: '', port: 587, security: 'starttls', user: '', from: '', to: [] },
  webhook: { enabled: false },
  routes: { email: [...DEFAULT_ROUTED_KINDS], webhook: [...DEFAULT_ROUTED_KINDS] },
  notifyCleared: true,
};

const knownKinds = (kinds: unknown): AlertKind[] =>
  Array.isArray(kinds)
    ? ALERT_KINDS.filter((k) => kinds.includes(k)) // in a stable order, unknown ones dropped
    : [];

/** A stored config read back: what a newer or older version wrote is filled in with the defaults. */
function normalize(raw: unknown): NotifyConfig {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<NotifyConfig>;
  const d = DEFAULT_NOTIFY_CONFIG;
  const email = { ...d.email, ...(o.email ?? {}) };
  return {
    email: { ...email, to: Array.isArray(email.to) ? email.to.filter((x) => typeof x === 'string') : [] },
    webhook: { enabled: o.webhook?.enabled === true },
    routes: {
      email: o.routes ? knownKinds(o.routes.email) : [...d.routes.email],
      webhook: o.routes ? knownKinds(o.routes.webhook) : [...d.routes.webhook],
    },
    notifyCleared: typeof o.notifyCleared === 'boolean' ? o.notifyCleared : d.notifyCleared,
  };
}

/** The settings row of the catalog. */
export class NotifySettingsStore {
  private readonly catalog: Catalog;
  private readonly clock: Clock;

  constructor(catalog: Catalog, clock: Clock) {
    this.catalog = catalog;
    this.clock = clock;
  }

  get(): NotifyConfig {
    const row = this.catalog.db
      .prepare<[], { settings: string }>('SELECT settings FROM notify_settings WHERE id = 1')
      .get();
    if (!row) return normalize(undefined);
    try {
      return normalize(JSON.parse(row.settings));
    } catch (e) {
      throw new BulwarkError('CORRUPT', 'the saved notification settings cannot be read', {
        cause: e,
        hint: 'Enter the notification settings again on the Settings page.',
      });
    }
  }

  set(config: NotifyConfig): NotifyConfig {
    const clean = normalize(config);
    this.catalog.db
      .prepare(
        `INSERT INTO notify_settings (id, settings, updated_at) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
      )
      .run(JSON.stringify(clean), this.clock.now().getTime());
    return clean;
  }
}

export const notifySecretsFile = (paths: LocalPaths): string =>
  join(paths.configDir, 'notification-secrets.json');

/** One 0600 JSON file (its folder 0700), replaced atomically on every change. */
export function fileNotifySecretStore(file: string): NotifySecretStore {
  return {
    get() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
        throw fromSystemError(e, `secret file ${file}`);
      }
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (e) {
        throw new BulwarkError('CORRUPT', `the secret file ${file} is not valid JSON`, {
          cause: e,
          hint: 'Enter the mail password and the webhook address again on the Settings page.',
        });
      }
      const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
      const out: NotifySecrets = {};
      if (typeof o.emailPassword === 'string' && o.emailPassword !== '') out.emailPassword = o.emailPassword;
      if (typeof o.webhookUrl === 'string' && o.webhookUrl !== '') out.webhookUrl = o.webhookUrl;
      if (typeof o.pingUrl === 'string' && o.pingUrl !== '') out.pingUrl = o.pingUrl;
      return out;
    },
    set(secrets) {
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        writeFileSync(tmp, `${JSON.stringify(secrets)}\n`, { mode: 0o600 });
        chmodSync(tmp, 0o600); // whatever the umask
        renameSync(tmp, file);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw fromSystemError(e, `secret file ${file}`);
      }
    },
  };
}

/** Secrets in memory (tests; a shell that keeps them elsewhere). */
export function memoryNotifySecretStore(initial: NotifySecrets = {}): NotifySecretStore {
  let current = { ...initial };
  return {
    get: () => ({ ...current }),
    set: (s) => {
      current = { ...s };
    },
  };
}
