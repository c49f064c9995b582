#!/usr/bin/env node
/**
 * npm run bench:relay [-- --entries N]: a simulated scan of N entries (default 1 000 000) in the desktop
 * app's service process while the main side pings it through the relay every 100 ms. Fails (exit 1) when a
 * ping took longer than 250 ms. See bench/relay/measure.ts.
 */
import { parseArgs } from 'node:util';

import { measureRelayLatency } from './relay/measure.ts';

const LIMIT_MS = 250;
const { values } = parseArgs({ options: { entries: { type: 'string', default: '1000000' } } });
const entries = Number(values.entries);
if (!Number.isInteger(entries) || entries < 1000) {
  console.error('--entries must be a whole number of at least 1000');
  process.exit(2);
}
const r = await measureRelayLatency(entries);
const ms = (x: number): string => `${x.toFixed(1)} ms`;
console.log(
  `simulated scan: ${r.entries.toLocaleString('en')} entries in ${r.folders} folders, ${r.scanSeconds.toFixed(1)} s`,
);
console.log(`pings every 100 ms during the scan: ${r.pings}`);
console.log(
  `round trip main → service → main: max ${ms(r.maxPingMs)}, p50 ${ms(r.p50PingMs)}, p99 ${ms(r.p99PingMs)}`,
);
console.log(`main process timer delay: max ${ms(r.maxMainDelayMs)}`);
if (r.maxPingMs > LIMIT_MS || r.maxMainDelayMs > LIMIT_MS) {
  console.error(`FAIL: an answer took longer than ${LIMIT_MS} ms`);
  process.exit(1);
}
console.log(`OK: no answer slower than ${LIMIT_MS} ms`);
