/**
 * What the service does with ransomware signals (DESIGN §5): it feeds each watched source's file events
 * to an ActivityDetector and each finished backup to the entropy check; on a signal it opens an incident,
 * raises one critical alert per source, marks the newest snapshot committed before the suspicious activity
 * began as "last clean" and holds it: the locks of everything it needs are extended (in compliance mode
 * nobody can shorten them again) and a legal hold is placed where the storage keys allow. Prune stays
 * paused while the alert is open (retention/marks.ts reads the alerts table); backups go on, they cannot
 * harm locked history. A person resolves the incident: "this was me" (the activity becomes part of the
 * source's normal baseline and the legal hold is lifted) or "handled" (the hold stays).
 */
import type { Catalog } from '../catalog/catalog.ts';
import type { Clock } from '../clock.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { DAY_MS, extendLocks, snapshotClosure } from '../locks/closure.ts';
import { holdSnapshot } from '../locks/verify-locks.ts';
import { objectNames, type SnapshotManifest } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import { ActivityDetector, type ActivityThresholds, type FileEvent } from './activity.ts';
import { canaryFolders, placeCanaries, removeCanaries } from './canary.ts';
import { entropyJumps, type EntropyThresholds, type RunFigures } from './entropy.ts';
import { SignalStore, type Incident, type Resolution } from './store.ts';
import { describeSignal, EMPTY_BASELINE, type ActivityBaseline, type Signal } from './types.ts';

/** How much longer than before (and than now) the last clean snapshot's locks are made to last. */
export const HOLD_EXTENSION_DAYS = 30;
/** A baseline peak halves over this long, so a one-off big job does not raise the bar forever. */
const BASELINE_HALF_LIFE_MS = 14 * DAY_MS;
/** Earlier runs the entropy check compares with. */
const ENTROPY_HISTORY = 10;
/** Who the repository's audit log names for a hold placed or lifted by a signal. */
const ACTOR = 'ransomware-signal';

export interface GuardSource {
  id: string;
  name: string;
  paths: string[];
  /** the snapshots' source key in the repository */
  key: string;
}

export interface RansomwareGuardOptions {
  catalog: Catalog;
  clock: Clock;
  /** the source as configured now (undefined: removed) */
  source(sourceId: string): GuardSource | undefined;
  /** the repository the source backs up into, unlocked */
  repositoryFor(sourceId: string): Promise<Repository>;
  /** opens or refreshes the source's ransomware alert */
  raiseAlert(sourceId: string, text: string, action: string): void;
  clearAlert(sourceId: string): void;
  /** an incident opened, grew or was resolved (for notifications and the UI) */
  onIncident?(incident: Incident): void;
  /** a failure of the guard's own work (the alert is raised regardless): reported, never swallowed */
  onError(error: unknown, what: string): void;
  thresholds?: Partial<ActivityThresholds>;
  entropy?: Partial<EntropyThresholds>;
}

/** What the contract shows per source. */
export interface SourceSignals {
  sourceId: string;
  /** the open incident, if any */
  incident: Incident | null;
  /** the last clean snapshot of the open incident, else of the latest resolved one */
  lastClean: Incident['lastClean'];
  canaries: string[];
}

const ACTION =
  'If nobody in the office did this on purpose: do not pay anything and leave the files as they are; unplug ' +
  'this computer from the network (cable and Wi-Fi) and call your IT contact. Your files can be brought back ' +
  'from the last clean backup on the Restore page. If it was you (for example you renamed or encrypted many ' +
  'files on purpose), choose "This was me" there.';

export class RansomwareGuard {
  readonly store: SignalStore;
  private readonly opts: RansomwareGuardOptions;
  private readonly detectors = new Map<string, ActivityDetector>();
  /** files per extension in each source's last snapshot (for the mass-deletion share) */
  private readonly extensionCounts = new Map<string, Record<string, number>>();
  /** each source's hold work, one after another */
  private readonly work = new Map<string, Promise<void>>();

  constructor(opts: RansomwareGuardOptions) {
    this.opts = opts;
    this.store = new SignalStore(opts.catalog);
  }

  private now(): number {
    return this.opts.clock.now().getTime();
  }

