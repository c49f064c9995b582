import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { BulwarkError } from '../errors.ts';

/**
 * The last self-test of each configured target (service_target_tests in the catalog): kept so the
 * Targets page shows every target's verdict in words without testing again (a test writes a locked probe
 * object, so it is not run on every page view). The report is stored as given (plain JSON the host made,
 * never a secret); only the verdict's shape is checked here.
 */

export type TargetTestVerdict = 'immutable' | 'tamper-evident' | 'not-immutable';

export interface TargetTestRecord {
  targetId: string;
  verdict: TargetTestVerdict;
  headline: string;
  reason: string;
  mode: 'COMPLIANCE' | 'GOVERNANCE' | null;
  testedAt: Date;
  /** the whole report as the host shaped it (JSON text) */
  report: string;
}

interface Row {
  target_id: string;
  verdict: string;
  headline: string;
  reason: string;
  mode: string | null;
  tested_at: number;
  report: string;
}

const VERDICTS: readonly string[] = ['immutable', 'tamper-evident', 'not-immutable'];

function toRecord(r: Row): TargetTestRecord {
  if (!VERDICTS.includes(r.verdict))
    throw new BulwarkError('CORRUPT', `the catalog holds an unknown target verdict ${r.verdict}`);
  return {
    targetId: r.target_id,
    verdict: r.verdict as TargetTestVerdict,
    headline: r.headline,
    reason: r.reason,
    mode: r.mode === 'COMPLIANCE' || r.mode === 'GOVERNANCE' ? r.mode : null,
    testedAt: new Date(r.tested_at),
    report: r.report,
  };
}

export class TargetTestRecords {
  private readonly catalog: Catalog;
  private readonly clock: Clock;

  constructor(catalog: Catalog, clock: Clock) {
    this.catalog = catalog;
    this.clock = clock;
  }

  get(targetId: string): TargetTestRecord | undefined {
    const r = this.catalog.db
      .prepare<[string], Row>('SELECT * FROM service_target_tests WHERE target_id = ?')
      .get(targetId);
    return r && toRecord(r);
  }

  all(): Map<string, TargetTestRecord> {
    const rows = this.catalog.db.prepare<[], Row>('SELECT * FROM service_target_tests').all();
    return new Map(rows.map((r) => [r.target_id, toRecord(r)]));
  }

  /** Keeps `rec` as the target's last test (replacing the one before); testedAt defaults to now. */
  record(rec: Omit<TargetTestRecord, 'testedAt'> & { testedAt?: Date }): TargetTestRecord {
    if (!VERDICTS.includes(rec.verdict))
      throw new BulwarkError('INVALID_ARGUMENT', `unknown target verdict ${rec.verdict}`);
    const testedAt = rec.testedAt ?? this.clock.now();
    this.catalog.db
      .prepare(
        `INSERT INTO service_target_tests (target_id, verdict, headline, reason, mode, tested_at, report)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (target_id) DO UPDATE SET verdict = excluded.verdict, headline = excluded.headline,
           reason = excluded.reason, mode = excluded.mode, tested_at = excluded.tested_at,
           report = excluded.report`,
      )
      .run(rec.targetId, rec.verdict, rec.headline, rec.reason, rec.mode, testedAt.getTime(), rec.report);
    return { ...rec, testedAt };
  }

  delete(targetId: string): void {
    this.catalog.db.prepare('DELETE FROM service_target_tests WHERE target_id = ?').run(targetId);
  }
}
