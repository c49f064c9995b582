import { Command } from 'commander';
import type { App } from './app.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { bulwarkVersion } from './version.ts';

const ENV_HELP = `
Environment:
  BULWARK_REPOSITORY  repository when --repo is not given
  BULWARK_PASSWORD    repository password (or --password-file FILE; in a terminal you are asked)
  BULWARK_TO_PASSWORD bulwark copy: the destination's password (or --to-password-file FILE)
  BULWARK_HOME        folder for all local state (catalogs, default repository, key file)
  BULWARK_KDF_N       scrypt cost for new repositories (power of two; tests use a small one)

Without --repo (and BULWARK_REPOSITORY) the embedded default repository is used: a local folder whose
password is kept in a key file (mode 0600); the first \`bulwark backup\` creates both.`;

type Register = (program: Command, app: App) => void;

/**
 * Every subcommand, in the order help lists them, each loaded only when asked for: a command then loads
 * the parts of the engine it uses and no more (`bulwark backup` does not load the drills, the history
 * search or the service: ~10 MB less at every peak and ~30 ms less to start, docs/DECISIONS.md).
 */
const COMMANDS: readonly (readonly [name: string, load: () => Promise<Register>])[] = [
  ['init', async () => (await import('./commands/init.ts')).registerInit],
  ['backup', async () => (await import('./commands/backup.ts')).registerBackup],
  ['snapshots', async () => (await import('./commands/snapshots.ts')).registerSnapshots],
  ['ls', async () => (await import('./commands/ls.ts')).registerLs],
  ['restore', async () => (await import('./commands/restore.ts')).registerRestore],
  ['find', async () => (await import('./commands/find.ts')).registerFind],
  ['versions', async () => (await import('./commands/versions.ts')).registerVersions],
  ['verify', async () => (await import('./commands/verify.ts')).registerVerify],
  ['diff', async () => (await import('./commands/diff.ts')).registerDiff],
  ['repair', async () => (await import('./commands/repair.ts')).registerRepair],
  ['target', async () => (await import('./commands/target.ts')).registerTarget],
  ['hold', async () => (await import('./commands/hold.ts')).registerHold],
  ['policy', async () => (await import('./commands/policy.ts')).registerPolicy],
  ['forget', async () => (await import('./commands/forget.ts')).registerForget],
  ['prune', async () => (await import('./commands/prune.ts')).registerPrune],
  ['audit', async () => (await import('./commands/audit.ts')).registerAudit],
  ['drill', async () => (await import('./commands/drill.ts')).registerDrill],
  ['connect', async () => (await import('./commands/connect.ts')).registerConnect],
  ['copy', async () => (await import('./commands/copy.ts')).registerCopy],
  ['serve', async () => (await import('./serve/register.ts')).registerServe],
];

/** The names of every subcommand, in help's order. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map(([name]) => name);

/**
 * The `bulwark` command line wired to `app`. With `argv`, a run of one subcommand registers only that one;
 * anything else (help, --version, a mistyped name: commander lists or suggests them) registers them all.
 */
export async function buildProgram(app: App, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('bulwark')
    .description('Bulwark: deduplicated, encrypted, tamper-evident backups')
    .version(bulwarkVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run `bulwark help <command>` for its usage)')
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
    })
    .addHelpText('after', `${ENV_HELP}\n${EXIT_CODES_HELP}`);
  const one = COMMANDS.find(([name]) => name === argv[0]);
  const registers = await Promise.all((one ? [one] : COMMANDS).map(([, load]) => load()));
  for (const register of registers) register(program, app);
  for (const cmd of program.commands) cmd.addHelpText('after', EXIT_CODES_HELP);
  return program;
}
