/**
 * The service process's line to the main process, whichever way it was started: an Electron
 * utilityProcess (`process.parentPort`, messages arrive as `{ data }`) or a Node `child_process.fork`
 * (`process.send` / `process.on('message')`: tests, benches). The rest of the service process sees one
 * small interface and never knows which.
 */

export interface ParentPort {
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** the main process went away (fork: the IPC channel closed); the service should stop */
  onDisconnect(listener: () => void): void;
}

/** The part of Electron's `process.parentPort` used here (structural: this module never imports electron). */
interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
}

export function connectToParent(proc: NodeJS.Process = process): ParentPort {
  const electronPort = (proc as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort) {
    return {
      postMessage: (m) => electronPort.postMessage(m),
      onMessage: (l) => void electronPort.on('message', (e) => l(e.data)),
      // Electron ends a utility process with its parent: nothing to watch
      onDisconnect: () => {},
    };
  }
  const send = proc.send?.bind(proc);
  if (!send) {
    throw new Error(
      'the backup service process must be started by the Bulwark app (utilityProcess) or with child_process.fork',
    );
  }
  return {
    postMessage: (m) =>
      void send(m, undefined, {}, (e: Error | null) => {
        // the main process is gone (the IPC channel closed): onDisconnect stops the service
        if (e) proc.stderr.write(`[bulwark service] could not answer the app: ${e.message}\n`);
      }),
    onMessage: (l) => void proc.on('message', (m: unknown) => l(m)),
    onDisconnect: (l) => void proc.on('disconnect', l),
  };
}
