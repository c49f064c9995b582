/**
 * Names ransomware leaves behind: the extensions it gives the files it encrypted, and the names of the
 * ransom notes it drops in every folder. Sources: the extensions and note names documented for the
 * families seen most in small offices (Locky, WannaCry, CryptoLocker/CryptoWall, Cerber, STOP/Djvu,
 * LockBit, Conti, Ryuk, REvil/Sodinokibi, Phobos, Dharma, GandCrab, Maze, BlackCat, Akira, Play, Royal…).
 * Only names no office program writes are listed: `.enc` or `readme.txt` are left out on purpose, they
 * are everyday names (the false-positive bench in bench/signals.ts runs a working day against this list).
 */
import { posix, win32 } from 'node:path';

/** Extensions (lower case, without the dot) that encrypted files get. */
export const RANSOM_EXTENSIONS: ReadonlySet<string> = new Set([
  'akira',
  'bart',
  'basta',
  'blackcat',
  'breaking_bad',
  'cerber',
  'cerber2',
  'cerber3',
  'conti',
  'coverton',
  'crinf',
  'crjoker',
  'crypt',
  'crypted',
  'cryptolocker',
  'cryptowall',
  'crysis',
  'ctbl',
  'dharma',
  'djvu',
  'encrypted',
  'encryptedrsa',
  'enciphered',
  'gandcrab',
  'lechiffre',
  'lockbit',
  'locked',
  'locky',
  'maze',
  'osiris',
  'petya',
  'phobos',
  'revil',
  'ryk',
  'ryuk',
  'sodinokibi',
  'vvv',
  'wcry',
  'wncry',
  'wncryt',
  'xtbl',
  'zepto',
  'zzzzz',
]);

/**
 * Ransom-note names, matched against the whole file name (case-insensitive). Each pattern names
 * decryption, recovery or "your files" explicitly, so a note is never confused with a project's README.
 */
export const RANSOM_NOTE_PATTERNS: readonly RegExp[] = [
  /^readme[-_ ]?(to[-_ ]?)?decrypt/i,
  /^how[-_ ]?to[-_ ]?(decrypt|recover|restore|unlock|back[-_ ]?files)/i,
  /^help[-_ ]?(decrypt|recover|restore|your[-_ ]?files|_instructions)/i,
  /^_?help[-_]instructions?\b/i,
  /^!+\s*read[-_ ]?me\s*!+/i,
  /^!+\s*readme\s*!+/i,
  /^#\s*decrypt[-_ ]?my[-_ ]?files\s*#/i,
  /^@?please[-_ ]?read[-_ ]?me@?/i,
  /^@wanadecryptor@/i,
  /^decrypt[-_ ]?(instructions?|instruction|my[-_ ]?files|files|readme)/i,
  /^(restore|recover)[-_ ]?(my[-_ ]?)?files[-_ ]?(info|instructions?|readme|\.)/i,
  /^your[-_ ]?files[-_ ]?(are[-_ ]?)?(encrypted|locked)/i,
  /^files[-_ ]?encrypted/i,
  /^(read[-_ ]?me|restore)[-_ ]?(for[-_ ]?)?decrypt/i,
  /^_readme\.txt$/i, // STOP/Djvu drops exactly this name in every folder
  /^!!!\s*(read|how|decrypt)/i,
  /^ransom[-_ ]?note/i,
  /^restore-my-files\.txt$/i, // LockBit
  /^readme\.(lockbit|conti|hive|akira)\b/i,
];

/** The last extension of a file name, lower case, without the dot ('' when it has none). */
export function extensionOf(path: string): string {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  return dot <= 0 || dot === name.length - 1 ? '' : name.slice(dot + 1).toLowerCase();
}

/** The file name of a path written with / or \ (the watcher reports native paths). */
export function baseName(path: string): string {
  return path.includes('\\') ? win32.basename(path) : posix.basename(path);
}

/** The folder of a path written with / or \. */
export function folderOf(path: string): string {
  return path.includes('\\') ? win32.dirname(path) : posix.dirname(path);
}

export function isRansomExtension(path: string): boolean {
  return RANSOM_EXTENSIONS.has(extensionOf(path));
}

export function isRansomNote(path: string): boolean {
  const name = baseName(path);
  return RANSOM_NOTE_PATTERNS.some((p) => p.test(name));
}
