import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { app, BrowserWindow, ipcMain, session, type Tray } from 'electron';

import { localPaths } from '../engine/index.ts';
import { openHostedService, type HostedService } from '../host/service.ts';
import { createHandlers } from './handlers.ts';
import { createEventPublisher, isTrustedSender, registerIpcRouter } from './ipc-router.ts';
import { appPaths } from './paths.ts';
import { hardenSession, hardenWebContents } from './security.ts';
import { createTray } from './tray.ts';

/**
 * Electron main: a thin shell. Windows, tray and the IPC router live here; backup logic does not (it is
 * in src-main/engine, reachable headless through the CLI). Type-checked everywhere, run only where an
 * Electron binary exists.
 */

const PRODUCT_NAME = 'Bulwark';
const paths = appPaths(import.meta.dirname, app.isPackaged, process.resourcesPath);
const trustedPageUrl = pathToFileURL(paths.rendererIndex).href;
const log = (message: string, detail?: unknown): void => console.error(`[bulwark] ${message}`, detail ?? '');

let mainWindow: BrowserWindow | undefined;
let tray: Tray | undefined;
let quitting = false;
let hosted: HostedService | undefined;
let stopping: Promise<void> | undefined;
let stopped = false;

function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    title: PRODUCT_NAME,
    width: 1100,
    height: 720,
    minWidth: 720,
    minHeight: 480,
    show: false,
    icon: path.join(paths.resources, 'icon.png'),
    webPreferences: {
      preload: paths.preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  win.once('ready-to-show', () => win.show());
  // closing the window keeps Bulwark running in the tray; "Quit" in the tray menu ends it
  win.on('close', (event) => {
    if (!quitting && tray) {
      event.preventDefault();
      win.hide();
    }
  });
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
  });
  void win.loadFile(paths.rendererIndex).catch((e: unknown) => log('could not load the UI', e));
  return win;
}

function showMainWindow(): void {
  if (!mainWindow || mainWindow.isDestroyed()) mainWindow = createMainWindow();
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession(session.defaultSession);
  // The backup service runs in this process (the engine is plain Node): the same one `bulwark serve` runs
  // headless, on the same local folders. Its events go to every window of ours.
  hosted = openHostedService({ paths: localPaths(), log });
  hosted.events.subscribe(
    createEventPublisher(() => BrowserWindow.getAllWindows().map((w) => w.webContents), log),
  );
  registerIpcRouter({
    ipc: ipcMain,
    handlers: createHandlers(
      {
        name: PRODUCT_NAME,
        version: app.getVersion(),
        platform: process.platform,
        versions: {
          node: process.versions.node,
          electron: process.versions.electron,
          chrome: process.versions.chrome,
        },
      },
      hosted.handlers,
    ),
    isTrusted: (event) => isTrustedSender(event.senderFrame, trustedPageUrl),
    log,
  });
  try {
    tray = createTray(paths.resources, { open: showMainWindow, quit: () => app.quit() });
  } catch (e) {
    log('no tray icon on this desktop; closing the window will quit', e);
  }
  showMainWindow();
  const { problem } = await hosted.start();
  if (problem !== undefined) log('the default repository could not be prepared', problem);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.setName(PRODUCT_NAME);
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, trustedPageUrl));
  app.on('second-instance', showMainWindow);
  app.on('activate', showMainWindow);
  app.on('before-quit', (event) => {
    quitting = true;
    // Graceful stop of the service first: a running backup is canceled and resumed on the next start.
    if (!hosted || stopped) return;
    event.preventDefault();
    stopping ??= hosted
      .stop()
      .catch((e: unknown) => log('the backup service did not stop cleanly', e))
      .finally(() => {
        stopped = true;
        app.quit();
      });
  });
  app.on('window-all-closed', () => {
    if (!tray) app.quit();
  });
  start().catch((e: unknown) => {
    log('failed to start', e);
    app.exit(1);
  });
}
