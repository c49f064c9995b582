import { fork } from 'node:child_process';

import type { ToService } from './protocol.ts';
import type { ServiceChild } from './relay.ts';

/**
 * The two ways to start the service process, behind the relay's one ServiceChild interface: an Electron
 * utilityProcess in the app (main.ts passes `utilityProcess.fork`), and a Node child_process.fork in tests
 * and benches (same message shape).
 */

/** The part of an Electron UtilityProcess used here (structural: this file never imports electron). */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export function utilityChild(proc: UtilityProcessLike): ServiceChild {
  return {
    get pid() {
      return proc.pid;
    },
    postMessage: (m: ToService) => proc.postMessage(m),
    onMessage: (l) => void proc.on('message', l),
    onExit: (l) => void proc.on('exit', (code) => l(code)),
    kill: () => void proc.kill(),
  };
}

export interface ForkOptions {
  env?: NodeJS.ProcessEnv;
  execArgv?: string[];
  /** where the child's stdout/stderr go (default: this process's) */
  stdio?: 'inherit' | 'ignore';
  log?: (message: string, detail?: unknown) => void;
}

/** Starts `entry` (a plain Node module: dist/…/service/main.js, or the .ts under Node 24) as a forked child. */
export function forkedChild(entry: string, opts: ForkOptions = {}): ServiceChild {
  const child = fork(entry, [], {
    env: opts.env ?? process.env,
    execArgv: opts.execArgv ?? [],
    stdio: [opts.stdio ?? 'inherit', opts.stdio ?? 'inherit', opts.stdio ?? 'inherit', 'ipc'],
    serialization: 'json',
  });
  const log = opts.log ?? ((message, detail) => console.error(`[bulwark] ${message}`, detail ?? ''));
  // a failed spawn or a send to a process that just died: the exit that follows is what the relay acts on
  child.on('error', (e) => log('the backup service process reported an error', e));
  const exitListeners: ((code: number | null) => void)[] = [];
  let exited: { code: number | null } | undefined;
  child.on('exit', (code) => {
    exited = { code };
    for (const l of exitListeners.splice(0)) l(code);
  });
  return {
    get pid() {
      return child.pid;
    },
    postMessage: (m) => {
      if (!child.connected) return; // it is exiting: the relay answers the request when the exit arrives
      child.send(m, (e: Error | null) => {
        if (e) log('could not reach the backup service process', e);
      });
    },
    onMessage: (l) => void child.on('message', (m: unknown) => l(m)),
    onExit: (l) => {
      if (exited) l(exited.code);
      else exitListeners.push(l);
    },
    kill: () => void child.kill('SIGKILL'),
  };
}