  /** The detector of a source (created with its baseline and decoys on first use). */
  detector(sourceId: string): ActivityDetector {
    let d = this.detectors.get(sourceId);
    if (!d) {
      const canaries = new Set(this.store.canaries(sourceId));
      d = new ActivityDetector({
        clock: this.opts.clock,
        ...(this.opts.thresholds ? { thresholds: this.opts.thresholds } : {}),
        baseline: this.decayedBaseline(sourceId),
        filesWithExtension: (ext) => this.extensionCounts.get(sourceId)?.[ext],
        isCanary: (p) => canaries.has(p),
      });
      this.detectors.set(sourceId, d);
      void this.loadExtensionCounts(sourceId);
    }
    return d;
  }

  /** One file event of a watched source (from its watcher, before batching). */
  observe(sourceId: string, event: FileEvent, path: string): void {
    const signals = this.detector(sourceId).observe(event, path);
    if (signals.length > 0) this.signal(sourceId, signals);
  }

  /**
   * A quiet period ended (the watcher delivered a batch): the activity seen since the last one becomes part
   * of the source's baseline, unless an incident is open (an attack must not raise the bar).
   */
  batchDone(sourceId: string): void {
    const d = this.detectors.get(sourceId);
    if (!d) return;
    const peaks = d.checkpoint();
    if (this.store.openIncident(sourceId)) return;
    const before = this.decayedBaseline(sourceId);
    const next: ActivityBaseline = {
      renamesPerFolder: Math.max(before.renamesPerFolder, peaks.renamesPerFolder),
      modified: Math.max(before.modified, peaks.modified),
      deletionsPerExtension: Math.max(before.deletionsPerExtension, peaks.deletionsPerExtension),
    };
    this.store.setBaseline(sourceId, next, this.now());
    d.setBaseline(next);
  }

  /** A backup of the source committed: the entropy check against its earlier snapshots. */
  afterBackup(sourceId: string, repo: Repository, snap: SnapshotManifest): void {
    const figures = snap.stats.extensions;
    if (figures) {
      this.extensionCounts.set(
        sourceId,
        Object.fromEntries(Object.entries(figures).map(([ext, f]) => [ext, f.files])),
      );
    }
    if (!figures) return;
    const earlier: RunFigures[] = repo.catalog
      .snapshots(repo.rid)
      .filter((m) => m.source === snap.source && m.id !== snap.id && m.stats.extensions !== undefined)
      .slice(-ENTROPY_HISTORY)
      .map((m) => ({ at: Date.parse(m.time), extensions: m.stats.extensions ?? {} }));
    const signals = entropyJumps(
      { at: Date.parse(snap.time), extensions: figures },
      earlier,
      this.opts.entropy,
    );
    if (signals.length > 0) this.signal(sourceId, signals);
  }

  /** Resolves once the hold work queued so far is done (tests, a clean stop). */
  async whenIdle(): Promise<void> {
    for (;;) {
      const pending = [...this.work.values()];
      if (pending.length === 0) return;
      await Promise.all(pending);
      if ([...this.work.values()].every((p) => pending.includes(p))) return;
    }
  }

  list(sourceIds: readonly string[]): SourceSignals[] {
    return sourceIds.map((sourceId) => {
      const open = this.store.openIncident(sourceId) ?? null;
      const latest = open ?? this.store.latestIncident(sourceId) ?? null;
      return {
        sourceId,
        incident: open,
        lastClean: latest?.lastClean ?? null,
        canaries: this.store.canaries(sourceId),
      };
    });
  }

  /**
   * Someone looked at the incident: the alert is cleared (prune may run again). "was-me": the activity
   * becomes part of the baseline, and the legal hold the signal placed is lifted (the extended locks stay:
   * nobody can shorten them). "handled": the hold stays until lifted by hand (`bulwark hold --off`).
   */
  async resolve(sourceId: string, resolution: Resolution): Promise<Incident> {
    const inc = this.store.openIncident(sourceId);
    if (!inc) throw new BulwarkError('NOT_FOUND', 'there is no open ransomware alert for this folder');
    await this.work.get(sourceId); // a hold under way finishes first
    this.store.resolve(inc.id, this.now(), resolution);
    this.opts.clearAlert(sourceId);
    const fresh = this.store.incident(inc.id) ?? inc;
    if (resolution === 'was-me') {
      const d = this.detectors.get(sourceId);
      const seen = d?.checkpoint() ?? EMPTY_BASELINE;
      const before = this.decayedBaseline(sourceId);
      const next: ActivityBaseline = {
        renamesPerFolder: Math.max(before.renamesPerFolder, seen.renamesPerFolder),
        modified: Math.max(before.modified, seen.modified),
        deletionsPerExtension: Math.max(before.deletionsPerExtension, seen.deletionsPerExtension),
      };
      this.store.setBaseline(sourceId, next, this.now());
      d?.setBaseline(next);
      if (fresh.lastClean?.legalHold) {
        const repo = await this.opts.repositoryFor(sourceId);
        await holdSnapshot(repo, fresh.lastClean.snapshotId, false, undefined, ACTOR);
        this.store.setLastClean(inc.id, fresh.lastClean, fresh.lastClean.heldUntil, false, fresh.holdProblem);
      }
    }
    const done = this.store.incident(inc.id) ?? fresh;
    this.opts.onIncident?.(done);
    return done;
  }

