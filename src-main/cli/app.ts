import { Output, type OutputOptions } from './output.ts';
import type { CommandEnv } from './repo-open.ts';

/** State shared by the command actions of one `bulwark` run. */
export interface App {
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  /** set by the action that ran */
  exitCode: number;
  /** the output of the running command (replaced when an action starts with its options) */
  out: Output;
}

/** Called first by every action: sets up output for its options and returns what the command needs. */
export function begin(app: App, opts: OutputOptions): CommandEnv {
  app.out = new Output(opts);
  return { env: app.env, signal: app.signal, out: app.out };
}
