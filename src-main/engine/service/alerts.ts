import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { BulwarkError } from '../errors.ts';
import { TypedEvents } from './events.ts';
import type { FixLink } from './protection.ts';

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
  | 'watch-degraded'
  /** a folder of a source is not there (moved, renamed, its disk or share disconnected) */
  | 'source-missing'
  /** the daily lock check found backups the server protects for less time than promised (or not at all) */
  | 'locks-short'
  /** a ransomware signal on a watched source (engine/signals): the last clean snapshot is held */
  | 'ransomware-suspected'
  /** a restore drill (engine/drill) found files that do not come back intact, or a full restore too slow for the RTO */
  | 'drill-failed'
  /** 3-2-1: a source's extra copy (service/copies.ts) holds nothing newer than its RPO while its backups are current */
  | 'copy-behind';

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
  'source-missing',
  'locks-short',
  'ransomware-suspected',
  'drill-failed',
  'copy-behind',
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
  'source-missing': 'error',
  'locks-short': 'critical',
  'ransomware-suspected': 'critical',
  'drill-failed': 'error',
  'copy-behind': 'warning',
};

/**
 * What to do, for a person without a terminal (an office manager): no commands, no error codes. The texts
 * the service raises say what happened and what it means; these say what to do about it.
 */
export const DEFAULT_ACTION: Readonly<Record<AlertKind, string>> = {
  'backup-failed':
    'Bulwark tries again by itself in a few minutes. If it keeps failing, check the folder on the Sources page, ' +
    'then choose "Back up now".',
  'rpo-missed':
    'Keep this computer switched on and connected: Bulwark backs up as soon as it can. To back up right away, ' +
    'choose "Back up now" on the Sources page.',
  'target-unreachable':
    'Reconnect it: switch the network storage (NAS) or the disk on, plug it in, or check the network or internet ' +
    'connection. Backups resume by themselves once it is back; the backups already there are safe.',
  'selftest-failed':
    'Ask whoever manages the storage account to apply the access settings shown on the Targets page, ' +
    'so this computer cannot delete or shorten the locks of its backups.',
  'lock-invariant-broken':
    'Your backups are intact and can still be restored. Have this computer checked for malware and the storage ' +
    'keys replaced by your IT contact; backups to this destination resume once they have confirmed the finding.',
  'repository-tampered':
    'Bulwark still reads the original backup files, which are locked, so restores work. Have this computer ' +
    'checked for malware and the storage keys replaced by your IT contact.',
  'repository-damaged':
    'The backups that are not damaged can still be restored. Ask your IT contact to check this backup ' +
    'destination; until then, add a second destination on the Targets page.',
  'watch-degraded':
    'Nothing is lost: Bulwark still finds every change by checking the folder regularly, only a little later. ' +
    'If this stays, restart the computer or ask your IT contact to raise the limit of watched folders.',
  'source-missing':
    'Reconnect the disk or network share the folder is on, or, if the folder was moved or renamed, choose its new ' +
    'place on the Sources page. Backups resume by themselves once it is back; its earlier backups are safe.',
  'locks-short':
    'Your backups can still be restored. Ask whoever manages the storage account to check that its Object Lock ' +
    'settings were not changed and that nobody else uses its keys; Bulwark checks again every day and this ' +
    "alert clears once every backup is locked as promised. The Snapshots page shows each backup's protection.",
  'ransomware-suspected':
    'If nobody in the office did this on purpose: do not pay anything and leave the files as they are; unplug this ' +
    'computer from the network and call your IT contact. Your files can be brought back from the last clean backup ' +
    'on the Restore page. If it was you, choose "This was me" there.',
  'drill-failed':
    'The backups already there are not lost. Run the restore test again on the Sources page; if files still do not ' +
    'come back intact, ask your IT contact to check this backup destination and add a second one on the Targets ' +
    'page. When a full restore would take too long, keep a copy on a faster or closer destination.',
  'copy-behind':
    'Your backups in the main destination are up to date; only the extra copy is late. Switch on or reconnect ' +
    'that destination (the NAS, the disk, the internet connection): Bulwark catches up by itself once it is back. ' +
    'To stop copying there, change "Also copy to" on the Sources page.',
};

/** The page of the app that fixes each kind of alert. */
export const ALERT_FIX: Readonly<Record<AlertKind, FixLink>> = {
  'backup-failed': { page: 'sources', label: 'Open Sources' },
  'rpo-missed': { page: 'sources', label: 'Back up now' },
  'target-unreachable': { page: 'targets', label: 'Open Targets' },
  'selftest-failed': { page: 'targets', label: 'Open Targets' },
  'lock-invariant-broken': { page: 'targets', label: 'Open Targets' },
  'repository-tampered': { page: 'targets', label: 'Open Targets' },
  'repository-damaged': { page: 'targets', label: 'Open Targets' },
  'watch-degraded': { page: 'sources', label: 'Open Sources' },
  'source-missing': { page: 'sources', label: 'Open Sources' },
  'locks-short': { page: 'snapshots', label: 'Open Snapshots' },
  'ransomware-suspected': { page: 'restore', label: 'Open Restore' },
  'drill-failed': { page: 'sources', label: 'Open restore tests' },
  'copy-behind': { page: 'sources', label: 'Open Sources' },
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
  /** the page of the app that fixes it */
  fix: FixLink | null;
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
  // Absent for a kind an older or newer version wrote that this one does not know.
  fix: (ALERT_FIX as Partial<Record<string, FixLink>>)[r.kind] ?? null,
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