  /** Opts a source in (decoys placed in each of its folders) or out (removed). Returns the decoys. */
  setCanaries(sourceId: string, enabled: boolean): string[] {
    const s = this.opts.source(sourceId);
    if (!s) throw new BulwarkError('NOT_FOUND', `no source ${sourceId}`);
    const before = this.store.canaries(sourceId);
    // the detector is rebuilt with the new decoys (its window starts again)
    this.detectors.delete(sourceId);
    if (!enabled) {
      this.store.removeCanaries(sourceId);
      removeCanaries(before);
      return [];
    }
    const placed = placeCanaries(canaryFolders(s.paths));
    for (const p of placed) this.store.addCanary(sourceId, p, this.now());
    return this.store.canaries(sourceId);
  }

  /** A source was removed: its detector, baseline and decoys go (its incidents stay as history). */
  forget(sourceId: string): void {
    this.detectors.delete(sourceId);
    this.extensionCounts.delete(sourceId);
    removeCanaries(this.store.canaries(sourceId));
    this.store.forgetSource(sourceId);
  }

  // ---- internals -------------------------------------------------------------------------------------

  private decayedBaseline(sourceId: string): ActivityBaseline {
    const b = this.store.baseline(sourceId);
    if (!b) return { ...EMPTY_BASELINE };
    const k = 0.5 ** (Math.max(0, this.now() - b.updatedAt) / BASELINE_HALF_LIFE_MS);
    return {
      renamesPerFolder: Math.floor(b.baseline.renamesPerFolder * k),
      modified: Math.floor(b.baseline.modified * k),
      deletionsPerExtension: Math.floor(b.baseline.deletionsPerExtension * k),
    };
  }

  private async loadExtensionCounts(sourceId: string): Promise<void> {
    const s = this.opts.source(sourceId);
    if (!s || this.extensionCounts.has(sourceId)) return;
    try {
      const repo = await this.opts.repositoryFor(sourceId);
      const last = repo.catalog.latestSnapshot(repo.rid, s.key);
      const figures = last?.stats.extensions;
      if (figures && !this.extensionCounts.has(sourceId))
        this.extensionCounts.set(
          sourceId,
          Object.fromEntries(Object.entries(figures).map(([ext, f]) => [ext, f.files])),
        );
    } catch (e) {
      // without the counts the mass-deletion rule asks for twice as many deletions: still a working rule
      this.opts.onError(e, 'reading the file counts of the last backup');
    }
  }

  /** Signals of a source: a new incident, or more of the open one; the alert now, the hold right after. */
  private signal(sourceId: string, signals: Signal[]): void {
    const s = this.opts.source(sourceId);
    if (!s) return;
    const open = this.store.openIncident(sourceId);
    const inc = open
      ? this.store.addSignals(open.id, signals)
      : this.store.openNew(sourceId, this.now(), signals);
    this.opts.raiseAlert(sourceId, alertText(s.name, inc), ACTION);
    this.opts.onIncident?.(inc);
    const needsHold = !open || inc.since < open.since || !open.lastClean;
    if (!needsHold) return;
    const prev = this.work.get(sourceId) ?? Promise.resolve();
    const next = prev
      .then(() => this.holdLastClean(sourceId, inc.id))
      .catch((e: unknown) => this.opts.onError(e, 'holding the last clean backup'))
      .finally(() => {
        if (this.work.get(sourceId) === next) this.work.delete(sourceId);
      });
    this.work.set(sourceId, next);
  }

