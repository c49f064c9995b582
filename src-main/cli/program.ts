import { Command } from 'commander';
import type { App } from './app.ts';
import { registerAudit } from './commands/audit.ts';
import { registerConnect } from './commands/connect.ts';
import { registerCopy } from './commands/copy.ts';
import { registerDrill } from './commands/drill.ts';
import { registerBackup } from './commands/backup.ts';
import { registerDiff } from './commands/diff.ts';
import { registerFind } from './commands/find.ts';
import { registerForget } from './commands/forget.ts';
import { registerHold } from './commands/hold.ts';
import { registerInit } from './commands/init.ts';
import { registerLs } from './commands/ls.ts';
import { registerPolicy } from './commands/policy.ts';
import { registerPrune } from './commands/prune.ts';
import { registerRepair } from './commands/repair.ts';
import { registerRestore } from './commands/restore.ts';
import { registerSnapshots } from './commands/snapshots.ts';
import { registerTarget } from './commands/target.ts';
import { registerVerify } from './commands/verify.ts';
import { registerVersions } from './commands/versions.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { registerServe } from './serve/register.ts';
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

/** The `bulwark` command line: every subcommand, wired to `app`. */
export function buildProgram(app: App): Command {
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
  registerInit(program, app);
  registerBackup(program, app);
  registerSnapshots(program, app);
  registerLs(program, app);
  registerRestore(program, app);
  registerFind(program, app);
  registerVersions(program, app);
  registerVerify(program, app);
  registerDiff(program, app);
  registerRepair(program, app);
  registerTarget(program, app);
  registerHold(program, app);
  registerPolicy(program, app);
  registerForget(program, app);
  registerPrune(program, app);
  registerAudit(program, app);
  registerDrill(program, app);
  registerConnect(program, app);
  registerCopy(program, app);
  registerServe(program, app);
  for (const cmd of program.commands) cmd.addHelpText('after', EXIT_CODES_HELP);
  return program;
}
