import { ProgressLine } from './progress.ts';

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

export interface OutStream {
  write(s: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Where a command writes. stdout carries only results (text, or one JSON document with --json); notes,
 * warnings and progress go to stderr. Progress is drawn only on a terminal and never with --quiet.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly debug: boolean;
  private readonly stdout: OutStream;
  private readonly stderr: OutStream;
  private active: ProgressLine | undefined;

  constructor(opts: OutputOptions, stdout: OutStream = process.stdout, stderr: OutStream = process.stderr) {
    this.json = opts.json === true;
    this.quiet = opts.quiet === true;
    this.debug = opts.debug === true;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** A result line on stdout (text mode only: ignored with --json, so stdout stays one JSON document). */
  line(s = ''): void {
    if (this.json) return;
    this.active?.clear();
    this.stdout.write(`${s}\n`);
  }

  /** The result as JSON on stdout. */
  jsonResult(value: unknown): void {
    this.active?.clear();
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Information for the person at the terminal (stderr), silenced by --quiet. */
  note(s: string): void {
    if (this.quiet) return;
    this.warn(s);
  }

  /** Something the user must see even with --quiet (stderr). */
  warn(s: string): void {
    this.active?.clear();
    this.stderr.write(`${s}\n`);
  }

  /** Raw stderr writer (used for error reports). */
  readonly err = (s: string): void => {
    this.active?.clear();
    this.stderr.write(s);
  };

  /** Starts a progress line (a no-op object unless stderr is a terminal and not --quiet). */
  progress(): ProgressLine {
    this.active?.stop();
    this.active = new ProgressLine(this.stderr, this.stderr.isTTY === true && !this.quiet);
    return this.active;
  }

  stopProgress(): void {
    this.active?.stop();
    this.active = undefined;
  }
}
