import path from 'node:path';

import { Menu, nativeImage, Tray } from 'electron';

export interface TrayActions {
  open(): void;
  quit(): void;
}

/** The tray icon: Bulwark keeps protecting folders while its window is closed. */
export function createTray(resourcesDir: string, actions: TrayActions): Tray {
  // tray.png is 16 px; Electron picks tray@2x.png on high-density screens
  const tray = new Tray(nativeImage.createFromPath(path.join(resourcesDir, 'tray.png')));
  tray.setToolTip('Bulwark');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Open Bulwark', click: () => actions.open() },
      { type: 'separator' },
      { label: 'Quit Bulwark', click: () => actions.quit() },
    ]),
  );
  tray.on('click', () => actions.open());
  return tray;
}
