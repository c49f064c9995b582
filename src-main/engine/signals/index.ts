/** Ransomware signals (DESIGN §5): pure detectors and what the service does on a signal. */
export {
  ActivityDetector,
  DEFAULT_THRESHOLDS,
  type ActivityDetectorOptions,
  type ActivityThresholds,
  type FileEvent,
} from './activity.ts';
export { CANARY_NAME, canaryFolders, placeCanaries, removeCanaries } from './canary.ts';
export {
  DEFAULT_ENTROPY_THRESHOLDS,
  entropyJumps,
  type EntropyThresholds,
  type RunFigures,
} from './entropy.ts';
export {
  HOLD_EXTENSION_DAYS,
  RansomwareGuard,
  alertText,
  type GuardSource,
  type RansomwareGuardOptions,
  type SourceSignals,
} from './guard.ts';
export {
  RANSOM_EXTENSIONS,
  RANSOM_NOTE_PATTERNS,
  extensionOf,
  isRansomExtension,
  isRansomNote,
} from './names.ts';
export { SignalStore, type Incident, type Resolution } from './store.ts';
export {
  EMPTY_BASELINE,
  SIGNAL_KINDS,
  describeSignal,
  type ActivityBaseline,
  type ExtensionFigures,
  type Signal,
  type SignalKind,
} from './types.ts';
