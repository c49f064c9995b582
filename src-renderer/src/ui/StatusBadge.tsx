import {
  CircleCheck,
  CircleHelp,
  CircleX,
  Info,
  OctagonAlert,
  TriangleAlert,
  type LucideIcon,
} from 'lucide-react';

export type Tone = 'success' | 'warning' | 'danger' | 'info' | 'neutral';

export const TONE_ICON: Record<Tone, LucideIcon> = {
  success: CircleCheck,
  warning: TriangleAlert,
  danger: CircleX,
  info: Info,
  neutral: CircleHelp,
};

/** A state shown with an icon and words, never colour alone. */
export function StatusBadge({
  tone,
  children,
  icon,
  critical,
}: {
  tone: Tone;
  children: string;
  icon?: LucideIcon;
  /** the strongest alarm: an octagon instead of the cross */
  critical?: boolean;
}) {
  const Icon = icon ?? (critical ? OctagonAlert : TONE_ICON[tone]);
  return (
    <span className={`badge badge--${tone}`} data-tone={tone}>
      <Icon aria-hidden="true" size={14} className="badge__icon" />
      <span>{children}</span>
    </span>
  );
}
