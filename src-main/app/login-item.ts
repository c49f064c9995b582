import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Start at login, hidden in the tray: protection resumes after a reboot without anyone opening the window.
 * macOS and Windows: Electron's login item (Windows passes `--hidden`; macOS says the app was opened at
 * login). Linux has no login item in Electron: an XDG autostart entry (~/.config/autostart) does it.
 */

export const HIDDEN_ARG = '--hidden';

/** The part of Electron's `app` used here. */
export interface LoginItemApp {
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void;
  getLoginItemSettings(): { openAtLogin: boolean; wasOpenedAtLogin?: boolean };
}

export interface LoginItemEnv {
  platform: NodeJS.Platform;
  app: LoginItemApp;
  /** the program to start: the AppImage when run from one ($APPIMAGE), else the executable */
  executable: string;
  /** arguments before --hidden (an unpackaged run passes the app's folder to the electron binary) */
  launchArgs?: string[];
  /** Linux: $XDG_CONFIG_HOME/autostart, else ~/.config/autostart */
  autostartDir: string;
}

export const AUTOSTART_FILE = 'bulwark.desktop';

/** A desktop-entry Exec argument, quoted as the spec asks. */
const quote = (arg: string): string => `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;

export function autostartEntry(executable: string, launchArgs: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Bulwark',
    'Comment=Keeps your folders backed up',
    `Exec=${[executable, ...launchArgs].map(quote).join(' ')} ${HIDDEN_ARG}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function setStartAtLogin(on: boolean, env: LoginItemEnv): void {
  const args = [...(env.launchArgs ?? []), HIDDEN_ARG];
  if (env.platform === 'linux') {
    const file = join(env.autostartDir, AUTOSTART_FILE);
    if (!on) {
      rmSync(file, { force: true });
      return;
    }
    mkdirSync(env.autostartDir, { recursive: true });
    writeFileSync(file, autostartEntry(env.executable, env.launchArgs ?? []));
    return;
  }
  env.app.setLoginItemSettings(env.platform === 'win32' ? { openAtLogin: on, args } : { openAtLogin: on });
}

/** Started by the login item (or asked for --hidden): stay in the tray, open no window. */
export function isHiddenStart(
  argv: readonly string[],
  platform: NodeJS.Platform,
  app: LoginItemApp,
): boolean {
  if (argv.includes(HIDDEN_ARG)) return true;
  return platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin === true;
}
