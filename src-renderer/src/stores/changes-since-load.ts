/**
 * The changes a store made to its list (from events, from the answers to its own actions) while a fresh copy
 * of the list was on its way. The service may compute a list and then make and announce a change (a source
 * added and its backup started, an alert raised): the event can arrive before the list, and the list,
 * older than it, must not take it back. Each change is kept as the function that made it and applied again,
 * in order, on top of the list when it comes; applied to a list that already has it, it changes nothing.
 */
export type ListChange<T> = (items: readonly T[]) => T[];

export class ChangesSinceLoad<T> {
  private pending: ListChange<T>[] | undefined;

  /** A load starts: what changes from now on is kept for its answer (an older load's is dropped). */
  begin(): void {
    this.pending = [];
  }

  /** Keeps `change` for the load on its way, if any. */
  record(change: ListChange<T>): void {
    this.pending?.push(change);
  }

  /** The latest load's list, with the changes made meanwhile applied again; ends the keeping. */
  finish(items: readonly T[]): T[] {
    const changes = this.pending ?? [];
    this.pending = undefined;
    return changes.reduce<T[]>((list, change) => change(list), [...items]);
  }

  /** The latest load failed: nothing to apply them to. */
  drop(): void {
    this.pending = undefined;
  }
}
