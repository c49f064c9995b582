/** Runs async tasks with at most `limit` in flight; `drain()` waits for all and rethrows the first failure. */
export class TaskPool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly all = new Set<Promise<void>>();
  private firstError: unknown;

  private readonly limitValue: number;

  constructor(limit: number) {
    this.limitValue = limit;
  }

  get failed(): unknown {
    return this.firstError;
  }

  /** Resolves once the task has started (so callers apply backpressure), not when it ends. */
  async add(task: () => Promise<void>): Promise<void> {
    while (this.running >= this.limitValue) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    const p = task()
      .catch((e: unknown) => {
        this.firstError ??= e;
      })
      .finally(() => {
        this.running--;
        this.all.delete(p);
        this.waiting.shift()?.();
      });
    this.all.add(p);
  }

  async drain(): Promise<void> {
    while (this.all.size > 0) await Promise.all([...this.all]);
    if (this.firstError !== undefined) throw this.firstError;
  }
}
