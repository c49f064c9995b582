import { openDesktopService } from './open.ts';
import { connectToParent } from './parent-port.ts';
import { runServiceProcess } from './serve.ts';

/**
 * The backup service process of the desktop app: started by the main process as an Electron utilityProcess
 * (a Node child_process.fork in tests), so a million-file scan or a slow upload never holds up the window.
 * Plain Node: nothing below imports electron.
 */

const log = (message: string, detail?: unknown): void =>
  console.error(`[bulwark service] ${message}`, detail ?? '');

runServiceProcess({ port: connectToParent(), log, open: (init) => openDesktopService(init, log) });
