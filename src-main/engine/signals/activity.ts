/**
 * The activity detector of one watched source: pure (no I/O), driven by the watcher's file events and an
 * injected clock. It keeps a sliding window of what happened to each path and nets it out, so what a
 * program does on every save (write a temp file, rename the original away, rename the temp into place,
 * delete the old one) counts as one modified file, not as renames and deletions:
 *
 * - a path whose first event in the window was `change`/`unlink` existed before; one that ends with
 *   `add`/`change` exists now; existed + exists = modified, existed + gone = deleted, new + exists = created,
 *   new + gone = a temp file (ignored);
 * - renames in a folder = min(deleted, created) there: what ransomware does when it writes `a.docx.locky`
 *   and removes `a.docx`.
 *
 * Thresholds (Veeam's published ones as the floor, raised by the source's own baseline): 200 renames in one
 * folder; 100 deletions of one extension that are over half of that extension's files; a modification
 * burst far above the source's normal peak; 5 files with a ransomware extension; 1 ransom note; any change
 * to a decoy (canary) file. Each fires once, then again only after a window without it.
 */
import type { Clock } from '../clock.ts';
import { extensionOf, folderOf, isRansomExtension, isRansomNote } from './names.ts';
import { EMPTY_BASELINE, type ActivityBaseline, type Signal, type SignalKind } from './types.ts';

export type FileEvent = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

export interface ActivityThresholds {
  /** how far back events are netted and counted */
  windowMs: number;
  /** Veeam: 200 or more renames in one folder */
  renamesPerFolder: number;
  /** Veeam: 100 or more deletions of one extension… */
  deletionsPerExtension: number;
  /** …that are over this share of that extension's files */
  deletionShare: number;
  /** existing files changed in one window, at the least */
  modified: number;
  /** files created with a ransomware extension */
  ransomExtensionFiles: number;
  /** ransom notes created */
  ransomNotes: number;
  /** a count must also exceed this multiple of the source's normal peak */
  baselineFactor: number;
}

export const DEFAULT_THRESHOLDS: ActivityThresholds = {
  windowMs: 10 * 60_000,
  renamesPerFolder: 200,
  deletionsPerExtension: 100,
  deletionShare: 0.5,
  modified: 1000,
  ransomExtensionFiles: 5,
  ransomNotes: 1,
  baselineFactor: 3,
};

/** Paths followed at most: beyond, the oldest leave the window early (memory stays bounded). */
const MAX_PATHS = 500_000;
const EXAMPLES = 5;

type PathClass = 'modified' | 'deleted' | 'created' | 'transient';

interface PathState {
  existedBefore: boolean;
  exists: boolean;
  firstAt: number;
  /** sequence number of the newest event: the state leaves the window with that event */
  lastSeq: number;
  cls: PathClass;
}

export interface ActivityDetectorOptions {
  clock: Clock;
  thresholds?: Partial<ActivityThresholds>;
  baseline?: ActivityBaseline;
  /** files with this extension in the source's last snapshot (undefined: not known) */
  filesWithExtension?: (ext: string) => number | undefined;
  /** the source's decoy files */
  isCanary?: (path: string) => boolean;
}

const bump = (m: Map<string, number>, k: string, d: number): number => {
  const v = (m.get(k) ?? 0) + d;
  if (v === 0) m.delete(k);
  else m.set(k, v);
  return v;
};

export class ActivityDetector {
  readonly thresholds: ActivityThresholds;
  private readonly clock: Clock;
  private baseline: ActivityBaseline;
  private readonly filesWithExtension: (ext: string) => number | undefined;
  private readonly isCanary: (path: string) => boolean;

