/**
 * What find matches against, and how a pattern becomes a query (engine/history). A path is searched as its
 * *search text*: lower-cased (Unicode, so "Ärger" is found as "ärger"), NFC (a macOS name in NFD is found
 * when typed in NFC) and with each escaped byte of a name that is not UTF-8 (U+DC80–U+DCFF, see
 * util/fs-names.ts) written as the CLI prints it, `\xe9`: SQLite keeps text as UTF-8, where a lone surrogate
 * cannot exist, so it would become U+FFFD and all such names would look alike. A pattern goes through the
 * same function, so `caf\xe9` typed in a terminal and `caf\udce9` sent as JSON find the same file.
 *
 * A pattern with `*`, `?` or `[` is a glob, otherwise a substring of the path. A glob without `/` matches the
 * file's name; with `/`, the end of its path at a folder boundary (`Invoices/*.pdf` finds
 * `Documents/Invoices/x.pdf`). There `*` and `?` stay within one name and `**` crosses folders; `[abc]`,
 * `[a-z]` and `[!abc]` (or `[^abc]`) are classes.
 */

const ESCAPED_BYTE = /[\udc80-\udcff]/gu;

/** The text a path is searched as (see the module comment). */
export function searchText(path: string): string {
  const plain = path.replace(ESCAPED_BYTE, (c) => `\\x${(c.charCodeAt(0) - 0xdc00).toString(16)}`);
  return plain.normalize('NFC').toLowerCase();
}

export const isGlob = (pattern: string): boolean => /[*?[]/.test(pattern);

export interface SearchPattern {
  kind: 'substring' | 'glob';
  /** for the trigram index: an SQLite GLOB over the whole search text, true for every match (a superset) */
  sqlGlob: string;
  /** the exact test on a search text (undefined: sqlGlob is exact) */
  test?: (text: string) => boolean;
}

/** SQLite GLOB's special characters, matched literally inside a class. */
const sqlLiteral = (s: string): string => s.replace(/[*?[\]]/g, (c) => `[${c}]`);

export function parsePattern(raw: string): SearchPattern {
  const text = searchText(raw);
  if (!isGlob(raw)) return { kind: 'substring', sqlGlob: `*${sqlLiteral(text)}*` };
  const re = globRegExp(text);
  const byName = !text.includes('/');
  return {
    kind: 'glob',
    // A match of the name or of a path's end is a match of `*` + pattern over the whole path, where SQLite's
    // `*` also crosses folders: a superset the exact test then narrows.
    sqlGlob: `*${toSqlGlob(text)}`,
    test: byName
      ? (t) => re.test(t.slice(t.lastIndexOf('/') + 1))
      : (t) => {
          if (re.test(t)) return true;
          for (let i = t.indexOf('/'); i >= 0; i = t.indexOf('/', i + 1))
            if (re.test(t.slice(i + 1))) return true;
          return false;
        },
  };
}

/** The glob as an anchored regular expression over a search text (see the module comment). */
export function globRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = classEnd(glob, i);
      if (end < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        const negated = body.startsWith('!') || body.startsWith('^');
        if (negated) body = body.slice(1);
        out += `[${negated ? '^/' : ''}${body.replace(/[\\\]^]/g, (x) => `\\${x}`)}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\/\]]/g, (x) => `\\${x}`);
  }
  return new RegExp(`^${out}$`, 'su');
}

/** Where the class that opens at `start` ends (its `]`), or -1 when it does not (then `[` is literal). */
function classEnd(glob: string, start: number): number {
  let j = start + 1;
  if (glob[j] === '!' || glob[j] === '^') j++;
  if (glob[j] === ']') j++; // a leading ] is part of the class
  const end = glob.indexOf(']', j);
  return end;
}

/** The glob in SQLite's dialect: `[!` is `[^`, and a `[` that opens no class is literal. */
function toSqlGlob(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c !== '[') {
      out += c === ']' ? '[]]' : c;
      continue;
    }
    const end = classEnd(glob, i);
    if (end < 0) {
      out += '[[]';
      continue;
    }
    let body = glob.slice(i + 1, end);
    const negated = body.startsWith('!') || body.startsWith('^');
    if (negated) body = body.slice(1);
    out += `[${negated ? '^' : ''}${body}]`;
    i = end;
  }
  return out;
}
