#!/usr/bin/env node
/**
 * Deterministic corpora for the benchmarks and the engine tests: the same names and bytes on every machine
 * for the same seed (mulberry32 for the choices, AES-128-CTR keyed from the seed for the bulk bytes; no
 * clock, no Math.random, no locale).
 *
 *   node bench/corpus.ts DIR [--scale S] [--seed N]                        the mixed corpus (S=1: about 1 GiB)
 *   node bench/corpus.ts DIR --mutate [--seed N]                           a working day on it
 *   node bench/corpus.ts DIR --kind small-files [--files N] [--seed N]    a deep tree of small files
 *   node bench/corpus.ts DIR --kind small-files --mutate [--seed N]        a working day on that
 *
 * Kind "mixed" (the default): office/ (20000*S small compressible text and CSV files in dept-*\/year-*),
 * media/ (150*S incompressible files), vm/ (two images of 192*S MiB in 1 MiB blocks: a third zeros, a third
 * repeated from a small pool, a third fresh random), mail/inbox.mbox (48*S MiB of text that only grows).
 * Its --mutate edits 1% of the office files, deletes 0.1%, adds 50, inserts 4 KiB in the middle of
 * vm/disk-0.img (every later byte shifts: content-defined chunking must still deduplicate it), appends
 * 1 MiB to the mbox and renames office/dept-1.
 *
 * Kind "small-files": N files (default 80000) of 0-64 KiB in a tree up to 8 folders deep, like a source
 * checkout or an office share: mostly compressible text (code, prose, CSV, JSON), some binary (images,
 * PDFs, archives: random bytes behind a format header), a few empty files and some copies of other
 * files; names with spaces and a few non-ASCII (UTF-8, NFC) names. Its --mutate changes 1% of the files,
 * deletes 0.1% and adds 20.
 *
 * Also a module: makeCorpus, mutateCorpus, makeSmallFiles, mutateSmallFiles (synchronous; each returns
 * the number of files and their bytes in DIR afterwards). Nothing holds a whole large file in memory.
 */
import { createCipheriv, createHash, type Cipheriv } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** this file: run it with `node` to build a corpus in a child process */
export const CORPUS_SCRIPT = fileURLToPath(import.meta.url);

const MiB = 1 << 20;
/** how much generated text is built in memory before it is written */
const PIECE = MiB;

/** Files (everything that is not a folder) under a directory and the sum of their sizes. */
export interface TreeSize {
  files: number;
  bytes: number;
}

export interface Rng {
  /** the next mulberry32 output, an unsigned 32-bit integer */
  u32(): number;
  /** an integer in [0, n) (modulo: a tiny bias, but the same everywhere) */
  int(n: number): number;
  /** the next n bytes of the AES-128-CTR key stream */
  bytes(n: number): Buffer;
}

/**
 * The generator's randomness for a seed: mulberry32 for choices and an AES-128-CTR key stream (key: the
 * first 16 bytes of SHA-256("<label>-<seed>"), zero IV) for bulk bytes. Both are fast and give the same
 * numbers on every machine.
 */
