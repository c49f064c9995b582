import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { BulwarkError } from '../errors.ts';
import { TypedEvents } from './events.ts';

/**
 * Alerts (DESIGN §5), kept in the catalog's alerts table. One alert is open per (kind, source, target):
 * raising it again updates its text and count instead of adding another. An alert is cleared when its
 * condition resolves (the service does that, e.g. a successful run clears backup-failed), acknowledged by a
 * user (it stays open until its condition resolves), and stays in the history either way.
 */
export type AlertKind =
  | 'backup-failed'
  | 'rpo-missed'
  | 'target-unreachable'
  | 'selftest-failed'
  | 'lock-invariant-broken'
  | 'repository-damaged'
  /** someone holding the target's keys put versions or delete markers over Bulwark's objects */
  | 'repository-tampered'
  /** the watcher of a source fell back to polling or to rescans only */
  | 'watch-degraded';

export type AlertSeverity = 'info' | 'warning' | 'error' | 'critical';

export const ALERT_KINDS: readonly AlertKind[] = [
  'backup-failed',
  'rpo-missed',
  'target-unreachable',
  'selftest-failed',
  'lock-invariant-broken',
  'repository-damaged',
  'repository-tampered',
  'watch-degraded',
];

export const DEFAULT_SEVERITY: Readonly<Record<AlertKind, AlertSeverity>> = {
  'backup-failed': 'error',
  'rpo-missed': 'warning',
  'target-unreachable': 'error',
  'selftest-failed': 'warning',
  'lock-invariant-broken': 'critical',
  'repository-damaged': 'critical',
  'repository-tampered': 'critical',
  'watch-degraded': 'warning',
};

export const DEFAULT_ACTION: Readonly<Record<AlertKind, string>> = {
  'backup-failed': 'Open the last run to see why it failed; fix the cause and choose "Back up now".',
  'rpo-missed':
    'Check that the computer is on and the target reachable; choose "Back up now" to protect it now.',
  'target-unreachable':
    'Check the network, the disk or share, and the credentials of the target; backups resume by themselves.',
  'selftest-failed': 'Open the target settings: the self-test says what is missing (e.g. Object Lock).',
  'lock-invariant-broken':
    'Someone with the storage keys of this computer replaced the backup settings. Your backups are intact and can be ' +
    'restored. Check this computer for malware and replace the storage keys; backups resume once the finding is ' +
    'acknowledged (`bulwark verify --locks --acknowledge` on that repository).',
  'repository-tampered':
    'Someone with the storage keys of this computer wrote over or hid backup files. Bulwark still reads the originals, ' +
    'which are locked, so restores work. Check this computer for malware and replace the storage keys.',
  'repository-damaged': 'Run `bulwark verify` to see which snapshots and files are affected.',
  'watch-degraded':
    'Changes are found by periodic rescans instead of live; on Linux raise fs.inotify.max_user_watches.',
};

export interface Alert {
  id: number;
  kind: AlertKind;
  severity: AlertSeverity;
  sourceId: string | null;
  targetId: string | null;
  /** one or two sentences for people */
  text: string;
  /** what to do about it */
  action: string | null;
  raisedAt: number;
  lastSeenAt: number;
  /** how many times the condition was seen while this alert was open */
  count: number;
  clearedAt: number | null;
  acknowledgedAt: number | null;
  active: boolean;
}

export interface AlertScope {
  sourceId?: string | null;
  targetId?: string | null;
}

export interface RaiseInput extends AlertScope {
  kind: AlertKind;
  text: string;
  action?: string;
  severity?: AlertSeverity;
}

export interface AlertEvents {
  /** a new alert was opened */
  'alert.raised': Alert;
  'alert.cleared': Alert;
  'alert.acknowledged': Alert;
}

interface AlertRow {
  id: number;
  kind: AlertKind;
  severity: AlertSeverity;
  source_id: string | null;
  target_id: string | null;
  text: string;
  action: string | null;
  raised_at: number;
  last_seen_at: number;
  count: number;
  cleared_at: number | null;
  acknowledged_at: number | null;
}

const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  kind: r.kind,
  severity: r.severity,
  sourceId: r.source_id,
  targetId: r.target_id,
  text: r.text,
  action: r.action,
  raisedAt: r.raised_at,
  lastSeenAt: r.last_seen_at,
  count: r.count,
  clearedAt: r.cleared_at,
  acknowledgedAt: r.acknowledged_at,
  active: r.cleared_at === null,
});

