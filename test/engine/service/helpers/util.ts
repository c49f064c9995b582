import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeClock } from '../../../../src-main/engine/clock.ts';
import type { Timers } from '../../../../src-main/engine/service/timers.ts';

export function tempDir(tag = 'svc'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `bulwark-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Timers driven by a FakeClock: `advance(ms)` moves the clock and fires what is due, in order. */
export class ManualTimers implements Timers {
  private readonly clock: FakeClock;
  private seq = 0;
  readonly pending = new Map<number, { at: number; fn: () => void; ms: number }>();
  /** every delay asked for, in order (backoff checks) */
  readonly requested: number[] = [];

  constructor(clock: FakeClock) {
    this.clock = clock;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.requested.push(ms);
    this.pending.set(id, { at: this.clock.now().getTime() + ms, fn, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  advance(ms: number): void {
    const end = this.clock.now().getTime() + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.clock.set(Math.max(this.clock.now().getTime(), next[1].at));
      next[1].fn();
    }
    this.clock.set(end);
  }
}

/** Polls `cond` (real time) until it holds; fails with `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
