import type { LucideIcon } from 'lucide-react';
import type { ReactNode } from 'react';
import {
  Button as AriaButton,
  Link as AriaLink,
  Tooltip,
  TooltipTrigger,
  type ButtonProps as AriaButtonProps,
} from 'react-aria-components';

export type ButtonVariant = 'primary' | 'secondary' | 'ghost' | 'danger';
export type ButtonSize = 'md' | 'sm';

export interface ButtonProps extends Omit<AriaButtonProps, 'children' | 'className'> {
  variant?: ButtonVariant;
  size?: ButtonSize;
  icon?: LucideIcon;
  /** shown instead of the icon while `isPending` */
  children: ReactNode;
  className?: string;
}

const classes = (variant: ButtonVariant, size: ButtonSize, extra?: string) =>
  ['btn', `btn--${variant}`, size === 'sm' ? 'btn--sm' : '', extra ?? ''].filter(Boolean).join(' ');

/**
 * The one button of the app (react-aria: press, keyboard and focus-visible handled alike everywhere).
 * A button repeated on every row must say which row it acts on: "Back up Office now", not "Back up now".
 */
export function Button({
  variant = 'secondary',
  size = 'md',
  icon: Icon,
  children,
  className,
  ...rest
}: ButtonProps) {
  return (
    <AriaButton {...rest} className={classes(variant, size, className)}>
      {Icon ? <Icon className="btn__icon" aria-hidden="true" size={size === 'sm' ? 16 : 18} /> : null}
      <span className="btn__label">{children}</span>
    </AriaButton>
  );
}

/** A link that looks like a button (to another page of the app). */
export function LinkButton({
  href,
  variant = 'secondary',
  size = 'md',
  icon: Icon,
  children,
  'aria-label': ariaLabel,
}: {
  href: string;
  variant?: ButtonVariant;
  size?: ButtonSize;
  icon?: LucideIcon;
  children: ReactNode;
  'aria-label'?: string;
}) {
  return (
    <AriaLink href={href} className={classes(variant, size)} aria-label={ariaLabel}>
      {Icon ? <Icon className="btn__icon" aria-hidden="true" size={size === 'sm' ? 16 : 18} /> : null}
      <span className="btn__label">{children}</span>
    </AriaLink>
  );
}

/** An icon-only button: `label` is its accessible name and its tooltip. */
export function IconButton({
  icon: Icon,
  label,
  variant = 'ghost',
  size = 'md',
  ...rest
}: Omit<AriaButtonProps, 'children' | 'className' | 'aria-label'> & {
  icon: LucideIcon;
  label: string;
  variant?: ButtonVariant;
  size?: ButtonSize;
}) {
  return (
    <TooltipTrigger delay={400}>
      <AriaButton {...rest} aria-label={label} className={`${classes(variant, size)} btn--icon`}>
        <Icon aria-hidden="true" size={size === 'sm' ? 16 : 18} />
      </AriaButton>
      <Tooltip className="tooltip" offset={6}>
        {label}
      </Tooltip>
    </TooltipTrigger>
  );
}