export function rng(seed: number, label = 'corpus'): Rng {
  let t = seed >>> 0;
  const key = createHash('sha256').update(`${label}-${seed}`).digest().subarray(0, 16);
  const stream: Cipheriv = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return {
    u32() {
      t = (t + 0x6d2b79f5) >>> 0;
      let x = t;
      x = Math.imul(x ^ (x >>> 15), x | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      return (x ^ (x >>> 14)) >>> 0;
    },
    int(n: number) {
      return this.u32() % n;
    },
    bytes(n: number) {
      return stream.update(Buffer.alloc(n));
    },
  };
}

function pick<T>(r: Rng, items: readonly T[]): T {
  return items[r.int(items.length)] as T;
}

const WORDS = (
  'invoice customer payment order ledger total amount account balance report quarter revenue expense ' +
  'supplier contract delivery patient record policy claim tax audit payroll employee schedule meeting ' +
  'project budget forecast inventory shipment the and of to in for with on at by from'
).split(' ');

/** One "line" of generated text: the unit the generators repeat until a size is reached. */
type LineFn = (r: Rng) => string;

const proseWord: LineFn = (r) => pick(r, WORDS) + (r.int(12) === 0 ? '.\n' : ' ');

function csvRows(r: Rng): LineFn {
  let id = r.int(100000);
  return (q) =>
    `${id++},${pick(q, WORDS)},${(q.u32() % 1000000) / 100},2026-${1 + q.int(12)}-${1 + q.int(28)}\n`;
}

/**
 * Repeats `line` until at least n characters (ASCII) were produced and passes exactly the first n on to
 * `sink`, in pieces of about PIECE bytes: the random numbers drawn do not depend on the piece size.
 */
function emitLines(r: Rng, n: number, line: LineFn, sink: (b: Buffer) => void): void {
  let len = 0;
  let piece = '';
  while (len < n) {
    const s = line(r);
    piece += s;
    len += s.length;
    if (piece.length >= PIECE && len < n) {
      sink(Buffer.from(piece, 'latin1'));
      piece = '';
    }
  }
  if (piece.length > 0) sink(Buffer.from(piece.slice(0, piece.length - (len - n)), 'latin1'));
}

function linesBuffer(r: Rng, n: number, line: LineFn): Buffer {
  const parts: Buffer[] = [];
  emitLines(r, n, line, (b) => parts.push(b));
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
}

/** n bytes of English-like prose over a small business vocabulary (compresses about 3:1). */
export function text(r: Rng, n: number): Buffer {
  return linesBuffer(r, n, proseWord);
}

/** n bytes of CSV rows (id, word, amount, date). */
export function csv(r: Rng, n: number): Buffer {
  return linesBuffer(r, n, csvRows(r));
}

function writeAll(fd: number, b: Buffer, position: number | null = null): void {
  for (let off = 0; off < b.length;) {
    const w = fs.writeSync(fd, b, off, b.length - off, position === null ? null : position + off);
    off += w;
  }
}

function readFull(fd: number, b: Buffer, position: number): void {
  for (let off = 0; off < b.length;) {
    const n = fs.readSync(fd, b, off, b.length - off, position + off);
    if (n === 0) throw new Error(`unexpected end of file at ${position + off}`);
    off += n;
  }
}

/** Writes n bytes of generated text to `file` (truncating it, or appending), piece by piece. */
function writeLines(file: string, r: Rng, n: number, line: LineFn, flags: 'w' | 'a'): void {
  const fd = fs.openSync(file, flags);
  try {
    emitLines(r, n, line, (b) => writeAll(fd, b));
  } finally {
    fs.closeSync(fd);
  }
}

/** A VM image: 1 MiB blocks, a third zero, a third repeated from a pool of 8, a third fresh random. */
function writeVm(file: string, r: Rng, size: number): void {
  const pool = Array.from({ length: 8 }, () => r.bytes(MiB));
  const zero = Buffer.alloc(MiB);
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < size; off += MiB) {
      const k = r.int(3);
      const block = k === 0 ? zero : k === 1 ? pick(r, pool) : r.bytes(MiB);
      writeAll(fd, block.subarray(0, Math.min(block.length, size - off)));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Inserts `insert` at `at` in the file, in place (same inode, no second copy on disk): shifts the tail
 * back to front, 1 MiB at a time.
 */
function insertInFile(file: string, at: number, insert: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    if (at > size) throw new Error(`insert at ${at} is past the end of ${file} (${size} bytes)`);
    const buf = Buffer.allocUnsafe(PIECE);
    for (let end = size; end > at;) {
      const len = Math.min(PIECE, end - at);
      const start = end - len;
      const piece = buf.subarray(0, len);
      readFull(fd, piece, start);
      writeAll(fd, piece, start + insert.length);
      end = start;
    }
    writeAll(fd, insert, at);
  } finally {
    fs.closeSync(fd);
  }
}

/** Files (not folders) under dir and their total size (lstat: links and FIFOs count, never followed). */
export function treeSize(dir: string): TreeSize {
  let files = 0;
  let bytes = 0;
  const walk = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, e.name);
      if (e.isDirectory()) walk(q);
      else {
        files++;
        bytes += fs.lstatSync(q).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/** Entry names in a stable order on every machine (code units of the NFC form, then the raw name). */
function sortedNames(names: string[]): string[] {
  return names.sort((a, b) => {
    const x = a.normalize('NFC');
    const y = b.normalize('NFC');
    return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });
}

/** Every file under dir (depth first, each folder's entries sorted), and every folder (dir first). */
function listTree(dir: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (p: string): void => {
    dirs.push(p);
    const entries = new Map(fs.readdirSync(p, { withFileTypes: true }).map((e) => [e.name, e]));
    for (const name of sortedNames([...entries.keys()])) {
      const q = path.join(p, name);
      if (entries.get(name)?.isDirectory()) walk(q);
      else files.push(q);
    }
  };
  walk(dir);
  return { files, dirs };
}

// ---------------------------------------------------------------------------------------------------
// kind "mixed": office, media, vm, mail

export interface CorpusOptions {
  /** 1 gives about 1 GiB (default 1) */
  scale?: number;
  /** default 42 */
  seed?: number;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32 - 1)
    throw new RangeError(`seed must be an integer in [0, 2^32 - 1), got ${seed}`);
}

/** Builds the mixed corpus in dir (created if needed; it should be empty). */
export function makeCorpus(dir: string, opts: CorpusOptions = {}): TreeSize {
  const scale = opts.scale ?? 1;
  const seed = opts.seed ?? 42;
  checkSeed(seed);
  if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`scale must be > 0, got ${scale}`);
  const r = rng(seed);
  const nOffice = Math.round(20000 * scale);
  const nMedia = Math.round(150 * scale);
  const nVm = 2;
  const vmSize = Math.round(192 * scale) * MiB;
  for (let i = 0; i < nOffice; i++) {
    const sub = path.join(dir, 'office', `dept-${i % 40}`, `year-${2019 + (i % 7)}`);
    if (i < 280) fs.mkdirSync(sub, { recursive: true }); // 40 * 7 folders: i < 280 meets each once
    const size = 256 + r.int(r.int(10) === 0 ? 256 << 10 : 24 << 10);
    const isCsv = i % 3 === 0;
    fs.writeFileSync(
      path.join(sub, `doc-${i}.${isCsv ? 'csv' : 'txt'}`),
      isCsv ? csv(r, size) : text(r, size),
    );
  }
  fs.mkdirSync(path.join(dir, 'media'), { recursive: true });
  for (let i = 0; i < nMedia; i++)
    fs.writeFileSync(path.join(dir, 'media', `photo-${i}.jpg`), r.bytes((512 << 10) + r.int(4 << 20)));
  fs.mkdirSync(path.join(dir, 'vm'), { recursive: true });
  for (let i = 0; i < nVm; i++) writeVm(path.join(dir, 'vm', `disk-${i}.img`), r, vmSize);
  fs.mkdirSync(path.join(dir, 'mail'), { recursive: true });
  writeLines(path.join(dir, 'mail', 'inbox.mbox'), r, Math.round(48 * scale) * MiB, proseWord, 'w');
  return treeSize(dir);
}

