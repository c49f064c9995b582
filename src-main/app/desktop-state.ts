import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { z } from 'zod';

import type { NotifiedStore } from './notifications.ts';

/**
 * The desktop app's own small state, in <configDir>/desktop/: the person's tray choices (settings.json)
 * and which alerts were already notified (notified.json). The service's state stays in its catalog.
 */

export const desktopSettingsSchema = z.object({
  /** start hidden in the tray when the person logs in (on by default: protection should not wait) */
  startAtLogin: z.boolean().default(true),
  /** a notification after every successful backup (off: successes are routine) */
  notifyOnSuccess: z.boolean().default(false),
});
export type DesktopSettings = z.infer<typeof desktopSettingsSchema>;

/** Writes through a temp name (0600), so a crash leaves the old file or the new one. */
function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The JSON in `file`, or undefined when there is none yet. A damaged file throws (the caller logs it). */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text);
}

export const desktopDir = (configDir: string): string => join(configDir, 'desktop');

export interface SettingsFile {
  load(): DesktopSettings;
  save(settings: DesktopSettings): void;
}

export function settingsFile(dir: string, log: (message: string, detail?: unknown) => void): SettingsFile {
  const file = join(dir, 'settings.json');
  return {
    load() {
      try {
        return desktopSettingsSchema.parse(readJson(file) ?? {});
      } catch (e) {
        log(`the desktop settings in ${file} could not be read: the defaults are used`, e);
        return desktopSettingsSchema.parse({});
      }
    },
    save: (settings) => writeJson(file, settings),
  };
}

export function notifiedFile(dir: string): NotifiedStore {
  const file = join(dir, 'notified.json');
  return {
    load: () => z.array(z.string()).parse(readJson(file) ?? []),
    save: (keys) => writeJson(file, [...keys]),
  };
}
