import type { Clock } from '../clock.ts';
import type { Timers } from './timers.ts';

/**
 * Rate of a growing byte counter over a sliding window, timed with the injected clock (a FakeClock that
 * does not move gives rate 0, never a division by zero).
 */
export class RateMeter {
  private readonly samples: { t: number; bytes: number }[] = [];
  private readonly windowMs: number;
  private last = 0;

  /** `start`: when the job started (its counter at 0), so even a first sample that is already done has a rate. */
  constructor(windowMs = 5_000, start?: number) {
    this.windowMs = windowMs;
    if (start !== undefined) this.samples.push({ t: start, bytes: 0 });
  }

  /** Adds a sample and returns the current rate in bytes per second. */
  sample(t: number, bytes: number): number {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && (this.samples[1]?.t ?? t) <= t - this.windowMs) this.samples.shift();
    if (this.samples.length > 512) this.samples.splice(0, this.samples.length - 512);
    const first = this.samples[0];
    if (!first) return 0;
    const dt = t - first.t;
    // Below 200 ms the estimate is noise: keep the previous one, unless there is none yet (a small job can
    // read everything within 200 ms and then wait on a slow target: a rough rate beats none).
    if (dt >= 200 || (this.last === 0 && dt > 0))
      this.last = Math.max(0, ((bytes - first.bytes) * 1000) / dt);
    return this.last;
  }
}

/**
 * Passes on at most one value per `intervalMs` (leading edge, plus a trailing one so the latest value is
 * never lost). The engine reports progress on every file; a UI wants ~4 updates a second.
 */
export class Throttle<T> {
  private readonly emit: (v: T) => void;
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private lastEmit: number | undefined;
  private pending: { v: T } | undefined;
  private timer: unknown;

  constructor(emit: (v: T) => void, intervalMs: number, clock: Clock, timers: Timers) {
    this.emit = emit;
    this.intervalMs = intervalMs;
    this.clock = clock;
    this.timers = timers;
  }

  push(v: T): void {
    this.pending = { v };
    const now = this.clock.now().getTime();
    if (this.lastEmit === undefined || now - this.lastEmit >= this.intervalMs) {
      this.fire(now);
      return;
    }
    if (this.timer === undefined) {
      const wait = this.intervalMs - Math.max(0, now - this.lastEmit);
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.fire(this.clock.now().getTime());
      }, wait);
    }
  }

  /** Emits the pending value now (if any), e.g. before a final state. */
  flush(): void {
    this.fire(this.clock.now().getTime());
  }

  /** Drops the pending value and the timer. */
  stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private fire(now: number): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.lastEmit = now;
    this.emit(p.v);
  }
}