export class AlertCenter {
  readonly events = new TypedEvents<AlertEvents>();
  private readonly catalog: Catalog;
  private readonly clock: Clock;

  constructor(catalog: Catalog, clock: Clock) {
    this.catalog = catalog;
    this.clock = clock;
  }

  on<K extends keyof AlertEvents>(event: K, listener: (a: AlertEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  private get db(): Catalog['db'] {
    return this.catalog.db;
  }

  /** The open alert of this kind for exactly this source and target, if any. */
  open(kind: AlertKind, scope: AlertScope = {}): Alert | undefined {
    const r = this.db
      .prepare<[string, string | null, string | null], AlertRow>(
        `SELECT * FROM alerts WHERE kind = ? AND source_id IS ? AND target_id IS ? AND cleared_at IS NULL
         ORDER BY id DESC LIMIT 1`,
      )
      .get(kind, scope.sourceId ?? null, scope.targetId ?? null);
    return r && toAlert(r);
  }

  /** Opens an alert, or refreshes the open one of the same kind and scope. Returns it. */
  raise(input: RaiseInput): Alert {
    if (!ALERT_KINDS.includes(input.kind))
      throw new BulwarkError('INVALID_ARGUMENT', `unknown alert kind ${String(input.kind)}`);
    const now = this.clock.now().getTime();
    const existing = this.open(input.kind, input);
    const severity = input.severity ?? DEFAULT_SEVERITY[input.kind];
    const action = input.action ?? DEFAULT_ACTION[input.kind];
    if (existing) {
      this.db
        .prepare(
          'UPDATE alerts SET text = ?, action = ?, severity = ?, last_seen_at = ?, count = count + 1 WHERE id = ?',
        )
        .run(input.text, action, severity, now, existing.id);
      return this.get(existing.id);
    }
    const r = this.db
      .prepare(
        `INSERT INTO alerts (kind, severity, source_id, target_id, text, action, raised_at, last_seen_at, count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
      )
      .run(
        input.kind,
        severity,
        input.sourceId ?? null,
        input.targetId ?? null,
        input.text,
        action,
        now,
        now,
      );
    const alert = this.get(Number(r.lastInsertRowid));
    this.events.emit('alert.raised', alert);
    return alert;
  }

  /**
   * Clears the open alerts of a kind whose scope matches (a field left undefined matches any value).
   * Returns the alerts cleared.
   */
  clear(kind: AlertKind, scope: AlertScope = {}): Alert[] {
    const open = this.list({ active: true }).filter(
      (a) =>
        a.kind === kind &&
        (scope.sourceId === undefined || a.sourceId === scope.sourceId) &&
        (scope.targetId === undefined || a.targetId === scope.targetId),
    );
    if (open.length === 0) return [];
    const now = this.clock.now().getTime();
    const st = this.db.prepare('UPDATE alerts SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL');
    const cleared: Alert[] = [];
    for (const a of open) {
      st.run(now, a.id);
      cleared.push(this.get(a.id));
    }
    for (const a of cleared) this.events.emit('alert.cleared', a);
    return cleared;
  }

  /** Marks an alert as seen by a person. It stays open until its condition resolves. */
  acknowledge(id: number): Alert {
    const a = this.get(id);
    if (a.acknowledgedAt !== null) return a;
    this.db.prepare('UPDATE alerts SET acknowledged_at = ? WHERE id = ?').run(this.clock.now().getTime(), id);
    const acked = this.get(id);
    this.events.emit('alert.acknowledged', acked);
    return acked;
  }

  get(id: number): Alert {
    const r = this.db.prepare<[number], AlertRow>('SELECT * FROM alerts WHERE id = ?').get(id);
    if (!r) throw new BulwarkError('NOT_FOUND', `no alert ${id}`);
    return toAlert(r);
  }

  /** Newest first. `active`: only open (true) or only cleared (false) alerts. */
  list(opts: { active?: boolean; sourceId?: string; targetId?: string; limit?: number } = {}): Alert[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.active === true) where.push('cleared_at IS NULL');
    if (opts.active === false) where.push('cleared_at IS NOT NULL');
    if (opts.sourceId !== undefined) {
      where.push('source_id = ?');
      args.push(opts.sourceId);
    }
    if (opts.targetId !== undefined) {
      where.push('target_id = ?');
      args.push(opts.targetId);
    }
    args.push(opts.limit ?? 500);
    return this.db
      .prepare<(string | number)[], AlertRow>(
        `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      )
      .all(...args)
      .map(toAlert);
  }
}
