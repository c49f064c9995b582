import { z } from 'zod';

/**
 * The channels of the ransomware signals (engine/signals): per source, the open incident and the snapshot
 * marked "last clean" (held: its locks extended, a legal hold where the storage keys allow), a way to
 * resolve the incident ("this was me" / "handled"), and the opt-in decoy files. Spread into `channels`
 * of ipc.ts.
 */

const id = z.string().min(1).max(100);
const iso = z.iso.datetime({ offset: true });

export const signalKindSchema = z.enum([
  'rename-burst',
  'mass-deletion',
  'modification-burst',
  'ransom-extension',
  'ransom-note',
  'canary',
  'entropy-jump',
]);
export type SignalKind = z.infer<typeof signalKindSchema>;

export const signalSchema = z.object({
  kind: signalKindSchema,
  /** what was seen, in plain words */
  text: z.string(),
  at: iso,
  count: z.number().int().nonnegative(),
  /** up to 5 of the files concerned */
  examples: z.array(z.string()),
});

export const lastCleanSchema = z.object({
  snapshotId: z.string(),
  /** when the snapshot was made */
  time: iso,
  /** its locks last at least until then (absent: a folder destination, which cannot lock) */
  heldUntil: iso.optional(),
  legalHold: z.boolean(),
});
export type LastClean = z.infer<typeof lastCleanSchema>;

export const resolutionSchema = z.enum(['was-me', 'handled']);

export const incidentSchema = z.object({
  id: z.number().int().positive(),
  sourceId: z.string(),
  openedAt: iso,
  /** when the suspicious activity began */
  since: iso,
  signals: z.array(signalSchema),
  lastClean: lastCleanSchema.optional(),
  /** why the last clean snapshot could not be held fully, in plain words */
  holdProblem: z.string().optional(),
  resolvedAt: iso.optional(),
  resolution: resolutionSchema.optional(),
});
export type Incident = z.infer<typeof incidentSchema>;

export const sourceSignalsSchema = z.object({
  sourceId: z.string(),
  /** the open incident (its alert is `ransomware-suspected`) */
  incident: incidentSchema.optional(),
  /** the last clean snapshot of the open incident, else of the latest resolved one */
  lastClean: lastCleanSchema.optional(),
  /** decoy files placed in the source's folders (empty: not opted in) */
  canaries: z.array(z.string()),
});
export type SourceSignals = z.infer<typeof sourceSignalsSchema>;

export const signalChannels = {
  /** per source: the open ransomware incident, the last clean snapshot, the decoys */
  'bulwark:signals.list': {
    request: z.strictObject({ sourceId: id.optional() }),
    response: z.object({ sources: z.array(sourceSignalsSchema) }),
  },
  /** "this was me" (the legal hold is lifted, the activity counts as normal) or "handled" (the hold stays) */
  'bulwark:signals.resolve': {
    request: z.strictObject({ sourceId: id, resolution: resolutionSchema }),
    response: z.object({ incident: incidentSchema }),
  },
  /** places (or removes) hidden decoy files in the source's folders: any change to one is a signal */
  'bulwark:signals.canaries': {
    request: z.strictObject({ sourceId: id, enabled: z.boolean() }),
    response: z.object({ canaries: z.array(z.string()) }),
  },
} as const;
