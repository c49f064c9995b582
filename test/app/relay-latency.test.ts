import { describe, expect, it } from 'vitest';

import { measureRelayLatency } from '../../bench/relay/measure.ts';

// Must-show: while the service process scans (the engine's folder lister over a real folder, listed again
// and again), the main process pings it through the relay every 100 ms and no answer takes over 250 ms.
// 100 000 entries here (a few seconds on 2 cores); `npm run bench:relay` runs the million on a quiet machine
// and holds the 250 ms bound. Here the whole suite runs beside it (load averages of 18 seen on 2 cores), so
// the bound is what the machine's own scheduling adds to 250 ms: the main process measures how late its own
// timers fire, and a round trip may take that much longer in each of the two processes. A service that
// scanned on the relay's thread would answer only after the whole scan (seconds), far beyond either.
// The scan also lasts at least 2 s (a fast computer lists 100 000 entries in 0.4 s: four pings, too few
// to show anything).
const ENTRIES = Number(process.env['BULWARK_RELAY_SCAN_ENTRIES'] ?? 100_000);

describe('relay latency during a scan in the service process', () => {
  it(`answers every 100 ms ping within 250 ms plus the machine’s own delay while ${ENTRIES} entries are scanned`, async () => {
    const r = await measureRelayLatency(ENTRIES, { minScanMs: 2000 });
    console.log(`relay latency during a ${r.entries}-entry scan:`, r);
    expect(r.entries).toBeGreaterThanOrEqual(ENTRIES);
    // the scan lasted long enough to be pinged several times (else the bound below proves nothing)
    expect(r.scanSeconds).toBeGreaterThanOrEqual(2);
    expect(r.pings).toBeGreaterThanOrEqual(5);
    expect(r.maxPingMs).toBeLessThan(250 + 2 * r.maxMainDelayMs);
    expect(r.maxPingMs).toBeLessThan((r.scanSeconds * 1000) / 4);
  }, 300_000);
});
