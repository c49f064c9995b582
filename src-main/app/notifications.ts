import type { Alert, Page, SourceStatus } from '../contract/model.ts';
import type { Logger } from '../transport/dispatch.ts';

/**
 * Native notifications: one per alert, never a stream. An alert is notified once when it is raised (or
 * found open at start, if it was raised while nothing could show it) and never again while it stays open,
 * restarts included: the keys of notified alerts are kept on disk and forgotten when the alert clears. A
 * click opens the window on the page that fixes it. Routine successes stay quiet unless the person asked
 * (the tray's "Notify me after every backup"). Electron's Notification comes in through a factory.
 *
 * Kinds are matched by name (strings, not the contract's enum), so kinds added later (ransomware signal,
 * drill failed) are notified as soon as the service raises them.
 */

export interface NotificationLike {
  show(): void;
  on(event: 'click', listener: () => void): unknown;
}

export type NotificationFactory = (options: { title: string; body: string }) => NotificationLike;

/** Where the keys of notified alerts are kept (desktop-state.ts: a small JSON file). */
export interface NotifiedStore {
  load(): string[];
  save(keys: readonly string[]): void;
}

/** An alert as it comes from the service, with its kind as a plain name. */
export type AlertLike = Pick<Alert, 'id' | 'severity' | 'text' | 'targetId'> & {
  kind: string;
  fix?: { page: Page; label: string } | undefined;
  active?: boolean;
};

interface KindRule {
  title: string;
  /** the page that explains and fixes it, when the alert names none */
  page: Page;
}

/**
 * The title of each kind. Every kind of alert is notified except those in QUIET_KINDS and 'info' alerts.
 * `selftest-failed` is the alert for a target that is not immutable (its storage account lets this
 * computer delete or shorten locks); `target-not-immutable` is also a protection reason (see reasonKeys).
 */
export const NOTIFIED_KINDS: Readonly<Record<string, KindRule>> = {
  'backup-failed': { title: 'A backup failed', page: 'sources' },
  'rpo-missed': { title: 'A folder has gone too long without a backup', page: 'sources' },
  'selftest-failed': { title: 'Backups are not locked against deletion', page: 'targets' },
  'target-not-immutable': { title: 'Backups are not locked against deletion', page: 'targets' },
  'lock-invariant-broken': { title: 'Someone tried to weaken the locks on your backups', page: 'targets' },
  'ransomware-signal': { title: 'Possible ransomware: many files changed at once', page: 'alerts' },
  'drill-failed': { title: 'A restore test failed', page: 'alerts' },
  'target-unreachable': { title: 'A backup destination cannot be reached', page: 'targets' },
  'repository-damaged': { title: 'Some backups are damaged', page: 'targets' },
  'repository-tampered': { title: 'Someone changed backup files', page: 'targets' },
  'source-missing': { title: 'A folder to back up is missing', page: 'sources' },
  'copy-behind': { title: 'An extra copy of the backups is late', page: 'sources' },
};

/** Nothing is lost and nothing needs doing now: shown in the app, not pushed. */
export const QUIET_KINDS: ReadonlySet<string> = new Set(['watch-degraded']);

/** The rule of a kind by name; a later spelling (ransomware-suspected, drill-…) falls to its family. */
export function ruleOf(kind: string): KindRule | undefined {
  const exact = NOTIFIED_KINDS[kind];
  if (exact) return exact;
  if (kind.includes('ransomware')) return NOTIFIED_KINDS['ransomware-signal'];
  if (kind.includes('drill')) return NOTIFIED_KINDS['drill-failed'];
  return undefined;
}

const SERVICE_DOWN = 'service:down';

export const alertKey = (a: Pick<AlertLike, 'id'>): string => `alert:${a.id}`;

export interface NotifierOptions {
  notify: NotificationFactory;
  store: NotifiedStore;
  /** shows the window on a page (the renderer's hash route) */
  openPage(page: Page): void;
  notifyOnSuccess(): boolean;
  log?: Logger;
}

export class AlertNotifier {
  private readonly notified: Set<string>;
  /** targets with an open alert saying their backups are not locked: the reason is not notified twice */
  private readonly unlockedByAlert = new Map<number, string>();
  private readonly o: NotifierOptions;
  private readonly log: Logger;

  constructor(o: NotifierOptions) {
    this.o = o;
    this.log = o.log ?? (() => {});
    let keys: string[] = [];
    try {
      keys = o.store.load();
    } catch (e) {
      // a lost list costs one repeated notification per open alert, not a missed one
      this.log('could not read which alerts were already notified', e);
    }
    this.notified = new Set(keys);
  }

  /** Whether an alert of this kind and severity is pushed at all. */
  static isNotified(a: Pick<AlertLike, 'kind' | 'severity'>): boolean {
    return a.severity !== 'info' && !QUIET_KINDS.has(a.kind);
  }

