import { BulwarkError } from '../engine/errors.ts';

/** Characters typed (or pasted) after the end of one answer: the start of the next one. */
let pending = '';

/** Asks a question on the terminal and reads the answer without echoing it (stdin must be a TTY). */
export function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  const output = process.stderr;
  return new Promise((resolve, reject) => {
    let value = '';
    let done = false;
    const finish = (rest: string, error?: BulwarkError): void => {
      done = true;
      pending = rest;
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    /** Consumes typed characters; returns true once the answer is complete. */
    const consume = (chunk: string): boolean => {
      const chars = [...chunk];
      for (const [i, ch] of chars.entries()) {
        const rest = chars
          .slice(i + 1)
          .join('')
          .replace(/^\n/, '');
        if (ch === '\r' || ch === '\n') {
          finish(rest);
          return true;
        }
        if (ch === '\u0003') {
          finish('', new BulwarkError('CANCELED', 'canceled at the password prompt'));
          return true;
        }
        if (ch === '\u0004') {
          if (value === '') finish('', new BulwarkError('CANCELED', 'no password entered'));
          else finish(rest);
          return true;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        else if (ch >= ' ') value += ch;
      }
      return false;
    };
    const onData = (chunk: string): void => {
      if (!done) consume(chunk);
    };
    output.write(question);
    input.setEncoding('utf8');
    input.setRawMode(true);
    const earlier = pending;
    pending = '';
    if (consume(earlier)) return;
    input.on('data', onData);
    input.resume();
  });
}
