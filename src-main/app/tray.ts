import path from 'node:path';

import type { TrayState, TrayView } from './tray-view.ts';

/**
 * The tray icon and its menu, drawn from a TrayView (tray-view.ts decides; this only draws). Electron's
 * Tray, Menu and nativeImage come in through factories, so the controller runs under plain Node in tests.
 */

/** One menu item, in Electron's MenuItemConstructorOptions shape (the part used here). */
export interface TrayMenuItem {
  label?: string;
  type?: 'normal' | 'separator' | 'checkbox';
  enabled?: boolean;
  checked?: boolean;
  click?: () => void;
}

export interface TrayLike {
  setImage(image: unknown): void;
  setToolTip(text: string): void;
  setContextMenu(menu: unknown): void;
  /** macOS: text beside the icon (the percentage of a running backup) */
  setTitle?(title: string): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayFactories {
  createTray(image: unknown): TrayLike;
  buildMenu(items: TrayMenuItem[]): unknown;
  /** nativeImage.createFromPath: picks <name>@2x.png on high-density screens by itself */
  imageFromPath(file: string): unknown;
}

export interface TrayActions {
  open(): void;
  backUpNow(): void;
  pauseForAnHour(): void;
  pauseUntilTomorrow(): void;
  resume(): void;
  setStartAtLogin(on: boolean): void;
  setNotifyOnSuccess(on: boolean): void;
  quit(): void;
}

export interface TraySettings {
  startAtLogin: boolean;
  notifyOnSuccess: boolean;
}

/** The icon file of each state (16 px; tray-<state>@2x.png beside it), drawn by scripts/make-icons.ts. */
export const TRAY_ICON: Readonly<Record<TrayState, string>> = {
  protected: 'tray-protected.png',
  'backing-up': 'tray-backing-up.png',
  warning: 'tray-warning.png',
  error: 'tray-error.png',
};

/** The menu of a view: pure, so tests read it item by item. */
export function trayMenu(view: TrayView, settings: TraySettings, actions: TrayActions): TrayMenuItem[] {
  const separator: TrayMenuItem = { type: 'separator' };
  const activity: TrayMenuItem[] = view.backingUp
    ? [{ label: `Backing up${view.percent === undefined ? '…' : `: ${view.percent}%`}`, enabled: false }]
    : [];
  return [
    { label: view.headline, enabled: false },
    ...activity,
    separator,
    { label: 'Open Bulwark', click: () => actions.open() },
    { label: 'Back up now', enabled: view.canBackUpNow, click: () => actions.backUpNow() },
    separator,
    { label: 'Pause protection for 1 hour', enabled: view.canPause, click: () => actions.pauseForAnHour() },
    {
      label: 'Pause protection until tomorrow',
      enabled: view.canPause,
      click: () => actions.pauseUntilTomorrow(),
    },
    {
      label: view.pausedLabel ? `Resume protection (${view.pausedLabel.toLowerCase()})` : 'Resume protection',
      enabled: view.paused,
      click: () => actions.resume(),
    },
    separator,
    { label: view.lastBackup, enabled: false },
    separator,
    {
      label: 'Start Bulwark at login',
      type: 'checkbox',
      checked: settings.startAtLogin,
      click: () => actions.setStartAtLogin(!settings.startAtLogin),
    },
    {
      label: 'Notify me after every backup',
      type: 'checkbox',
      checked: settings.notifyOnSuccess,
      click: () => actions.setNotifyOnSuccess(!settings.notifyOnSuccess),
    },
    separator,
    { label: 'Quit Bulwark', click: () => actions.quit() },
  ];
}

export class TrayController {
  private readonly tray: TrayLike;
  private readonly factories: TrayFactories;
  private readonly resourcesDir: string;
  private readonly actions: TrayActions;
  private shownState: TrayState | undefined;

  constructor(factories: TrayFactories, resourcesDir: string, actions: TrayActions) {
    this.factories = factories;
    this.resourcesDir = resourcesDir;
    this.actions = actions;
    this.tray = factories.createTray(this.icon('warning'));
    this.tray.setToolTip('Bulwark: starting…');
    this.tray.on('click', () => actions.open());
  }

  private icon(state: TrayState): unknown {
    return this.factories.imageFromPath(path.join(this.resourcesDir, TRAY_ICON[state]));
  }

  render(view: TrayView, settings: TraySettings): void {
    if (view.state !== this.shownState) {
      this.tray.setImage(this.icon(view.state));
      this.shownState = view.state;
    }
    this.tray.setToolTip(view.tooltip);
    this.tray.setTitle?.(view.backingUp && view.percent !== undefined ? `${view.percent}%` : '');
    this.tray.setContextMenu(this.factories.buildMenu(trayMenu(view, settings, this.actions)));
  }

  destroy(): void {
    this.tray.destroy();
  }
}
