/**
 * The command line loads only the subcommand it runs (each one's module, and the engine parts it uses);
 * help, --version and a mistyped name still see every subcommand.
 */
import { describe, expect, it } from 'vitest';
import type { App } from '../../src-main/cli/app.ts';
import { EXIT } from '../../src-main/cli/exit-codes.ts';
import { Output } from '../../src-main/cli/output.ts';
import { buildProgram, COMMAND_NAMES } from '../../src-main/cli/program.ts';
import { run } from '../../src-main/cli/run.ts';

const app = (): App => ({
  env: {},
  signal: new AbortController().signal,
  exitCode: EXIT.OK,
  out: new Output({}),
});
const names = async (argv: string[]): Promise<string[]> =>
  (await buildProgram(app(), argv)).commands.map((c) => c.name());

describe('buildProgram', () => {
  it('registers only the subcommand being run', async () => {
    expect(await names(['backup', '/some/path'])).toEqual(['backup']);
    expect(await names(['target', 'check', '--repo', 'x'])).toEqual(['target']);
    expect(await names(['serve'])).toEqual(['serve']);
  });

  it('registers every subcommand, in help order, for help, options first, or a name it does not know', async () => {
    for (const argv of [[], ['help'], ['--help'], ['-V'], ['bakup', 'x']]) {
      expect(await names(argv), argv.join(' ')).toEqual(COMMAND_NAMES);
    }
    expect(COMMAND_NAMES).toContain('restore');
    expect(new Set(COMMAND_NAMES).size).toBe(COMMAND_NAMES.length);
  });

  it('every listed name is the name its module registers', async () => {
    for (const name of COMMAND_NAMES) expect(await names([name])).toEqual([name]);
  });

  it('a mistyped subcommand is a usage error that names the close one', async () => {
    const chunks: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string | Uint8Array) => (
      chunks.push(String(s)),
      true
    )) as typeof process.stderr.write;
    try {
      expect(await run(['bakup', '/x'], {})).toBe(EXIT.USAGE);
    } finally {
      process.stderr.write = write;
    }
    expect(chunks.join('')).toMatch(/unknown command 'bakup'[\s\S]*backup/);
  });
});
