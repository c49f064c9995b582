/**
 * The first line of a text, without its line ending: how a password is read from a file (`--password-file`,
 * the default repository's key file). Spaces are kept: they may be part of the password. One rule for every
 * reader, so the CLI's early guess (cli/unlock-ahead.ts) reads the password the open will read.
 */
export function firstLine(text: string): string {
  return /^[^\r\n]*/.exec(text)?.[0] ?? '';
}