/** A working day on a mixed corpus made by makeCorpus (may run again on its own result). */
export function mutateCorpus(dir: string, opts: { seed?: number } = {}): TreeSize {
  const seed = opts.seed ?? 42;
  checkSeed(seed);
  const office = path.join(dir, 'office');
  if (!fs.existsSync(office)) throw new Error(`${dir} holds no mixed corpus (no office/ folder)`);
  const r = rng(seed + 1);
  const { files } = listTree(office);
  for (let i = 0; i < files.length; i += 100) fs.appendFileSync(files[i] as string, text(r, 200)); // 1% edited
  for (let i = 50; i < files.length; i += 1000) fs.rmSync(files[i] as string); // 0.1% deleted
  fs.mkdirSync(path.join(office, 'dept-0'), { recursive: true });
  for (let i = 0; i < 50; i++)
    fs.writeFileSync(path.join(office, 'dept-0', `new-${seed}-${i}.txt`), text(r, 4096));
  const vm = path.join(dir, 'vm', 'disk-0.img'); // 4 KiB inserted in the middle
  if (fs.existsSync(vm)) {
    const size = fs.statSync(vm).size;
    insertInFile(vm, Math.floor(size / 2), r.bytes(4096));
  }
  const mbox = path.join(dir, 'mail', 'inbox.mbox'); // the mailbox grows
  if (fs.existsSync(path.dirname(mbox))) writeLines(mbox, r, MiB, proseWord, 'a');
  const from = path.join(office, 'dept-1'); // a folder renamed
  const to = path.join(office, `dept-1-renamed-${seed}`);
  if (fs.existsSync(from) && !fs.existsSync(to)) fs.renameSync(from, to);
  return treeSize(dir);
}

// ---------------------------------------------------------------------------------------------------
// kind "small-files": a deep tree of small files (a source checkout, an office share)

export interface SmallFilesOptions {
  /** number of files (default 80000) */
  files?: number;
  /** default 42 */
  seed?: number;
}

