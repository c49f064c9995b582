/**
 * The rate and the time left of a restore.
 *
 * Model: writing takes `a` seconds per byte plus `c` seconds per file (create, mode, times, close, rename:
 * what dominates when an office restores 50 000 small files). Everything is weighted by how recent it is
 * (exponential forgetting, half-life 30 s: a moving average of throughput that follows a disk or network
 * that slows down, without jumping at every burst of the writer threads). `c` is fitted by least squares
 * over the intervals seen so far, `a` is the recent time per byte once the files' share is taken out (see
 * costs()). The time left is then `a · bytes left + c · files left`, which also holds when the files left
 * are not the same mix as those done (the big ones at the end of a folder).
 *
 * When every interval has the same mix (all files of one size) the two costs cannot be told apart; a light
 * pull of `c` towards a typical local-disk cost (0.2 ms) picks one of the equivalent answers, and the
 * prediction for the same mix is unaffected. Until a few seconds have passed (or a tenth of the bytes is
 * written, for a restore that takes only seconds) there is no estimate
 * (`etaSeconds` undefined: "estimating"): the first writes go to the page cache and the first packs are
 * being read, so the first numbers would promise too much. The clock of the model starts at the first
 * bytes written.
 *
 * Times are milliseconds from the injected clock; nothing here reads the time itself.
 */
export interface EtaOptions {
  /** how fast old intervals stop counting (default 30 s) */
  halfLifeMs?: number;
  /** no estimate before this long after the first sample (default 2 s) */
  warmupMs?: number;
  /**
   * samples closer than this are merged into one interval (default 250 ms: two intervals are needed for an
   * estimate, and a 1 GiB restore from a local disk can be half done 1.5 s in, when 500 ms gave none yet)
   */
  minIntervalMs?: number;
}

export interface EtaEstimate {
  /** bytes written per second, recently */
  rate: number;
  /** seconds left; undefined while estimating */
  etaSeconds?: number;
}

/** The per-file cost `c` is pulled towards while the data cannot tell (seconds). */
const TYPICAL_FILE_COST = 0.0002;

export class RestoreEta {
  private readonly halfLife: number;
  private readonly warmup: number;
  private readonly minInterval: number;
  private first: number | undefined;
  private mark: { t: number; bytes: number; files: number } | undefined;
  private intervals = 0;
  // decayed sums of the normal equations (b: bytes, f: files, t: seconds)
  private sbb = 0;
  private sbf = 0;
  private sff = 0;
  private sbt = 0;
  private sft = 0;
  private st = 0;
  private sb = 0;
  private sf = 0;
  private last: EtaEstimate = { rate: 0 };

  constructor(opts: EtaOptions = {}) {
    this.halfLife = opts.halfLifeMs ?? 30_000;
    this.warmup = opts.warmupMs ?? 2_000;
    this.minInterval = opts.minIntervalMs ?? 250;
  }

  /** Adds what is done at time `t` (ms) and returns the estimate for what is left of the totals. */
  sample(
    t: number,
    done: { bytes: number; files: number },
    total: { bytes: number; files: number },
  ): EtaEstimate {
    if (this.first === undefined || this.mark === undefined) {
      // The clock starts with the first bytes written: the time before (writer threads starting, the first
      // packs opened) is paid once, not per byte or per file.
      if (done.bytes === 0 && done.files === 0) return this.last;
      this.first = t;
      this.mark = { t, bytes: done.bytes, files: done.files };
      return this.last;
    }
    const dtMs = t - this.mark.t;
    if (dtMs < this.minInterval) return this.withLeft(t, done, total);
    const dt = dtMs / 1000;
    const db = done.bytes - this.mark.bytes;
    const df = done.files - this.mark.files;
    this.mark = { t, bytes: done.bytes, files: done.files };
    const keep = 0.5 ** (dtMs / this.halfLife);
    this.sbb = this.sbb * keep + db * db;
    this.sbf = this.sbf * keep + db * df;
    this.sff = this.sff * keep + df * df;
    this.sbt = this.sbt * keep + db * dt;
    this.sft = this.sft * keep + df * dt;
    this.st = this.st * keep + dt;
    this.sb = this.sb * keep + db;
    this.sf = this.sf * keep + df;
    this.intervals++;
    return this.withLeft(t, done, total);
  }

  /**
   * The costs: seconds per file `c` from the weighted least-squares fit (only its difference between small
   * and large files is used, see below), seconds per byte `a` from the recent totals once the files' share
   * is taken out: a = (time − c · files) / bytes. Taking `a` from totals rather than from the fit keeps
   * bursts (a pack read, then forty files done at once) from weighing more than the pauses between them:
   * for the same mix of files, the time left is exactly the recent throughput applied to the bytes left.
   */
  costs(): { perByte: number; perFile: number } {
    // Ridge on c only, scaled to the data so that it decides only what the data cannot.
    const mu = 1e-3 * this.sff + 1e-6;
    const a11 = this.sbb;
    const a12 = this.sbf;
    const a22 = this.sff + mu;
    const y1 = this.sbt;
    const y2 = this.sft + mu * TYPICAL_FILE_COST;
    const det = a11 * a22 - a12 * a12;
    let c = det > 0 ? (a11 * y2 - a12 * y1) / det : y2 / a22;
    // never negative, and never more than all the time there was
    const most = this.sf > 0 ? this.st / this.sf : 0;
    if (!Number.isFinite(c) || c < 0) c = 0;
    if (this.sb === 0) c = most; // empty files only: their count is all there is
    c = Math.min(c, most);
    const a = this.sb > 0 ? Math.max(0, this.st - c * this.sf) / this.sb : 0;
    return { perByte: a, perFile: c };
  }

  private withLeft(
    t: number,
    done: { bytes: number; files: number },
    total: { bytes: number; files: number },
  ): EtaEstimate {
    const rate = this.st > 0 ? this.sb / this.st : 0;
    // Ready after the warm-up, or sooner once a tenth of the bytes is written (a restore of a few seconds).
    const elapsed = this.first === undefined ? 0 : t - this.first;
    const ready =
      this.intervals >= 2 &&
      (elapsed >= this.warmup || (elapsed >= this.warmup / 4 && done.bytes >= total.bytes / 10));
    if (!ready) {
      this.last = { rate };
      return this.last;
    }
    const { perByte, perFile } = this.costs();
    const left =
      perByte * Math.max(0, total.bytes - done.bytes) + perFile * Math.max(0, total.files - done.files);
    this.last = { rate, etaSeconds: Number.isFinite(left) ? left : undefined };
    if (this.last.etaSeconds === undefined) delete this.last.etaSeconds;
    return this.last;
  }
}