  private readonly paths = new Map<string, PathState>();
  private queue: { path: string; at: number; seq: number }[] = [];
  private head = 0;
  private seq = 0;
  private modified = 0;
  private ransomExt = 0;
  private notes = 0;
  private readonly deletedIn = new Map<string, number>();
  private readonly createdIn = new Map<string, number>();
  private readonly deletedExt = new Map<string, number>();
  /** signal key (kind + where) → when it fired: it fires again only a window later */
  private readonly fired = new Map<string, number>();
  private peaks: ActivityBaseline = { ...EMPTY_BASELINE };

  constructor(opts: ActivityDetectorOptions) {
    this.clock = opts.clock;
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
    this.baseline = opts.baseline ?? { ...EMPTY_BASELINE };
    this.filesWithExtension = opts.filesWithExtension ?? (() => undefined);
    this.isCanary = opts.isCanary ?? (() => false);
  }

  setBaseline(b: ActivityBaseline): void {
    this.baseline = { ...b };
  }

  /**
   * The highest counts seen since the last checkpoint (the source's activity for its baseline); the
   * counting starts again from what the window holds now.
   */
  checkpoint(): ActivityBaseline {
    const p = this.peaks;
    this.peaks = this.current();
    return p;
  }

  /** Files followed in the window now (for tests and the bench). */
  get size(): number {
    return this.paths.size;
  }

  /** Takes one watcher event; returns the signals it made fire (usually none). */
  observe(event: FileEvent, path: string): Signal[] {
    const now = this.clock.now().getTime();
    this.expire(now);
    if (event === 'addDir' || event === 'unlinkDir') return [];
    const out: Signal[] = [];
    if (event !== 'add' && this.isCanary(path)) {
      // Bulwark's own placement is an `add`; anything else done to a decoy is someone else's doing
      this.fire(out, now, {
        kind: 'canary',
        at: now,
        since: now,
        count: 1,
        where: path,
        examples: [path],
      });
    }
    const seq = ++this.seq;
    let st = this.paths.get(path);
    if (st) this.account(path, st, -1);
    else {
      st = {
        existedBefore: event !== 'add',
        exists: false,
        firstAt: now,
        lastSeq: seq,
        cls: 'transient',
      };
      this.paths.set(path, st);
    }
    st.exists = event !== 'unlink';
    st.lastSeq = seq;
    st.cls = classify(st);
    this.account(path, st, +1);
    this.queue.push({ path, at: now, seq });
    while (this.paths.size > MAX_PATHS) this.dropOldest();
    this.evaluate(out, now, path, st);
    return out;
  }

  // ---- internals -------------------------------------------------------------------------------------

  private current(): ActivityBaseline {
    let renames = 0;
    for (const [folder, d] of this.deletedIn)
      renames = Math.max(renames, Math.min(d, this.createdIn.get(folder) ?? 0));
    let deletions = 0;
    for (const d of this.deletedExt.values()) deletions = Math.max(deletions, d);
    return { renamesPerFolder: renames, modified: this.modified, deletionsPerExtension: deletions };
  }

  private account(path: string, st: PathState, d: 1 | -1): void {
    switch (st.cls) {
      case 'modified':
        this.modified += d;
        return;
      case 'deleted':
        bump(this.deletedIn, folderOf(path), d);
        bump(this.deletedExt, extensionOf(path), d);
        return;
      case 'created':
        bump(this.createdIn, folderOf(path), d);
        if (isRansomExtension(path)) this.ransomExt += d;
        if (isRansomNote(path)) this.notes += d;
        return;
      case 'transient':
        return;
    }
  }

  private expire(now: number): void {
    const edge = now - this.thresholds.windowMs;
    while (this.head < this.queue.length && (this.queue[this.head]?.at ?? now) < edge) this.dropOldest();
    for (const [key, at] of this.fired) if (at < edge) this.fired.delete(key);
  }

  private dropOldest(): void {
    const ev = this.queue[this.head++];
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (!ev) return;
    const st = this.paths.get(ev.path);
    if (st && st.lastSeq === ev.seq) {
      this.account(ev.path, st, -1);
      this.paths.delete(ev.path);
    }
  }

