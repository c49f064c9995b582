/**
 * Decoy (canary) files, opt-in per source: a hidden document in each of the source's folders that no
 * person or program of the office has a reason to open. Ransomware walks every folder and encrypts what
 * it finds, so any change, rename or deletion of one is a signal (the detector ignores only their
 * placement). The name starts with "." (hidden on Linux and macOS) and "0" (early in the order folders are
 * walked in).
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Sub-folders of each source folder that get a decoy too (ransomware may start anywhere). */
const SUBFOLDERS_PER_ROOT = 20;

/** The source's folders and their first sub-folders (not hidden ones), where decoys go. */
export function canaryFolders(roots: readonly string[]): string[] {
  const out: string[] = [];
  for (const root of roots) {
    out.push(root);
    const subs = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort()
      .slice(0, SUBFOLDERS_PER_ROOT);
    for (const d of subs) out.push(join(root, d));
  }
  return out;
}

export const CANARY_NAME = '.0-bulwark-decoy-do-not-open.docx';

const CANARY_TEXT =
  'This file was placed here by Bulwark, the backup program, as a decoy. Leave it as it is: if anything ' +
  'changes, renames or removes it, Bulwark takes that as a sign of ransomware and protects your backups.\n';

/** Places a decoy in each folder (kept when already there). Returns the decoys' paths. */
export function placeCanaries(folders: readonly string[]): string[] {
  const placed: string[] = [];
  for (const folder of folders) {
    const path = join(folder, CANARY_NAME);
    if (!existsSync(path)) writeFileSync(path, CANARY_TEXT, { mode: 0o644, flag: 'wx' });
    placed.push(path);
  }
  return placed;
}

/** Removes decoys (opting out). A decoy already gone is fine. */
export function removeCanaries(paths: readonly string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}
