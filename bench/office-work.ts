/**
 * Scripted office work and scripted attacks on a real folder, for the ransomware signals' bench
 * (bench/signals.ts) and tests (test/engine/service/ransomware.test.ts). Everything is written as the real
 * programs write it: Word and Excel save through a temp file and renames, an unzip creates a tree of new
 * files, a software update writes each new file beside the old one and renames it over; ransomware reads
 * each document, writes it encrypted (AES-256 with a random key) under a new name and removes the original,
 * or encrypts it in place, and drops a ransom note.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A deterministic generator (xorshift32), so a scenario writes the same bytes on every run of a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 2 ** 32;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

const WORDS =
  'invoice client meeting budget quarter report the of and to project delivery payment account tax ' +
  'schedule appointment patient supplier order review contract staff summary note total amount due date'.split(
    ' ',
  );

/** Office text (compresses to about a third): `bytes` long. */
export function officeText(rng: Rng, bytes: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    const w = WORDS[rng.int(0, WORDS.length - 1)] ?? 'the';
    const piece = rng.next() < 0.08 ? `${w} ${rng.int(1, 99_999)}.\n` : `${w} `;
    parts.push(piece);
    n += piece.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** Program-like binary (half structure, half noise: compresses to about 0.6, like a DLL). */
function programBytes(rng: Rng, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 64) {
    const noisy = rng.next() < 0.5;
    for (let j = i; j < Math.min(bytes, i + 64); j++) b[j] = noisy ? rng.int(0, 255) : (j * 7) & 0x0f;
  }
  return b;
}

export interface OfficeTree {
  root: string;
  /** relative path → content, for checking a restore */
  files: Map<string, Buffer>;
}

/** An office folder: `docs/` (documents, spreadsheets, text), `accounts/` (csv), `app/` (a program). */
export function makeOffice(
  root: string,
  seed: number,
  opts: { docs?: number; appFiles?: number } = {},
): OfficeTree {
  const rng = new Rng(seed);
  const files = new Map<string, Buffer>();
  const put = (rel: string, content: Buffer): void => {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
    files.set(rel, content);
  };
  const exts = ['docx', 'xlsx', 'txt', 'pdf'];
  for (let i = 0; i < (opts.docs ?? 200); i++)
    put(
      `docs/file-${String(i).padStart(4, '0')}.${exts[i % exts.length] ?? 'txt'}`,
      officeText(rng, rng.int(4_000, 20_000)),
    );
  for (let i = 0; i < 30; i++) put(`accounts/ledger-${i}.csv`, officeText(rng, rng.int(8_000, 30_000)));
  for (let i = 0; i < (opts.appFiles ?? 0); i++)
    put(`app/lib${i}.dll`, programBytes(rng, rng.int(8_000, 40_000)));
  return { root, files };
}

/** The documents of a folder: people leave hidden files alone, ransomware takes them too. */
const docsIn = (root: string, dir = 'docs', hidden = false): string[] =>
  readdirSync(join(root, dir))
    .filter((n) => hidden || !n.startsWith('.'))
    .sort()
    .map((n) => join(root, dir, n));

/** Someone edits documents in place (a text editor, a program that rewrites its file). */
export function editDocuments(root: string, rng: Rng, count: number): void {
  const docs = docsIn(root);
  for (let i = 0; i < count; i++) {
    const p = docs[rng.int(0, docs.length - 1)];
    if (p) writeFileSync(p, Buffer.concat([readFileSync(p), officeText(rng, rng.int(200, 2_000))]));
  }
}

/**
 * Word/Excel saves: write ~WRDnnnn.tmp, rename the document to ~WRLnnnn.tmp, rename the temp to the
 * document's name, remove the old copy; plus the ~$ owner file while it is open.
 */
export function saveLikeWord(root: string, rng: Rng, saves: number): void {
  const docs = docsIn(root);
  for (let i = 0; i < saves; i++) {
    const p = docs[rng.int(0, docs.length - 1)];
    if (!p) continue;
    const dir = join(p, '..');
    const n = String(rng.int(1000, 9999));
    const owner = join(dir, `~$${p.split('/').pop() ?? 'doc'}`);
    writeFileSync(owner, 'owner');
    const tmp = join(dir, `~WRD${n}.tmp`);
    const old = join(dir, `~WRL${n}.tmp`);
    writeFileSync(tmp, Buffer.concat([readFileSync(p), officeText(rng, rng.int(100, 1_500))]));
    renameSync(p, old);
    renameSync(tmp, p);
    rmSync(old);
    rmSync(owner);
  }
}

/** An unzip of `count` new files (a project archive: text, spreadsheets, images) into a new folder. */
export function unzip(root: string, rng: Rng, count: number, into = 'unzipped'): void {
  for (let i = 0; i < count; i++) {
    const dir = join(root, into, `part-${i % 40}`);
    mkdirSync(dir, { recursive: true });
    const ext = ['xml', 'txt', 'csv', 'png'][i % 4] ?? 'txt';
    writeFileSync(
      join(dir, `item-${i}.${ext}`),
      ext === 'png' ? randomBytes(rng.int(2_000, 8_000)) : officeText(rng, rng.int(1_000, 6_000)),
    );
  }
}

/** A software update: each of the program's files written beside it (.new) and renamed over it. */
export function softwareUpdate(root: string, rng: Rng): number {
  const dir = join(root, 'app');
  const libs = readdirSync(dir).filter((n) => n.endsWith('.dll'));
  for (const n of libs) {
    const tmp = join(dir, `${n}.new`);
    writeFileSync(tmp, programBytes(rng, rng.int(8_000, 40_000)));
    renameSync(tmp, join(dir, n));
  }
  return libs.length;
}

const encrypt = (content: Buffer, key: Buffer): Buffer => {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, c.update(content), c.final()]);
};

/** Ransomware: every document of `docs/` written encrypted as `<name>.<ext>`, the original removed, a note. */
export function encryptAndRename(root: string, ext = 'locky', count = Number.POSITIVE_INFINITY): string[] {
  const key = randomBytes(32);
  const done: string[] = [];
  for (const p of docsIn(root, 'docs', true).slice(0, count)) {
    writeFileSync(`${p}.${ext}`, encrypt(readFileSync(p), key));
    rmSync(p);
    done.push(p);
  }
  writeFileSync(
    join(root, 'docs', 'HOW_TO_DECRYPT.txt'),
    'Your files are encrypted. Pay to get them back.\n',
  );
  return done;
}

/** Ransomware that encrypts in place (same names, no note): only the content changes. */
export function encryptInPlace(root: string, dir = 'docs'): number {
  const key = randomBytes(32);
  const docs = docsIn(root, dir, true);
  for (const p of docs) writeFileSync(p, encrypt(readFileSync(p), key));
  return docs.length;
}
