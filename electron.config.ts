import type { Configuration } from 'electron-builder';

/**
 * electron-builder packaging: `npm run dist` (a full build, then `electron-builder --config
 * electron.config.ts`): AppImage and .deb on Linux, an NSIS installer on Windows, a .dmg on macOS, each
 * built on its own platform. Packaging downloads Electron and rebuilds better-sqlite3 for Electron's ABI
 * (npmRebuild), so it needs the internet: it works on a developer's or a user's machine, not on the
 * offline dev machines of this project.
 *
 * The app is three programs from dist/: the main process (dist/src-main/app/main.js), the backup-service
 * process it starts as a utilityProcess (dist/src-main/app/service/main.js), and the page
 * (dist/renderer, dist/preload).
 */
const config: Configuration = {
  appId: 'app.bulwark.desktop',
  productName: 'Bulwark',
  copyright: 'Copyright © Bulwark',
  directories: { output: 'release', buildResources: 'resources' },
  // production dependencies (node_modules) are added by electron-builder itself
  files: ['dist/**', '!dist/**/*.map', 'package.json'],
  // icons for the window and the tray (one per state: tray-protected, -backing-up, -warning, -error, and
  // their @2x), read at run time from process.resourcesPath/resources
  extraResources: [{ from: 'resources', to: 'resources', filter: ['*.png'] }],
  // native modules cannot be loaded from inside the asar archive: better-sqlite3 (the catalog) and
  // @napi-rs/blake-hash's platform package (@napi-rs/blake-hash-<platform>)
  asarUnpack: ['**/node_modules/better-sqlite3/**/*.node', '**/node_modules/@napi-rs/**/*.node'],
  // better-sqlite3 is rebuilt for Electron's Node ABI (@electron/rebuild); @napi-rs/blake-hash is N-API,
  // whose prebuilt binary loads in any Node ABI, so it needs no rebuild
  npmRebuild: true,
  buildDependenciesFromSource: false,
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
