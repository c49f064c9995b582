/** What the ransomware detectors report (engine/signals): pure data, no I/O. */

export type SignalKind =
  /** many files of one folder disappeared while as many new names appeared there */
  | 'rename-burst'
  /** most files of one extension were deleted at once */
  | 'mass-deletion'
  /** far more existing files changed than this source ever sees */
  | 'modification-burst'
  /** files appeared with an extension ransomware gives what it encrypted (.locky, .wncry, …) */
  | 'ransom-extension'
  /** a file named like a ransom note appeared (README_DECRYPT, HOW_TO_DECRYPT, …) */
  | 'ransom-note'
  /** one of the decoy files Bulwark placed was changed, renamed or deleted */
  | 'canary'
  /** files of a kind that compressed well before now look like random bytes (encrypted) */
  | 'entropy-jump';

export const SIGNAL_KINDS: readonly SignalKind[] = [
  'rename-burst',
  'mass-deletion',
  'modification-burst',
  'ransom-extension',
  'ransom-note',
  'canary',
  'entropy-jump',
];

export interface Signal {
  kind: SignalKind;
  /** when it was seen (ms, the injected clock) */
  at: number;
  /**
   * when the activity behind it began (ms): the last clean snapshot is the newest one committed before
   * this moment
   */
  since: number;
  /** how many files show it */
  count: number;
  /** the folder (rename burst), the extension (mass deletion, entropy jump), the file (canary) */
  where?: string;
  /** up to 5 of the paths concerned, as examples for people */
  examples: string[];
}

/** A source's normal activity: the highest counts seen in one window of ordinary work (decayed over time). */
export interface ActivityBaseline {
  renamesPerFolder: number;
  modified: number;
  deletionsPerExtension: number;
}

export const EMPTY_BASELINE: ActivityBaseline = {
  renamesPerFolder: 0,
  modified: 0,
  deletionsPerExtension: 0,
};

/** Per-extension figures of one backup run (SnapshotStats.extensions): what the entropy check compares. */
export interface ExtensionFigures {
  /** files with this extension in the snapshot */
  files: number;
  /** files with this extension whose content was read (new or changed) */
  read: number;
  /** bytes of new content (chunks not stored before) before compression */
  freshRaw: number;
  /** the same bytes after compression (what compression made of them) */
  freshStored: number;
}

/** Describes a signal in plain words (for the alert and the UI): what was seen, not what it means. */
export function describeSignal(s: Signal): string {
  const n = s.count.toLocaleString('en-US');
  const files = (k: number): string => (k === 1 ? 'file' : 'files');
  switch (s.kind) {
    case 'rename-burst':
      return `${n} files in the folder ${s.where ?? ''} were renamed or replaced within minutes`;
    case 'mass-deletion':
      return `${n} of the .${s.where ?? ''} files were deleted within minutes`;
    case 'modification-burst':
      return `${n} existing files were changed within minutes, far more than usual`;
    case 'ransom-extension':
      return `${n} ${files(s.count)} appeared with a name ending that ransomware uses (${s.examples
        .slice(0, 2)
        .map((p) => p.split(/[\\/]/).pop() ?? p)
        .join(', ')})`;
    case 'ransom-note':
      return `a file named like a ransom note appeared (${(s.examples[0] ?? '').split(/[\\/]/).pop() ?? ''})`;
    case 'canary':
      return `a hidden decoy file that nobody should touch was changed (${s.where ?? ''})`;
    case 'entropy-jump':
      return `${n} .${s.where ?? ''} ${files(s.count)} that used to compress well now look scrambled, as encrypted files do`;
  }
}
