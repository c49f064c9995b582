import type {
  AlertSeverity,
  ConflictPolicy,
  JobPhase,
  JobReason,
  Page,
  ProtectionState,
  Target,
  WatchMode,
} from '../../../src-main/contract/model.ts';
import type { ErrorCode, ResultError } from '../../../src-main/contract/result.ts';
import { formatDuration, formatEvery } from './format.ts';

/**
 * What the app says, in plain words: no error codes, no "RPO", no "fs", no "worm-folder". Every label a
 * page shows for a value of the contract comes from here, so the words stay the same everywhere.
 */

export const PAGE_LABEL: Record<Page, string> = {
  overview: 'Overview',
  restore: 'Restore',
  sources: 'Sources',
  snapshots: 'Snapshots',
  targets: 'Targets',
  alerts: 'Alerts',
  settings: 'Settings',
};

export const PROTECTION_LABEL: Record<ProtectionState, string> = {
  protected: 'Protected',
  'at-risk': 'At risk',
  'not-protected': 'Not protected',
};

export const SEVERITY_LABEL: Record<AlertSeverity, string> = {
  info: 'Information',
  warning: 'Warning',
  error: 'Problem',
  critical: 'Critical',
};

export const PHASE_LABEL: Record<JobPhase, string> = {
  scanning: 'Looking for changes',
  'backing-up': 'Backing up',
  finalizing: 'Finishing',
  restoring: 'Restoring',
  verifying: 'Checking',
};

export const REASON_LABEL: Record<JobReason, string> = {
  manual: 'started by hand',
  watch: 'files changed',
  rescan: 'scheduled check',
  retry: 'trying again',
  resume: 'resumed',
};

/** how the folder is watched, for people */
export function watchLabel(mode: WatchMode, rescanMinutes: number): string {
  switch (mode) {
    case 'live':
      return 'Watching for changes';
    case 'polling':
      return 'Checking for changes every few seconds';
    case 'rescan-only':
      return `Checking the whole folder ${formatEvery(rescanMinutes)}`;
    case 'starting':
      return 'Starting to watch for changes';
    case 'off':
      return 'Not watching for changes';
  }
}

/** the "how often at least" of a source: "Backs up within 1 hour of a change" */
export function scheduleLabel(rpoMinutes: number): string {
  return `Backs up within ${formatDuration(rpoMinutes * 60)} of a change`;
}

/** What a source's schedule may be set to ("how often at least"), in minutes. */
export const SCHEDULE_CHOICES: readonly { minutes: number; label: string }[] = [
  { minutes: 15, label: 'Every 15 minutes' },
  { minutes: 60, label: 'Every hour' },
  { minutes: 240, label: 'Every 4 hours' },
  { minutes: 720, label: 'Every 12 hours' },
  { minutes: 1440, label: 'Every day' },
];

export function targetKindLabel(kind: Target['kind']): string {
  return kind === 's3' ? 'Cloud storage (Amazon S3 or compatible)' : 'Local folder or network share';
}

/** "Immutable: backups cannot be deleted for 30 days" / "Tamper-evident: changes are detected, not prevented" */
export function immutabilityLabel(target: Pick<Target, 'immutability' | 'lock'>): {
  short: string;
  long: string;
  tone: 'success' | 'info' | 'warning';
} {
  switch (target.immutability) {
    case 'object-lock': {
      const days = target.lock?.days;
      return {
        short: 'Immutable',
        long:
          days === undefined
            ? 'Immutable: nobody can change or delete backups until they expire'
            : `Immutable: backups cannot be deleted for ${days === 1 ? '1 day' : `${days} days`}`,
        tone: 'success',
      };
    }
    case 'worm-folder':
      return {
        short: 'Tamper-evident',
        long: 'Tamper-evident: changes are detected, not prevented',
        tone: 'info',
      };
    case 'none':
      return {
        short: 'Not immutable',
        long: 'Not immutable: backups here could be changed or deleted',
        tone: 'warning',
      };
  }
}

