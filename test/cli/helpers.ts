import { spawn } from 'node:child_process';
import path from 'node:path';

export const MAIN = path.resolve(import.meta.dirname, '../../src-main/cli/main.ts');
export const PASSWORD = 'correct horse battery staple';

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI (src-main/cli/main.ts) with exactly `env`, stdin closed; collects its output and exit code.
 * `nodeArgs` go to node before the script (V8 flags, as the shebang passes them).
 */
export function runMain(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, MAIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the CLI as a child process, like a user would (stdin is not a terminal), with its own BULWARK_HOME,
 * the test password and a cheap KDF; `env` overrides (undefined removes a variable).
 */
export function runBulwark(
  args: string[],
  ctx: { home: string; tmp: string },
  env: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
): Promise<Result> {
  const full: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BULWARK_')) full[k] = v;
  Object.assign(full, {
    BULWARK_HOME: ctx.home,
    BULWARK_PASSWORD: PASSWORD,
    BULWARK_KDF_N: '1024',
    // Node's compile cache: every spawn after the first skips compiling the TypeScript sources again
    NODE_COMPILE_CACHE: path.join(ctx.tmp, 'node-compile-cache'),
  });
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete full[k];
    else full[k] = v;
  }
  return runMain(args, full, nodeArgs);
}
