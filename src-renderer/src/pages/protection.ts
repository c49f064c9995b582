import type { ProtectionState } from '../../../src-main/contract/model.ts';
import type { Tone } from '../ui/StatusBadge.tsx';

export const PROTECTION_TONE: Record<ProtectionState, Tone> = {
  protected: 'success',
  'at-risk': 'warning',
  'not-protected': 'danger',
};
