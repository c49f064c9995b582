import { CommanderError } from 'commander';
import type { App } from './app.ts';
import { installCancelHandler } from './cancel.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';
import { Output } from './output.ts';
import { buildProgram } from './program.ts';
import { reportError } from './report-error.ts';

/** Runs `bulwark` with these arguments (without "node main.ts") and returns the exit code. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const debug = argv.includes('--debug');
  const running: { app?: App } = {};
  const cancel = installCancelHandler(() => {
    running.app?.out.warn('bulwark: canceling... (press Ctrl-C again to quit at once)');
  });
  const app: App = { env, signal: cancel.signal, exitCode: EXIT.OK, out: new Output({ debug }) };
  running.app = app;
  try {
    const program = await buildProgram(app, argv);
    await program.parseAsync(argv, { from: 'user' });
    return app.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and --version exit 0; anything else commander rejects is a usage error (already printed)
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    app.out.stopProgress();
    reportError(e, app.out.err, debug);
    return exitCodeFor(e);
  } finally {
    cancel.dispose();
  }
}