const SMALL_LABEL = 'small-files';
/** the deepest a generated folder lies below DIR */
export const SMALL_MAX_DEPTH = 8;
/** the largest generated file */
export const SMALL_MAX_SIZE = 64 << 10;
/** files a small-files mutate adds */
export const SMALL_MUTATE_ADDED = 20;

const DIR_WORDS = [
  'src',
  'lib',
  'test',
  'docs',
  'assets',
  'components',
  'utils',
  'internal',
  'api',
  'models',
  'views',
  'scripts',
  'config',
  'vendor',
  'build',
  'images',
  'fixtures',
  'Clients',
  'Invoices 2024',
  'Invoices 2025',
  'HR',
  'Payroll',
  'Projects',
  'Archive',
  'Templates',
  'Meeting notes',
  'Quarterly reports',
  'Tax returns',
  'Scans',
  'Contracts',
  'Marketing',
  'old stuff',
  'Shared with me',
];
/** rarer folder names: a few non-ASCII (NFC) ones */
const DIR_WORDS_UTF8 = ['Übersicht', 'Angebote für Kunden', 'Données', 'Документы', '資料'];
/** relative number of folders placed under a parent of depth 0, 1, ... SMALL_MAX_DEPTH - 1 */
const DEPTH_WEIGHTS = [1, 8, 20, 25, 20, 14, 8, 4];

const FILE_WORDS = [
  'index',
  'main',
  'utils',
  'helpers',
  'types',
  'config',
  'README',
  'CHANGELOG',
  'server',
  'client',
  'parser',
  'report',
  'invoice',
  'Invoice final',
  'Meeting notes',
  'budget',
  'Budget v2',
  'letter to client',
  'contract draft',
  'timesheet',
  'inventory',
  'customers',
  'schedule',
  'minutes',
  'scan',
  'photo',
  'logo',
  'backup copy',
];
/** rarer names: a few non-ASCII (NFC) ones */
const FILE_WORDS_UTF8 = [
  'Übersicht',
  'résumé',
  'naïve façade',
  'Größe',
  'données clients',
  '報告書',
  'Ελληνικά',
  'smörgåsbord',
];

const CODE_WORDS = (
  'const let return if else for while function class import export from await async new this ' +
  'value result items count index error options config data user file path name size buffer ' +
  'length push map filter reduce then catch throw null undefined true false'
).split(' ');

const codeLine: LineFn = (r) => {
  const indent = '  '.repeat(r.int(5));
  const n = 2 + r.int(7);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(pick(r, CODE_WORDS));
  const end = pick(r, [';', ';', ' {', '}', ',', ')', '']);
  return `${indent}${words.join(r.int(3) === 0 ? '.' : ' ')}${end}\n`;
};

const jsonLine: LineFn = (r) =>
  `  {"id": ${r.int(1000000)}, "name": "${pick(r, WORDS)} ${pick(r, WORDS)}", "amount": ${r.int(100000) / 100}, "ok": ${r.int(2) === 1}},\n`;

const markupLine: LineFn = (r) => {
  const tag = pick(r, ['p', 'div', 'span', 'li', 'td', 'item', 'entry']);
  return `${'  '.repeat(r.int(4))}<${tag} class="${pick(r, CODE_WORDS)}">${pick(r, WORDS)} ${pick(r, WORDS)}</${tag}>\n`;
};

interface Kind {
  ext: string;
  /** text generator; absent for binary formats */
  line?: (r: Rng) => LineFn;
  /** first bytes of a binary format */
  header?: Buffer;
}

