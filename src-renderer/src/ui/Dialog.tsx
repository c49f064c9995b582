import { X } from 'lucide-react';
import type { ReactNode } from 'react';
import { Dialog as AriaDialog, Heading, Modal, ModalOverlay } from 'react-aria-components';

import { Button, IconButton, type ButtonVariant } from './Button.tsx';

/**
 * A modal dialog (react-aria: focus kept inside, Escape and the close button close it, focus returns to
 * what opened it). Controlled: the caller keeps `isOpen`.
 */
export function Dialog({
  isOpen,
  onClose,
  title,
  children,
  footer,
  size = 'md',
  role = 'dialog',
  dismissable = true,
}: {
  isOpen: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  footer?: ReactNode;
  size?: 'sm' | 'md' | 'lg';
  role?: 'dialog' | 'alertdialog';
  /** false while something must not be interrupted (the close button and Escape then do nothing) */
  dismissable?: boolean;
}) {
  return (
    <ModalOverlay
      className="modal-overlay"
      isOpen={isOpen}
      onOpenChange={(open) => {
        if (!open && dismissable) onClose();
      }}
      isDismissable={dismissable}
      isKeyboardDismissDisabled={!dismissable}
    >
      <Modal className={`modal modal--${size}`}>
        <AriaDialog className="dialog" role={role}>
          <header className="dialog__header">
            <Heading slot="title" className="dialog__title">
              {title}
            </Heading>
            {dismissable ? <IconButton icon={X} label="Close" onPress={onClose} size="sm" /> : null}
          </header>
          <div className="dialog__body">{children}</div>
          {footer ? <footer className="dialog__footer">{footer}</footer> : null}
        </AriaDialog>
      </Modal>
    </ModalOverlay>
  );
}

/** "Are you sure?": says what will happen, a safe Cancel and the action named in full ("Remove Office"). */
export function ConfirmDialog({
  isOpen,
  onCancel,
  onConfirm,
  title,
  children,
  confirmLabel,
  variant = 'danger',
  isPending,
}: {
  isOpen: boolean;
  onCancel: () => void;
  onConfirm: () => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  variant?: ButtonVariant;
  isPending?: boolean;
}) {
  return (
    <Dialog
      isOpen={isOpen}
      onClose={onCancel}
      title={title}
      role="alertdialog"
      size="sm"
      footer={
        <>
          <Button onPress={onCancel} autoFocus>
            Cancel
          </Button>
          <Button variant={variant} onPress={onConfirm} isPending={isPending}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      {children}
    </Dialog>
  );
}
