import type { Configuration } from 'electron-builder';

/**
 * electron-builder packaging: `npx electron-builder --config electron.config.ts` after a full build
 * (tsc → dist/src-main, vite → dist/renderer and dist/preload). Packaging downloads Electron and rebuilds
 * better-sqlite3 for Electron's ABI, so it needs the internet (not available on the dev machines).
 */
const config: Configuration = {
  appId: 'app.bulwark.desktop',
  productName: 'Bulwark',
  copyright: 'Copyright © Bulwark',
  directories: { output: 'release', buildResources: 'resources' },
  // production dependencies (node_modules) are added by electron-builder itself
  files: ['dist/**', '!dist/**/*.map', 'package.json'],
  // icons for the tray and the window, read at run time from process.resourcesPath/resources
  extraResources: [{ from: 'resources', to: 'resources', filter: ['*.png'] }],
  // native modules cannot be loaded from inside the asar archive
  asarUnpack: ['**/node_modules/better-sqlite3/**/*.node'],
  npmRebuild: true,
  linux: {
    target: ['AppImage', 'deb'],
    icon: 'resources/icon.png',
    category: 'Utility',
    maintainer: 'Bulwark',
    synopsis: 'Immutable backups for small businesses',
  },
  win: { target: ['nsis'], icon: 'resources/icon.png' },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  mac: { target: ['dmg'], icon: 'resources/icon.png', category: 'public.app-category.utilities' },
  dmg: { title: 'Bulwark' },
};

export default config;
