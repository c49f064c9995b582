/**
 * `bulwark copy` as real CLI processes (issue 13, must-show 3, two targets): back up into repository A,
 * copy into repository B (its own password), back up again and copy again (only the new snapshot), a third
 * run copies nothing; then A is destroyed entirely and every snapshot restores from B byte for byte, and
 * `verify --read-data` on B is clean.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark, type Result } from './helpers.ts';

const TO_PASSWORD = 'a different password for the second copy';

let tmp: string;
let src: string;
let repoA: string;
let repoB: string;
let toPasswordFile: string;
/** the source as each backup saw it, by snapshot id in A */
const versions = new Map<string, string>();

const bulwark = (args: string[], env: Record<string, string | undefined> = {}): Promise<Result> =>
  runBulwark(args, { home: path.join(tmp, 'home'), tmp }, env);

interface CopyJson {
  copied: { from: string; to: string }[];
  skipped: { from: string; to: string }[];
  bytesAdded: number;
}

async function backupA(): Promise<string> {
  const b = await bulwark(['backup', '--repo', repoA, '--source', 'office', src]);
  expect(b.code, b.stderr).toBe(0);
  const id = b.stdout.trim();
  const kept = path.join(tmp, 'versions', id, 'office');
  fs.cpSync(src, kept, { recursive: true });
  versions.set(id, kept);
  return id;
}

async function copy(extra: string[] = []): Promise<CopyJson> {
  const c = await bulwark([
    'copy',
    '--repo',
    repoA,
    '--to-repo',
    repoB,
    '--to-password-file',
    toPasswordFile,
    '--json',
    ...extra,
  ]);
  expect(c.code, c.stderr).toBe(0);
  return JSON.parse(c.stdout) as CopyJson;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-copy-cli-'));
  src = path.join(tmp, 'office');
  fs.mkdirSync(path.join(src, 'Invoices'), { recursive: true });
  for (let i = 0; i < 10; i++)
    fs.writeFileSync(path.join(src, 'Invoices', `INV-${i}.pdf`), randomBytes(20_000 + i));
  fs.writeFileSync(path.join(src, 'letter.txt'), 'Dear customer,\n');
  fs.writeFileSync(path.join(src, 'big.bin'), randomBytes(2_000_000));
  repoA = path.join(tmp, 'repo-a');
  repoB = path.join(tmp, 'repo-b');
  toPasswordFile = path.join(tmp, 'to-password');
  fs.writeFileSync(toPasswordFile, `${TO_PASSWORD}\n`);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bulwark copy', () => {
  let first = '';
  let second = '';

  it('needs --to-repo (usage error)', async () => {
    const r = await bulwark(['copy', '--repo', path.join(tmp, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--to-repo');
  });

  it('copies every snapshot into B, then only the new one', async () => {
    expect((await bulwark(['init', '--repo', repoA])).code).toBe(0);
    const initB = await bulwark(['init', '--repo', repoB], { BULWARK_PASSWORD: TO_PASSWORD });
    expect(initB.code, initB.stderr).toBe(0);
    first = await backupA();
    const c1 = await copy();
    expect(c1.copied.map((c) => c.from)).toEqual([first]);
    expect(c1.bytesAdded).toBeGreaterThan(2_000_000);

    fs.writeFileSync(path.join(src, 'letter.txt'), 'Dear customer, thank you.\n');
    fs.writeFileSync(path.join(src, 'Invoices', 'INV-10.pdf'), randomBytes(30_000));
    fs.rmSync(path.join(src, 'Invoices', 'INV-3.pdf'));
    second = await backupA();
    const c2 = await copy();
    expect(c2.copied.map((c) => c.from)).toEqual([second]);
    expect(c2.skipped.map((c) => c.from)).toEqual([first]);
    expect(c2.bytesAdded).toBeLessThan(200_000); // only what changed
  });

  it('a run with nothing new copies nothing (text output)', async () => {
    const r = await bulwark(['copy', '--repo', repoA, '--to-repo', repoB], {
      BULWARK_TO_PASSWORD: TO_PASSWORD,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('nothing to copy');
    expect(r.stderr).toContain('0 snapshots copied');
    expect(r.stderr).toContain('2 snapshots already there');
  });

  it('a wrong destination password is refused (exit 3)', async () => {
    const r = await bulwark(['copy', '--repo', repoA, '--to-repo', repoB], { BULWARK_TO_PASSWORD: 'wrong' });
    expect(r.code).toBe(3);
  });

  it('with A destroyed, every snapshot restores from B byte for byte, and B verifies clean', async () => {
    fs.rmSync(repoA, { recursive: true, force: true });
    const env = { BULWARK_PASSWORD: TO_PASSWORD };
    const s = await bulwark(['snapshots', '--repo', repoB, '--json'], env);
    expect(s.code, s.stderr).toBe(0);
    const snaps = JSON.parse(s.stdout) as { id: string; copiedFrom?: { snapshot: string } }[];
    expect(snaps.map((m) => m.copiedFrom?.snapshot)).toEqual([first, second]);
    for (const m of snaps) {
      const target = path.join(tmp, 'restored', m.id);
      const r = await bulwark(['restore', '--repo', repoB, m.id, '--target', target], env);
      expect(r.code, r.stderr).toBe(0);
      const expected = versions.get(m.copiedFrom?.snapshot ?? '') ?? '';
      execFileSync('diff', ['-r', expected, path.join(target, 'office')], { stdio: 'pipe' });
    }
    const v = await bulwark(['verify', '--repo', repoB, '--read-data'], env);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });
});
