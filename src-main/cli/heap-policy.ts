/**
 * How eagerly V8 collects the old generation, chosen per command.
 *
 * The shebang (main.ts) starts every command with `--optimize-for-size`, which a backup needs: without it
 * the main heap of a backup of 80 000 small files grows on garbage and the run's peak rose by ~45 MB
 * (docs/DECISIONS.md). A restore pays for it instead: with that flag V8 makes every full collection a
 * "reduce memory" one, which leaves the old generation almost no room to grow, and a restore's main thread
 * (it downloads packs, whose HTTP responses arrive as 64 KiB buffers, and takes the writers' results) set
 * one off every 30-40 ms: 18 full collections and ~115 ms of pauses in a 1.3 s restore of the corpus from
 * S3, against 3 and 9 ms without the flag, at the same peak (its peak is the writers and the downloads in
 * flight, not the main heap's garbage).
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Lets V8 size the old generation for speed from now on, process-wide (every thread started later follows
 * it). Node's compile cache still accepts the modules compiled under the shebang's flags.
 */
export function collectForSpeed(): void {
  setFlagsFromString('--no-optimize-for-size');
}