  private show(key: string, title: string, body: string, page: Page): void {
    this.notified.add(key);
    this.persist();
    try {
      const n = this.o.notify({ title, body });
      n.on('click', () => this.o.openPage(page));
      n.show();
    } catch (e) {
      this.log(`could not show the notification "${title}"`, e);
    }
  }

  private persist(): void {
    try {
      this.o.store.save([...this.notified]);
    } catch (e) {
      this.log('could not record which alerts were notified', e);
    }
  }

  /** A new alert (alert.raised). Returns whether a notification was shown. */
  alertRaised(a: AlertLike): boolean {
    if (a.active !== false && a.targetId && ruleOf(a.kind) === NOTIFIED_KINDS['selftest-failed'])
      this.unlockedByAlert.set(a.id, a.targetId);
    if (a.active === false || !AlertNotifier.isNotified(a) || this.notified.has(alertKey(a))) return false;
    const rule = ruleOf(a.kind);
    this.show(
      alertKey(a),
      rule?.title ??
        (a.severity === 'critical' ? 'Bulwark needs your attention now' : 'Bulwark needs your attention'),
      a.text,
      a.fix?.page ?? rule?.page ?? 'alerts',
    );
    return true;
  }

  /** An alert cleared: forgotten, so the same condition coming back later is notified again. */
  alertCleared(a: Pick<AlertLike, 'id'>): void {
    this.unlockedByAlert.delete(a.id);
    if (this.notified.delete(alertKey(a))) this.persist();
  }

  /**
   * The open alerts and the sources' reasons, at start and after the service restarted: notifies what was
   * raised while nothing could show it, and forgets what closed meanwhile.
   */
  sync(
    activeAlerts: readonly AlertLike[],
    sources: readonly Pick<SourceStatus, 'target' | 'protection'>[],
  ): void {
    const open = new Set(activeAlerts.map(alertKey));
    for (const id of [...this.unlockedByAlert.keys()])
      if (!open.has(alertKey({ id }))) this.unlockedByAlert.delete(id);
    const reasons = reasonKeys(sources);
    let changed = false;
    for (const key of [...this.notified]) {
      if (!open.has(key) && !reasons.has(key)) {
        this.notified.delete(key);
        changed = true;
      }
    }
    if (changed) this.persist();
    for (const a of activeAlerts) this.alertRaised(a);
    this.reasons(sources);
  }

  /**
   * Reasons that are no alert of their own but matter as much (a target whose backups are not locked):
   * one notification per target while the reason lasts.
   */
  reasons(sources: readonly Pick<SourceStatus, 'target' | 'protection'>[]): void {
    const alerted = new Set(this.unlockedByAlert.values());
    for (const [key, { text, page, targetId }] of reasonKeys(sources)) {
      if (this.notified.has(key) || (targetId !== undefined && alerted.has(targetId))) continue;
      this.show(key, NOTIFIED_KINDS['target-not-immutable']!.title, text, page);
    }
  }

  /** A finished backup: quiet unless the person asked to hear of every one. */
  backupSucceeded(sourceName: string | undefined): boolean {
    if (!this.o.notifyOnSuccess()) return false;
    try {
      const n = this.o.notify({
        title: 'Backup finished',
        body: sourceName ? `${sourceName} is backed up.` : 'A folder is backed up.',
      });
      n.on('click', () => this.o.openPage('overview'));
      n.show();
    } catch (e) {
      this.log('could not show the notification of a finished backup', e);
    }
    return true;
  }

  /** The service process stopped unexpectedly (shown once per outage; the tray turns red too). */
  serviceDown(reason: string): void {
    if (this.notified.has(SERVICE_DOWN)) return; // a crash loop is one outage
    this.show(
      SERVICE_DOWN,
      'Bulwark stopped protecting your files',
      `The backup service stopped (${reason}). It restarts by itself in a moment.`,
      'overview',
    );
  }

  /** The service runs again: the next outage is notified again. */
  serviceUp(): void {
    if (this.notified.delete(SERVICE_DOWN)) this.persist();
  }
}

/** `reason:target-not-immutable:<target>` per target of the sources with that reason. */
function reasonKeys(
  sources: readonly Pick<SourceStatus, 'target' | 'protection'>[],
): Map<string, { text: string; page: Page; targetId: string | undefined }> {
  const out = new Map<string, { text: string; page: Page; targetId: string | undefined }>();
  for (const s of sources) {
    for (const r of s.protection.reasons) {
      if (r.code !== 'target-not-immutable') continue;
      out.set(`reason:target-not-immutable:${s.target?.id ?? 'unknown'}`, {
        text: r.text,
        page: r.fix?.page ?? 'targets',
        targetId: s.target?.id,
      });
    }
  }
  return out;
}
