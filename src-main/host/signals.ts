import type { Incident as ContractIncident, LastClean, SourceSignals } from '../contract/signals.ts';
import { ok } from '../contract/result.ts';
import type { BackupService } from '../engine/service/index.ts';
import {
  describeSignal,
  type Incident,
  type SourceSignals as EngineSourceSignals,
} from '../engine/signals/index.ts';
import type { Handlers } from '../transport/dispatch.ts';

/**
 * The handlers of signals.list, signals.resolve and signals.canaries over the service's RansomwareGuard
 * (engine/signals/guard.ts). Shared by `bulwark serve` and the Electron app.
 */

export const SIGNAL_CHANNELS = [
  'bulwark:signals.list',
  'bulwark:signals.resolve',
  'bulwark:signals.canaries',
] as const;

export type SignalHandlers = Pick<Handlers, (typeof SIGNAL_CHANNELS)[number]>;

const iso = (ms: number): string => new Date(ms).toISOString();

function lastClean(c: Incident['lastClean']): LastClean | undefined {
  if (!c) return undefined;
  return {
    snapshotId: c.snapshotId,
    time: new Date(Date.parse(c.time)).toISOString(),
    ...(c.heldUntil !== null ? { heldUntil: iso(c.heldUntil) } : {}),
    legalHold: c.legalHold,
  };
}

export function incident(i: Incident): ContractIncident {
  const clean = lastClean(i.lastClean);
  return {
    id: i.id,
    sourceId: i.sourceId,
    openedAt: iso(i.openedAt),
    since: iso(i.since),
    signals: i.signals.map((s) => ({
      kind: s.kind,
      text: describeSignal(s),
      at: iso(s.at),
      count: s.count,
      examples: s.examples,
    })),
    ...(clean ? { lastClean: clean } : {}),
    ...(i.holdProblem !== null ? { holdProblem: i.holdProblem } : {}),
    ...(i.resolvedAt !== null ? { resolvedAt: iso(i.resolvedAt) } : {}),
    ...(i.resolution !== null ? { resolution: i.resolution } : {}),
  };
}

export function sourceSignals(s: EngineSourceSignals): SourceSignals {
  const clean = lastClean(s.lastClean);
  return {
    sourceId: s.sourceId,
    ...(s.incident ? { incident: incident(s.incident) } : {}),
    ...(clean ? { lastClean: clean } : {}),
    canaries: s.canaries,
  };
}

export function createSignalHandlers(service: BackupService): SignalHandlers {
  return {
    'bulwark:signals.list': ({ sourceId }) =>
      ok({ sources: service.listSignals(sourceId).map(sourceSignals) }),
    'bulwark:signals.resolve': async ({ sourceId, resolution }) =>
      ok({ incident: incident(await service.resolveSignal(sourceId, resolution)) }),
    'bulwark:signals.canaries': ({ sourceId, enabled }) =>
      ok({ canaries: service.setCanaries(sourceId, enabled) }),
  };
}