  private limit(floor: number, normal: number): number {
    return Math.max(floor, Math.ceil(this.thresholds.baselineFactor * normal));
  }

  private evaluate(out: Signal[], now: number, path: string, st: PathState): void {
    const t = this.thresholds;
    const folder = folderOf(path);
    const ext = extensionOf(path);
    // the counts only this event can have raised (the others did not move)
    const renames = Math.min(this.deletedIn.get(folder) ?? 0, this.createdIn.get(folder) ?? 0);
    this.peaks.renamesPerFolder = Math.max(this.peaks.renamesPerFolder, renames);
    this.peaks.modified = Math.max(this.peaks.modified, this.modified);
    this.peaks.deletionsPerExtension = Math.max(
      this.peaks.deletionsPerExtension,
      this.deletedExt.get(ext) ?? 0,
    );
    if (st.cls === 'deleted' || st.cls === 'created') {
      if (renames >= this.limit(t.renamesPerFolder, this.baseline.renamesPerFolder))
        this.fire(
          out,
          now,
          this.collect(
            'rename-burst',
            now,
            renames,
            folder,
            (p, s) => s.cls === 'deleted' && folderOf(p) === folder,
          ),
        );
    }
    if (st.cls === 'deleted') {
      const deleted = this.deletedExt.get(ext) ?? 0;
      const known = this.filesWithExtension(ext);
      // Veeam's share rule needs the number of files there were; without it, twice the count is asked for
      const share =
        known === undefined ? deleted >= 2 * t.deletionsPerExtension : deleted > t.deletionShare * known;
      if (share && deleted >= this.limit(t.deletionsPerExtension, this.baseline.deletionsPerExtension))
        this.fire(
          out,
          now,
          this.collect(
            'mass-deletion',
            now,
            deleted,
            ext,
            (p, s) => s.cls === 'deleted' && extensionOf(p) === ext,
          ),
        );
    }
    if (st.cls === 'modified' && this.modified >= this.limit(t.modified, this.baseline.modified))
      this.fire(
        out,
        now,
        this.collect('modification-burst', now, this.modified, undefined, (_p, s) => s.cls === 'modified'),
      );
    if (st.cls === 'created') {
      if (isRansomExtension(path) && this.ransomExt >= t.ransomExtensionFiles)
        this.fire(
          out,
          now,
          this.collect(
            'ransom-extension',
            now,
            this.ransomExt,
            undefined,
            (p, s) => s.cls === 'created' && isRansomExtension(p),
          ),
        );
      if (isRansomNote(path) && this.notes >= t.ransomNotes)
        this.fire(
          out,
          now,
          this.collect(
            'ransom-note',
            now,
            this.notes,
            undefined,
            (p, s) => s.cls === 'created' && isRansomNote(p),
          ),
        );
    }
  }

  /** The signal with its earliest start and examples (one pass over the window: only when one fires). */
  private collect(
    kind: SignalKind,
    now: number,
    count: number,
    where: string | undefined,
    match: (path: string, st: PathState) => boolean,
  ): Signal {
    let since = now;
    const examples: string[] = [];
    for (const [p, s] of this.paths) {
      if (!match(p, s)) continue;
      since = Math.min(since, s.firstAt);
      if (examples.length < EXAMPLES) examples.push(p);
    }
    return { kind, at: now, since, count, ...(where !== undefined ? { where } : {}), examples };
  }

  private fire(out: Signal[], now: number, s: Signal): void {
    const key = `${s.kind}\0${s.kind === 'canary' ? '' : (s.where ?? '')}`;
    if (this.fired.has(key)) return;
    this.fired.set(key, now);
    out.push(s);
  }
}

function classify(st: PathState): PathClass {
  if (st.existedBefore) return st.exists ? 'modified' : 'deleted';
  return st.exists ? 'created' : 'transient';
}
