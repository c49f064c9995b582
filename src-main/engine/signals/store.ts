/**
 * The catalog tables of the ransomware signals (migration "Ransomware signals"): incidents with their last
 * clean snapshot, each source's baseline of normal activity, and the decoy files placed.
 */
import type { Catalog } from '../catalog/catalog.ts';
import { EMPTY_BASELINE, type ActivityBaseline, type Signal } from './types.ts';

export type Resolution = 'was-me' | 'handled';

export interface Incident {
  id: number;
  sourceId: string;
  openedAt: number;
  /** when the suspicious activity began (ms): the last clean snapshot was committed before */
  since: number;
  signals: Signal[];
  lastClean: {
    snapshotId: string;
    /** commit time (ISO, the repository's clock) */
    time: string;
    /** the locks of everything it needs now last at least until then (ms); null: not extended */
    heldUntil: number | null;
    legalHold: boolean;
  } | null;
  /** why the last clean snapshot could not be held fully, in plain words */
  holdProblem: string | null;
  resolvedAt: number | null;
  resolution: Resolution | null;
}

interface IncidentRow {
  id: number;
  source_id: string;
  opened_at: number;
  since: number;
  signals: string;
  last_clean_snapshot: string | null;
  last_clean_time: string | null;
  held_until: number | null;
  legal_hold: number;
  hold_problem: string | null;
  resolved_at: number | null;
  resolution: string | null;
}

const toIncident = (r: IncidentRow): Incident => ({
  id: r.id,
  sourceId: r.source_id,
  openedAt: r.opened_at,
  since: r.since,
  signals: JSON.parse(r.signals) as Signal[],
  lastClean:
    r.last_clean_snapshot !== null && r.last_clean_time !== null
      ? {
          snapshotId: r.last_clean_snapshot,
          time: r.last_clean_time,
          heldUntil: r.held_until,
          legalHold: r.legal_hold === 1,
        }
      : null,
  holdProblem: r.hold_problem,
  resolvedAt: r.resolved_at,
  resolution: r.resolution === 'was-me' || r.resolution === 'handled' ? r.resolution : null,
});

export class SignalStore {
  private readonly catalog: Catalog;

  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  private get db(): Catalog['db'] {
    return this.catalog.db;
  }

  openIncident(sourceId: string): Incident | undefined {
    const r = this.db
      .prepare<[string], IncidentRow>(
        'SELECT * FROM ransomware_incidents WHERE source_id = ? AND resolved_at IS NULL ORDER BY id DESC LIMIT 1',
      )
      .get(sourceId);
    return r && toIncident(r);
  }

  /** The newest incident of the source, open or resolved. */
  latestIncident(sourceId: string): Incident | undefined {
    const r = this.db
      .prepare<[string], IncidentRow>(
        'SELECT * FROM ransomware_incidents WHERE source_id = ? ORDER BY id DESC LIMIT 1',
      )
      .get(sourceId);
    return r && toIncident(r);
  }

  incident(id: number): Incident | undefined {
    const r = this.db
      .prepare<[number], IncidentRow>('SELECT * FROM ransomware_incidents WHERE id = ?')
      .get(id);
    return r && toIncident(r);
  }

  openNew(sourceId: string, at: number, signals: readonly Signal[]): Incident {
    const since = Math.min(...signals.map((s) => s.since));
    const r = this.db
      .prepare('INSERT INTO ransomware_incidents (source_id, opened_at, since, signals) VALUES (?, ?, ?, ?)')
      .run(sourceId, at, since, JSON.stringify(signals));
    const inc = this.incident(Number(r.lastInsertRowid));
    if (!inc) throw new Error('the incident just recorded cannot be read back');
    return inc;
  }

  /** Adds signals to an open incident; `since` moves back when one began earlier. */
  addSignals(id: number, signals: readonly Signal[]): Incident {
    const cur = this.incident(id);
    if (!cur) throw new Error(`no incident ${id}`);
    const all = [...cur.signals, ...signals];
    const since = Math.min(cur.since, ...signals.map((s) => s.since));
    this.db
      .prepare('UPDATE ransomware_incidents SET signals = ?, since = ? WHERE id = ?')
      .run(JSON.stringify(all), since, id);
    return this.incident(id) ?? cur;
  }

  setLastClean(
    id: number,
    clean: { snapshotId: string; time: string } | null,
    heldUntil: number | null,
    legalHold: boolean,
    problem: string | null,
  ): void {
    this.db
      .prepare(
        `UPDATE ransomware_incidents SET last_clean_snapshot = ?, last_clean_time = ?, held_until = ?,
         legal_hold = ?, hold_problem = ? WHERE id = ?`,
      )
      .run(clean?.snapshotId ?? null, clean?.time ?? null, heldUntil, legalHold ? 1 : 0, problem, id);
  }

  resolve(id: number, at: number, resolution: Resolution): void {
    this.db
      .prepare(
        'UPDATE ransomware_incidents SET resolved_at = ?, resolution = ? WHERE id = ? AND resolved_at IS NULL',
      )
      .run(at, resolution, id);
  }

  baseline(sourceId: string): { baseline: ActivityBaseline; updatedAt: number } | undefined {
    const r = this.db
      .prepare<[string], { baseline: string; updated_at: number }>(
        'SELECT baseline, updated_at FROM signal_baselines WHERE source_id = ?',
      )
      .get(sourceId);
    if (!r) return undefined;
    const b = JSON.parse(r.baseline) as Partial<ActivityBaseline>;
    return { baseline: { ...EMPTY_BASELINE, ...b }, updatedAt: r.updated_at };
  }

  setBaseline(sourceId: string, b: ActivityBaseline, at: number): void {
    this.db
      .prepare(
        `INSERT INTO signal_baselines (source_id, baseline, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (source_id) DO UPDATE SET baseline = excluded.baseline, updated_at = excluded.updated_at`,
      )
      .run(sourceId, JSON.stringify(b), at);
  }

  canaries(sourceId: string): string[] {
    return this.db
      .prepare<[string], { path: string }>(
        'SELECT path FROM signal_canaries WHERE source_id = ? ORDER BY path',
      )
      .all(sourceId)
      .map((r) => r.path);
  }

  addCanary(sourceId: string, path: string, at: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO signal_canaries (source_id, path, placed_at) VALUES (?, ?, ?)')
      .run(sourceId, path, at);
  }

  removeCanaries(sourceId: string): void {
    this.db.prepare('DELETE FROM signal_canaries WHERE source_id = ?').run(sourceId);
  }

  /** A removed source: its baseline and decoys go; its incidents stay as history. */
  forgetSource(sourceId: string): void {
    this.db.prepare('DELETE FROM signal_baselines WHERE source_id = ?').run(sourceId);
    this.removeCanaries(sourceId);
  }
}
