#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --optimize-for-size
/**
 * `bulwark`: the command-line interface of the Bulwark engine. Runs from the sources on Node 24
 * (`node src-main/cli/main.ts`) and from dist/ after `tsc -p tsconfig.build.json`.
 *
 * The shebang caps V8's young generation at 1 MiB per semi-space, in every thread: a backup's main thread
 * allocates fast (worker messages, trees) and V8 would grow it to 64 MiB for no measurable speed; 4 MiB
 * still cost ~25 MB of peak RSS over 1 against the same CPU time (docs/DECISIONS.md, Pipeline: "Memory per chunk").
 * `--optimize-for-size` makes V8 collect the old generation before it grows: the main thread's live heap
 * during a backup of 80 000 files is ~10 MB, yet it grew to ~70 MB of garbage before its first full GC
 * (peak 267 -> 224 MB, same time). MALLOC_ARENA_MAX=2: glibc gives every thread that allocates its own
 * malloc arena, and memory freed in one is not reused by another; two arenas for the main thread and the
 * workers cost 8-12 MB less at every peak at the same time (docs/DECISIONS.md). `npm start` passes the same
 * flags (npm scripts also run on Windows, where setting a variable is spelled differently), the systemd
 * unit and the benchmark the flags and the variable.
 */
import { enableCompileCache } from 'node:module';
import { collectForSpeed } from './heap-policy.ts';

// A restore is faster without the shebang's `--optimize-for-size` at the same peak (heap-policy.ts); switched
// first, before anything is loaded, so that none of its collections is a reducing one. The command is the
// first argument (program.ts reads it the same way).
if (process.argv[2] === 'restore') collectForSpeed();

// Node's on-disk compile cache (skipped with NODE_DISABLE_COMPILE_CACHE=1): starting from the .ts sources
// drops from ~0.5 s to ~0.1 s. Enabled before the rest of the CLI and the engine are loaded.
enableCompileCache();

// `bulwark ls ... | head`: a closed stdout is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// The key derivation of the repository this command opens starts now and runs while the CLI and the engine
// load (unlock-ahead.ts): ~60 ms of every command that unlocks.
const { unlockAhead } = await import('./unlock-ahead.ts');
unlockAhead(process.argv.slice(2), process.env);

const { run } = await import('./run.ts');
process.exitCode = await run(process.argv.slice(2));