const TEXT_KINDS: Kind[] = [
  { ext: '.ts', line: () => codeLine },
  { ext: '.js', line: () => codeLine },
  { ext: '.py', line: () => codeLine },
  { ext: '.c', line: () => codeLine },
  { ext: '.h', line: () => codeLine },
  { ext: '.java', line: () => codeLine },
  { ext: '.md', line: () => proseWord },
  { ext: '.txt', line: () => proseWord },
  { ext: '.csv', line: csvRows },
  { ext: '.json', line: () => jsonLine },
  { ext: '.html', line: () => markupLine },
  { ext: '.xml', line: () => markupLine },
];
const BINARY_KINDS: Kind[] = [
  { ext: '.png', header: Buffer.from('89504e470d0a1a0a', 'hex') },
  { ext: '.jpg', header: Buffer.from('ffd8ffe000104a464946', 'hex') },
  { ext: '.pdf', header: Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1') },
  { ext: '.zip', header: Buffer.from('504b0304', 'hex') },
  { ext: '.xlsx', header: Buffer.from('504b0304', 'hex') },
  { ext: '.docx', header: Buffer.from('504b0304', 'hex') },
  { ext: '.bin', header: Buffer.alloc(0) },
];
const EMPTY_NAMES = ['.gitkeep', '__init__.py', 'empty.txt', '.keep', 'NOTES'];
const TEXT_EXTS = new Set(TEXT_KINDS.map((k) => k.ext));

/** Names already used in one folder, compared as a case-insensitive, normalizing file system would. */
class Names {
  private readonly used = new Set<string>();
  unique(base: string, ext: string): string {
    for (let n = 1; ; n++) {
      const name = n === 1 ? `${base}${ext}` : `${base} ${n}${ext}`;
      const key = name.normalize('NFC').toLowerCase();
      if (!this.used.has(key)) {
        this.used.add(key);
        return name;
      }
    }
  }
}

function smallContent(r: Rng, kind: Kind, size: number): Buffer {
  if (kind.line) return linesBuffer(r, size, kind.line(r));
  const header = kind.header ?? Buffer.alloc(0);
  if (size <= header.length) return Buffer.from(header.subarray(0, size));
  return Buffer.concat([header, r.bytes(size - header.length)], size);
}

/** Builds the small-files tree in dir (created if needed; it should be empty). */
export function makeSmallFiles(dir: string, opts: SmallFilesOptions = {}): TreeSize {
  const count = opts.files ?? 80_000;
  const seed = opts.seed ?? 42;
  checkSeed(seed);
  if (!(Number.isSafeInteger(count) && count >= 0))
    throw new RangeError(`files must be an integer >= 0, got ${count}`);
  const r = rng(seed, SMALL_LABEL);

  // Folders: about one per 12 files. The first SMALL_MAX_DEPTH form a chain (so the tree is that deep even
  // when small); each later one goes under a folder of a depth drawn from DEPTH_WEIGHTS (most folders lie
  // 2 to 5 deep, as in a source checkout or an office share), with a name other than its parent's.
  type Dir = { rel: string; name: string; depth: number; names: Names };
  const nDirs = Math.max(SMALL_MAX_DEPTH + 1, Math.round(count / 12));
  const root: Dir = { rel: '', name: '', depth: 0, names: new Names() };
  const dirs: Dir[] = [root];
  const byDepth: Dir[][] = [[root]];
  const depths = DEPTH_WEIGHTS.flatMap((w, depth) => Array<number>(w).fill(depth));
  for (let k = 1; k < nDirs; k++) {
    const parent = k <= SMALL_MAX_DEPTH ? (dirs[k - 1] as Dir) : pick(r, byDepth[pick(r, depths)] as Dir[]);
    let word: string;
    do word = r.int(40) === 0 ? pick(r, DIR_WORDS_UTF8) : pick(r, DIR_WORDS);
    while (word === parent.name);
    const name = parent.names.unique(word, '');
    const d: Dir = { rel: path.join(parent.rel, name), name, depth: parent.depth + 1, names: new Names() };
    dirs.push(d);
    (byDepth[d.depth] ??= []).push(d);
  }
  fs.mkdirSync(dir, { recursive: true });
  for (const d of dirs) if (d.rel !== '') fs.mkdirSync(path.join(dir, d.rel));

  // Files: 1% empty, 84% text (an eighth of them up to 64 KiB, the rest up to 8 KiB; one in 25 a copy of
  // a recent file), 15% binary (a quarter of them up to 64 KiB, the rest up to 16 KiB).
  const recent: { kind: Kind; content: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const d = pick(r, dirs);
    const x = r.int(100);
    let name: string;
    let content: Buffer;
    if (x < 1) {
      name = d.names.unique(pick(r, EMPTY_NAMES), '');
      content = Buffer.alloc(0);
    } else {
      const base = r.int(50) === 0 ? pick(r, FILE_WORDS_UTF8) : pick(r, FILE_WORDS);
      let kind: Kind;
      if (x < 85 && recent.length > 0 && r.int(25) === 0) {
        const copy = pick(r, recent);
        kind = copy.kind;
        content = copy.content;
      } else if (x < 85) {
        kind = pick(r, TEXT_KINDS);
        content = smallContent(r, kind, r.int(r.int(8) === 0 ? SMALL_MAX_SIZE + 1 : (8 << 10) + 1));
      } else {
        kind = pick(r, BINARY_KINDS);
        content = smallContent(r, kind, r.int(r.int(4) === 0 ? SMALL_MAX_SIZE + 1 : (16 << 10) + 1));
      }
      if (recent.length < 64) recent.push({ kind, content });
      else recent[r.int(64)] = { kind, content };
      name = d.names.unique(base, kind.ext);
    }
    fs.writeFileSync(path.join(dir, d.rel, name), content);
  }
  return treeSize(dir);
}

/** A working day on a small-files tree: 1% of the files changed, 0.1% deleted, 20 added. */
export function mutateSmallFiles(dir: string, opts: { seed?: number } = {}): TreeSize {
  const seed = opts.seed ?? 42;
  checkSeed(seed);
  if (!fs.existsSync(dir)) throw new Error(`${dir} does not exist`);
  const r = rng(seed + 1, SMALL_LABEL);
  const { files, dirs } = listTree(dir);
  for (let i = 0; i < files.length; i += 100) {
    // text grows by a few lines; binary has a region overwritten (same size: only mtime/ctime tell)
    const f = files[i] as string;
    if (TEXT_EXTS.has(path.extname(f))) fs.appendFileSync(f, linesBuffer(r, 1 + r.int(1024), codeLine));
    else {
      const size = fs.statSync(f).size;
      const patch = r.bytes(Math.min(512, Math.max(size, 1)));
      const at = size > patch.length ? r.int(size - patch.length + 1) : 0;
      const fd = fs.openSync(f, 'r+');
      try {
        writeAll(fd, patch, at);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  for (let i = 50; i < files.length; i += 1000) fs.rmSync(files[i] as string);
  for (let i = 0; i < SMALL_MUTATE_ADDED; i++) {
    const d = pick(r, dirs);
    fs.writeFileSync(path.join(d, `new ${seed}-${i}.txt`), text(r, 1 + r.int(8 << 10)));
  }
  return treeSize(dir);
}

// ---------------------------------------------------------------------------------------------------
// command line

const USAGE = `usage: node bench/corpus.ts DIR [--kind mixed|small-files] [--scale S] [--files N] [--seed N] [--mutate]

  --kind K     mixed (default): office, media, vm images, mbox (scale 1: about 1 GiB)
               small-files: a deep tree of 0-64 KiB files (a source checkout, an office share)
  --scale S    size of the mixed corpus                   default 1
  --files N    number of files of the small-files tree    default 80000
  --seed N     the same seed gives the same bytes         default 42
  --mutate     change DIR (made by this tool with the same --kind) the way a working day does`;

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: 'string', default: 'mixed' },
      scale: { type: 'string' },
      files: { type: 'string' },
      seed: { type: 'string', default: '42' },
      mutate: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function main(argv: string[]): number {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [dir, ...extra] = positionals;
  const problem =
    dir === undefined
      ? 'DIR is missing'
      : extra.length > 0
        ? `unexpected argument: ${extra[0]}`
        : values.kind !== 'mixed' && values.kind !== 'small-files'
          ? `--kind must be mixed or small-files, got ${values.kind}`
          : values.kind === 'mixed' && values.files !== undefined
            ? '--files is for --kind small-files'
            : values.kind === 'small-files' && values.scale !== undefined
              ? '--scale is for --kind mixed'
              : values.mutate && (values.scale !== undefined || values.files !== undefined)
                ? '--mutate takes no --scale or --files'
                : undefined;
  if (problem !== undefined || dir === undefined) {
    console.error(`${problem}\n${USAGE}`);
    return 2;
  }
  const seed = Number(values.seed);
  try {
    let size: TreeSize;
    if (values.kind === 'small-files') {
      size = values.mutate
        ? mutateSmallFiles(dir, { seed })
        : makeSmallFiles(dir, { files: values.files === undefined ? undefined : Number(values.files), seed });
    } else {
      size = values.mutate
        ? mutateCorpus(dir, { seed })
        : makeCorpus(dir, { scale: values.scale === undefined ? undefined : Number(values.scale), seed });
    }
    console.log(`${dir}: ${size.files} files, ${(size.bytes / MiB).toFixed(1)} MiB`);
    return 0;
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return e instanceof RangeError ? 2 : 1;
  }
}

/** This file is the program being run (not imported). */
function isMain(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return fs.realpathSync(argv1) === fs.realpathSync(CORPUS_SCRIPT);
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
