import { contextBridge, ipcRenderer } from 'electron';

import { BRIDGE_KEY } from '../contract/ipc.ts';
import { buildBridge } from './bridge.ts';

// Sandboxed preload: exposes `window.bulwark = { invoke, on }` (allowlisted by contract/ipc.ts) and nothing
// else. Bundled to one CommonJS file by scripts/vite.preload.config.ts (a sandboxed preload cannot load
// ES modules or relative files).
contextBridge.exposeInMainWorld(BRIDGE_KEY, buildBridge(ipcRenderer));
