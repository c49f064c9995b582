/**
 * The entropy jump (pure): encrypted data does not compress. Every backup records, per extension, how much
 * new content it read and what compression made of it (SnapshotStats.extensions, filled by the backup's
 * readers). Files of an extension that compressed well in the earlier snapshots of the source and whose new
 * content now does not compress at all have most likely been encrypted in place.
 */
import type { ExtensionFigures, Signal } from './types.ts';

export interface EntropyThresholds {
  /** new content of the extension in this run, at the least (bytes) */
  minFreshBytes: number;
  /** files of the extension read in this run, at the least */
  minFiles: number;
  /** stored / raw at or above this now: incompressible */
  incompressible: number;
  /** stored / raw at or below this before: it compressed well */
  compressible: number;
  /** new content of the extension in the earlier run compared with, at the least (bytes) */
  minEarlierBytes: number;
}

export const DEFAULT_ENTROPY_THRESHOLDS: EntropyThresholds = {
  minFreshBytes: 256 * 1024,
  minFiles: 20,
  incompressible: 0.95,
  compressible: 0.8,
  minEarlierBytes: 64 * 1024,
};

/** One run's figures per extension, with when its snapshot was committed (ms). */
export interface RunFigures {
  at: number;
  extensions: Readonly<Record<string, ExtensionFigures>>;
}

/**
 * The entropy signals of `current` against the earlier runs of the same source (any order). For each
 * extension, the newest earlier run that read enough of it is the reference. The signal's `since` is
 * the newest earlier run's time + 1 ms: the snapshot before the current one is the last clean one.
 */
export function entropyJumps(
  current: RunFigures,
  earlier: readonly RunFigures[],
  thresholds: Partial<EntropyThresholds> = {},
): Signal[] {
  const t = { ...DEFAULT_ENTROPY_THRESHOLDS, ...thresholds };
  const before = [...earlier].filter((r) => r.at < current.at).sort((a, b) => b.at - a.at);
  const previous = before[0];
  if (!previous) return []; // the first snapshot has nothing to compare with
  const out: Signal[] = [];
  for (const [ext, now] of Object.entries(current.extensions)) {
    if (ext === '' || now.freshRaw < t.minFreshBytes || now.read < t.minFiles) continue;
    if (now.freshStored / now.freshRaw < t.incompressible) continue;
    const ref = before.find((r) => (r.extensions[ext]?.freshRaw ?? 0) >= t.minEarlierBytes)?.extensions[ext];
    if (!ref || ref.freshStored / ref.freshRaw > t.compressible) continue;
    out.push({
      kind: 'entropy-jump',
      at: current.at,
      since: previous.at + 1,
      count: now.read,
      where: ext,
      examples: [],
    });
  }
  return out;
}
