import path from 'node:path';

/**
 * Where the app finds its parts. Layout of a build (tsc + vite), which is also what gets packaged:
 *   dist/src-main/app/main.js   this process
 *   dist/src-main/app/service/main.js   the backup-service process (a utilityProcess)
 *   dist/preload/preload.cjs    the sandboxed preload (one bundled CommonJS file)
 *   dist/renderer/index.html    the UI
 * resources/ (icons) sits next to dist/ in a checkout and under process.resourcesPath when packaged.
 */
export interface AppPaths {
  rendererIndex: string;
  preload: string;
  serviceEntry: string;
  resources: string;
}

export function appPaths(mainDir: string, packaged: boolean, resourcesPath: string): AppPaths {
  const dist = path.resolve(mainDir, '..', '..');
  return {
    rendererIndex: path.join(dist, 'renderer', 'index.html'),
    preload: path.join(dist, 'preload', 'preload.cjs'),
    serviceEntry: path.join(mainDir, 'service', 'main.js'),
    resources: packaged ? path.join(resourcesPath, 'resources') : path.join(dist, '..', 'resources'),
  };
}
