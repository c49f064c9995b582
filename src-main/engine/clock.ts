/** Injectable clock: the engine never calls Date.now() directly, so tests can run years in seconds. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  private ms: number;
  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.ms = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  set(t: Date | number): void {
    this.ms = typeof t === 'number' ? t : t.getTime();
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
