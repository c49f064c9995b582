import path from 'node:path';
import { pathToFileURL } from 'node:url';

import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  safeStorage,
  session,
  Tray,
  utilityProcess,
  type NativeImage,
} from 'electron';

import type { EventName, EventOf } from '../contract/ipc.ts';
import type { Page } from '../contract/model.ts';
import { localPaths } from '../engine/index.ts';
import { DesktopController } from './desktop.ts';
import { desktopDir, notifiedFile, settingsFile } from './desktop-state.ts';
import { createPickFolderHandler } from './folder-dialog.ts';
import { createHandlers } from './handlers.ts';
import { createEventPublisher, isTrustedSender, registerIpcRouter } from './ipc-router.ts';
import { loadSealingKey } from './keychain.ts';
import { isHiddenStart, setStartAtLogin } from './login-item.ts';
import { AlertNotifier, type NotificationFactory } from './notifications.ts';
import { appPaths } from './paths.ts';
import { hardenSession, hardenWebContents } from './security.ts';
import { utilityChild } from './service/children.ts';
import type { InitMessage } from './service/protocol.ts';
import { ServiceRelay } from './service/relay.ts';
import { TrayController, type TrayMenuItem } from './tray.ts';

/**
 * Electron main: a thin shell. It owns the window, the tray, notifications and the IPC router, and relays
 * every service request to the backup-service process (service/main.ts, a utilityProcess), so a long scan
 * never holds up the window; that process is restarted with backoff if it dies. Type-checked everywhere,
 * run only where an Electron binary exists; everything it wires is tested under plain Node (test/app).
 */

const PRODUCT_NAME = 'Bulwark';
const paths = appPaths(import.meta.dirname, app.isPackaged, process.resourcesPath);
const trustedPageUrl = pathToFileURL(paths.rendererIndex).href;
const log = (message: string, detail?: unknown): void => console.error(`[bulwark] ${message}`, detail ?? '');
const stateDir = desktopDir(localPaths().configDir);

let mainWindow: BrowserWindow | undefined;
let tray: TrayController | undefined;
let desktop: DesktopController | undefined;
let quitting = false;
let stopping: Promise<void> | undefined;
let stopped = false;

/** The first message of every start of the service process: the sealing key, when there is a keychain. */
function serviceInit(): InitMessage {
  try {
    const key = loadSealingKey(path.join(stateDir, 'secrets-key.sealed'), safeStorage);
    if (key.available) return { type: 'init', secretsKey: key.key.toString('base64') };
    log(key.reason);
  } catch (e) {
    log('the keychain could not open the key of the saved passwords; they stay where they are', e);
  }
  return { type: 'init' };
}

const relay = new ServiceRelay({
  spawn: () =>
    utilityChild(
      utilityProcess.fork(paths.serviceEntry, [], {
        serviceName: 'Bulwark backup service',
        stdio: 'inherit',
      }),
    ),
  init: serviceInit,
  log,
});

function createMainWindow(page?: Page): BrowserWindow {
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
  // closing the window keeps Bulwark protecting from the tray; "Quit Bulwark" in the tray menu ends it
  win.on('close', (event) => {
    if (!quitting && tray) {
      event.preventDefault();
      win.hide();
    }
  });
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
  });
  void win
    .loadFile(paths.rendererIndex, page ? { hash: `/${page}` } : {})
    .catch((e: unknown) => log('could not load the UI', e));
  return win;
}

/** Shows the window (created if needed), on `page` when given (a notification's click-through). */
function showMainWindow(page?: Page): void {
  if (!mainWindow || mainWindow.isDestroyed()) {
    mainWindow = createMainWindow(page);
    return;
  }
  if (page) {
    // the renderer's router follows the fragment (hashchange): no reload
    void mainWindow.webContents
      .loadURL(`${trustedPageUrl}#/${page}`)
      .catch((e: unknown) => log(`could not open the ${page} page`, e));
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

const notify: NotificationFactory = (options) => {
  if (!Notification.isSupported()) {
    log(`notifications are not supported on this desktop: ${options.title}`);
    return { show: () => {}, on: () => undefined };
  }
  return new Notification({ ...options, icon: path.join(paths.resources, 'icon.png') });
};

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession(session.defaultSession);
  const publish = createEventPublisher(() => BrowserWindow.getAllWindows().map((w) => w.webContents), log);
  relay.onEvent((event: EventName, payload: unknown) => publish(event, payload as EventOf<typeof event>));
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
      (channel, request) => relay.call(channel, request),
      {
        'bulwark:fs.pickFolder': createPickFolderHandler((options) =>
          mainWindow && !mainWindow.isDestroyed()
            ? dialog.showOpenDialog(mainWindow, options)
            : dialog.showOpenDialog(options),
        ),
      },
    ),
    isTrusted: (event) => isTrustedSender(event.senderFrame, trustedPageUrl),
    log,
  });

  const settings = settingsFile(stateDir, log);
  const notifier = new AlertNotifier({
    notify,
    store: notifiedFile(stateDir),
    openPage: (page) => showMainWindow(page),
    notifyOnSuccess: () => desktop?.traySettings.notifyOnSuccess ?? false,
    log,
  });
  desktop = new DesktopController({
    relay,
    notifier,
    settings,
    applyStartAtLogin: (on) => {
      // a development run (the electron binary on a checkout) is not registered: it would outlive the checkout
      if (!app.isPackaged) return;
      setStartAtLogin(on, {
        platform: process.platform,
        app,
        executable: process.env['APPIMAGE'] ?? process.execPath,
        autostartDir: path.join(
          process.env['XDG_CONFIG_HOME'] ?? path.join(app.getPath('home'), '.config'),
          'autostart',
        ),
      });
    },
    openWindow: (page) => showMainWindow(page),
    quit: () => app.quit(),
    log,
  });
  try {
    tray = new TrayController(
      {
        createTray: (image) => new Tray(image as NativeImage),
        buildMenu: (items: TrayMenuItem[]) => Menu.buildFromTemplate(items),
        imageFromPath: (file) => nativeImage.createFromPath(file),
      },
      paths.resources,
      desktop.actions,
    );
    desktop.attachTray(tray);
  } catch (e) {
    log('no tray icon on this desktop; closing the window will quit', e);
  }
  desktop.start();
  relay.start();
  if (!isHiddenStart(process.argv, process.platform, app)) showMainWindow();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.setName(PRODUCT_NAME);
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, trustedPageUrl));
  app.on('second-instance', () => showMainWindow());
  app.on('activate', () => showMainWindow());
  app.on('before-quit', (event) => {
    quitting = true;
    // Graceful stop of the service first: a running backup is interrupted and resumed on the next start.
    if (stopped) return;
    event.preventDefault();
    stopping ??= relay
      .stop()
      .catch((e: unknown) => log('the backup service did not stop cleanly', e))
      .finally(() => {
        stopped = true;
        desktop?.stop();
        tray?.destroy();
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