export const POLICY_CHOICES: readonly { value: ConflictPolicy; label: string; description: string }[] = [
  {
    value: 'keep-both',
    label: 'Keep both',
    description: 'The restored file is saved next to the existing one, with the date in its name.',
  },
  {
    value: 'if-newer',
    label: 'Only if the backup is newer',
    description: 'Replace a file only when the backed-up version was changed more recently.',
  },
  {
    value: 'skip',
    label: 'Skip them',
    description: 'Leave the existing files as they are; restore only the missing ones.',
  },
  {
    value: 'overwrite',
    label: 'Replace them',
    description: 'The existing files are replaced by the backed-up versions.',
  },
];

const ERROR_WORDS: Record<ErrorCode, { title: string; hint: string }> = {
  NOT_FOUND: { title: 'It could not be found', hint: 'It may have been moved, renamed or removed.' },
  ALREADY_EXISTS: { title: 'It already exists', hint: 'Choose another name or place.' },
  INVALID_ARGUMENT: { title: 'Something in the form is not right', hint: 'Check the fields and try again.' },
  WRONG_PASSWORD: {
    title: 'The password of the backup storage is wrong',
    hint: 'Ask the person who set up Bulwark for the right password.',
  },
  REPO_NOT_FOUND: {
    title: 'The backup storage could not be found',
    hint: 'Check that the drive, network share or cloud storage is connected.',
  },
  REPO_EXISTS: { title: 'There are already backups there', hint: 'Choose another place.' },
  REPO_DAMAGED: {
    title: 'The backup storage is damaged',
    hint: 'Bulwark keeps what it can read. Contact the person who looks after your backups.',
  },
  CORRUPT: {
    title: 'Some backed-up data is damaged',
    hint: 'Contact the person who looks after your backups.',
  },
  LOCKED: { title: 'This is busy right now', hint: 'Wait a moment and try again.' },
  LOCK_INVARIANT_BROKEN: {
    title: 'The protection of the backups is not what was promised',
    hint: 'Backups are stopped until someone checks the backup storage.',
  },
  PERMISSION: {
    title: 'Bulwark is not allowed to do this',
    hint: 'Check that Bulwark may read that folder, or sign in again.',
  },
  NO_SPACE: { title: 'There is no space left', hint: 'Free some space and try again.' },
  NETWORK: {
    title: "Bulwark's service is not answering",
    hint: 'It reconnects by itself; check that the computer running Bulwark is on.',
  },
  UNSUPPORTED: {
    title: 'This is not available yet',
    hint: 'This version of Bulwark cannot do this yet.',
  },
  CANCELED: { title: 'It was stopped', hint: 'Nothing else was changed.' },
  IO: { title: 'A file or disk could not be read or written', hint: 'Check the drive and try again.' },
  INTERNAL: {
    title: 'Something went wrong inside Bulwark',
    hint: 'Try again. If it keeps happening, contact the person who looks after your backups.',
  },
};

/** An error of the main side in plain words: a title, what to do, and the technical text for support. */
export function describeError(error: ResultError): { title: string; hint: string; details: string } {
  const words = ERROR_WORDS[error.code];
  // the link, a missing channel and internal failures are explained here; the main side's hint (written for
  // people) is kept for the others
  // A hint that names a command (`bulwark init ...`) was written for the terminal: an office manager gets
  // ours. REPO_NOT_FOUND is always ours: the engine's hint offers to create a repository, which on an
  // unplugged NAS would start an empty one where the backups should be.
  const ours =
    error.code === 'NETWORK' ||
    error.code === 'UNSUPPORTED' ||
    error.code === 'INTERNAL' ||
    error.code === 'REPO_NOT_FOUND' ||
    /`|--[a-z]/.test(error.hint ?? '');
  return { title: words.title, hint: ours ? words.hint : (error.hint ?? words.hint), details: error.message };
}

/**
 * A run's failure as recorded ("why it failed, for people"); some still start with the engine's code
 * ("NOT_FOUND: /x: not found"), which is not for people: it is left out.
 */
export function plainRunError(text: string): string {
  // a folder is shown as its path: "file:///mnt/nas/backups" means nothing to the person reading it
  return text.replace(/^[A-Z][A-Z_]{2,}:\s*/, '').replace(/\bfile:\/\/(\/[^\s]*)/g, (_, p: string) => {
    try {
      return decodeURI(p);
    } catch {
      return p; // a stray % is shown as it is
    }
  });
}
