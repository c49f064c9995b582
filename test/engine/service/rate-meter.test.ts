import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../../src-main/engine/service/progress.ts';

describe('RateMeter', () => {
  it('measures bytes per second over its window', () => {
    const m = new RateMeter(5_000);
    expect(m.sample(0, 0)).toBe(0);
    expect(m.sample(1_000, 1_000_000)).toBe(1_000_000);
    expect(m.sample(2_000, 3_000_000)).toBe(1_500_000);
  });

  it('keeps its estimate on samples closer than 200 ms once it has one', () => {
    const m = new RateMeter(5_000);
    m.sample(0, 0);
    expect(m.sample(1_000, 1_000_000)).toBe(1_000_000);
    // 1 100 ms after the first sample: a new estimate (2 MB in 1.1 s)
    expect(m.sample(1_100, 2_200_000)).toBe(2_000_000);
  });

  it('gives a rough first rate when a small job read everything within 200 ms', () => {
    const m = new RateMeter(5_000);
    m.sample(0, 0);
    expect(m.sample(50, 3_000_000)).toBe(60_000_000);
  });

  it('counts from the start of the job, so a first sample that is already done has a rate', () => {
    const m = new RateMeter(5_000, 1_000);
    expect(m.sample(1_500, 3_000_000)).toBe(6_000_000);
    // a clock that does not move: rate 0, never a division by zero
    expect(new RateMeter(5_000, 7).sample(7, 100)).toBe(0);
  });
});
