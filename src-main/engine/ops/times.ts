/**
 * Times for utimes/futimes/lutimes. The tree keeps nanoseconds; Node takes seconds and converts them to a
 * double before the system call, so full nanosecond precision cannot be had without a native addon.
 * - A negative *number* means "now" to Node (a file from 1960 would be restored with today's date); a
 *   numeric *string* is taken as it is, negative too.
 * - The string is the exact decimal value of the recorded nanoseconds, so the only loss is Node's own
 *   rounding to the nearest double: at most half a unit in the last place, measured here at 120 ns for
 *   1901–2038 and 239 ns up to 2106 (docs/DECISIONS.md, Restore safety). A Date would keep milliseconds only.
 */
export function utimeArg(ns: string): string {
  const n = BigInt(ns);
  const a = n < 0n ? -n : n;
  return `${n < 0n ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}`;
}