  /**
   * Marks and holds the newest snapshot of the source committed before the incident began. Its locks (and
   * those of every object it needs) are extended to HOLD_EXTENSION_DAYS past the later of their promise and
   * now; a legal hold is placed where the store supports it and the keys are allowed to.
   */
  private async holdLastClean(sourceId: string, incidentId: number): Promise<void> {
    const s = this.opts.source(sourceId);
    const inc = this.store.incident(incidentId);
    if (!s || !inc || inc.resolvedAt !== null) return;
    const repo = await this.opts.repositoryFor(sourceId);
    await repo.syncSnapshots();
    // `since` is this computer's clock, a snapshot's time the server's (S3Store.serverTime estimates it from
    // a Date header to ±0.5 s, and keeps that estimate a while): compared on the server's clock, a backup
    // that ended just before the attack began cannot look later than it.
    const offsetMs = (await repo.store.serverTime()).getTime() - this.now();
    const clean = repo.catalog
      .snapshots(repo.rid)
      .filter((m) => m.source === s.key && Date.parse(m.time) < inc.since + offsetMs)
      .at(-1);
    if (!clean) {
      this.store.setLastClean(
        inc.id,
        null,
        null,
        false,
        'There is no backup of this folder from before it began.',
      );
      this.refreshAlert(sourceId, inc.id);
      return;
    }
    if (inc.lastClean?.snapshotId === clean.id) return;
    const problems: string[] = [];
    let heldUntil: number | null = null;
    const store = repo.store;
    if (repo.config.lock && store.extendRetention) {
      const names = [...(await snapshotClosure(repo, clean)), objectNames.snapshot(clean.id)];
      const now = (await store.serverTime()).getTime();
      const promised = Math.max(
        clean.retainUntil ? Date.parse(clean.retainUntil) : 0,
        repo.catalog.snapshotProtection(repo.rid).get(clean.id)?.protectedUntil ?? 0,
        now,
      );
      const until = new Date(promised + HOLD_EXTENSION_DAYS * DAY_MS);
      await extendLocks(repo, names, until, until);
      heldUntil = until.getTime();
    } else {
      problems.push(
        'Its backup destination cannot lock backups (a folder), so it was marked but could not be locked longer.',
      );
    }
    let legalHold = false;
    if (store.capabilities.legalHold && store.setLegalHold) {
      try {
        await holdSnapshot(repo, clean.id, true, undefined, ACTOR);
        legalHold = true;
      } catch (e) {
        if (!isBulwarkError(e, 'PERMISSION') && !isBulwarkError(e, 'UNSUPPORTED')) throw e;
        problems.push(
          'The storage keys of this computer may not place a legal hold, so only its lock was extended.',
        );
        this.opts.onError(e, 'placing a legal hold on the last clean backup');
      }
    }
    this.store.setLastClean(
      inc.id,
      { snapshotId: clean.id, time: clean.time },
      heldUntil,
      legalHold,
      problems.length > 0 ? problems.join(' ') : null,
    );
    this.refreshAlert(sourceId, inc.id);
  }

  /** The alert says what the hold achieved once it is known. */
  private refreshAlert(sourceId: string, incidentId: number): void {
    const s = this.opts.source(sourceId);
    const inc = this.store.incident(incidentId);
    if (!s || !inc || inc.resolvedAt !== null) return;
    this.opts.raiseAlert(sourceId, alertText(s.name, inc), ACTION);
    this.opts.onIncident?.(inc);
  }
}

const when = (ms: number): string =>
  new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

/** What was seen, what it means for the backups, and what Bulwark did, in plain words. */
export function alertText(name: string, inc: Incident): string {
  const seen = [...new Set(inc.signals.map(describeSignal))];
  const what = seen.length > 3 ? [...seen.slice(0, 3), `${seen.length - 3} more signs`] : seen;
  const held = inc.lastClean
    ? ` The last backup from before it (${when(Date.parse(inc.lastClean.time))}) is marked as the last clean one` +
      (inc.lastClean.heldUntil !== null
        ? ` and locked until at least ${when(inc.lastClean.heldUntil)}${inc.lastClean.legalHold ? ', with a legal hold' : ''}.`
        : '.')
    : '';
  const problem = inc.holdProblem ? ` ${inc.holdProblem}` : '';
  return (
    `Possible ransomware in ${name}: ${what.join('; ')}. Backups go on, and the backups made before cannot be ` +
    `changed or removed; clean-up of old backups is paused until this is looked at.${held}${problem}`
  );
}
