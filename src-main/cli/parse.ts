import { InvalidArgumentError } from 'commander';

/** commander argument parser for a whole number >= 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  }
  return n;
}

/** commander collector for repeatable options (--tag a --tag b). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Splits "SNAPSHOT:PATH" at the first colon (snapshot ids and prefixes never contain one). */
export function splitSnapshotRef(ref: string): { snapshot: string; path: string } {
  const i = ref.indexOf(':');
  return i < 0 ? { snapshot: ref, path: '' } : { snapshot: ref.slice(0, i), path: ref.slice(i + 1) };
}
