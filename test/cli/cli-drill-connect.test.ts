/**
 * Restore drills and disaster recovery from the command line, as real CLI processes on a folder repository:
 * a drill of a healthy repository passes and reports a time; `bulwark connect` on a new computer (a fresh
 * BULWARK_HOME) rebuilds the catalog from the repository and the password, and a restore there gives back
 * the source byte for byte; once a pack is damaged, a drill fails (exit 1) and names the files; the report
 * (JSON, and printable HTML) lists the drills with their results.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark, type Result } from './helpers.ts';
import { treeOf } from './tree.ts';

let tmp: string;
let src: string;
let repo: string;

const bulwark = (args: string[], home = 'home'): Promise<Result> =>
  runBulwark(args, { home: path.join(tmp, home), tmp });

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  src = path.join(tmp, 'office');
  fs.mkdirSync(path.join(src, 'Invoices', '2025'), { recursive: true });
  fs.mkdirSync(path.join(src, 'Letters'));
  for (let i = 0; i < 12; i++)
    fs.writeFileSync(path.join(src, 'Invoices', '2025', `INV-${i}.pdf`), randomBytes(30_000 + i * 7));
  fs.writeFileSync(path.join(src, 'Letters', 'welcome.txt'), 'Dear customer,\n');
  fs.writeFileSync(path.join(src, 'Letters', 'empty.txt'), '');
  fs.writeFileSync(path.join(src, 'big.bin'), randomBytes(3_000_000));
  repo = path.join(tmp, 'repo');
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bulwark drill and bulwark connect', () => {
  it('a drill of a healthy repository passes and reports a time', async () => {
    expect((await bulwark(['init', '--repo', repo])).code).toBe(0);
    const b = await bulwark(['backup', '--repo', repo, src]);
    expect(b.code, b.stderr).toBe(0);
    const d = await bulwark(['drill', '--repo', repo, '--rto', '240', '--json']);
    expect(d.code, d.stderr).toBe(0);
    const r = JSON.parse(d.stdout) as {
      passed: boolean;
      filesTested: number;
      filesTotal: number;
      restoreMs: number;
      throughput: number;
      estimatedFullSeconds: number;
      rtoVerdict: string;
      snapshotId: string;
    };
    expect(r.passed).toBe(true);
    expect(r.snapshotId).toBe(b.stdout.trim());
    expect(r.filesTested).toBe(15);
    expect(r.filesTotal).toBe(15);
    expect(r.restoreMs).toBeGreaterThan(0);
    expect(r.throughput).toBeGreaterThan(0);
    expect(r.estimatedFullSeconds).toBeGreaterThan(0);
    expect(r.rtoVerdict).toBe('met');
    const text = await bulwark(['drill', '--repo', repo]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Passed: 15 files .* restored intact/);
    expect(text.stdout).toMatch(/restore took: +\S/);
  });

  it('a fresh HOME + connect + restore reproduces the source byte for byte', async () => {
    const home = 'new-computer';
    // nothing local yet: the catalog is rebuilt from the repository and the password
    expect(fs.existsSync(path.join(tmp, home))).toBe(false);
    const c = await bulwark(['connect', '--repo', repo, '--json'], home);
    expect(c.code, c.stderr).toBe(0);
    const j = JSON.parse(c.stdout) as {
      snapshots: { id: string; paths: string[] }[];
      rebuilt: { snapshots: number };
    };
    expect(j.rebuilt.snapshots).toBe(1);
    expect(j.snapshots.map((s) => s.paths)).toEqual([[src]]);
    const text = await bulwark(['connect', '--repo', repo], home);
    expect(text.stdout).toContain('connected to');
    expect(text.stdout).toContain(j.snapshots[0]!.id.slice(0, 8));

    const target = path.join(tmp, 'restored');
    const r = await bulwark(['restore', '--repo', repo, 'latest', '--target', target], home);
    expect(r.code, r.stderr).toBe(0);
    const want = treeOf(src);
    const got = treeOf(path.join(target, path.basename(src)));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) expect(got.get(k), k).toEqual(v);

    // a wrong password connects to nothing
    const bad = await runBulwark(
      ['connect', '--repo', repo],
      { home: path.join(tmp, 'other'), tmp },
      {
        BULWARK_PASSWORD: 'not it',
      },
    );
    expect(bad.code).toBe(3);
    // a folder with no repository is not created
    const none = await bulwark(['connect', '--repo', path.join(tmp, 'nothing-here')], 'other2');
    expect(none.code).toBe(1);
    expect(fs.existsSync(path.join(tmp, 'nothing-here', 'config'))).toBe(false);
  });

  it('a damaged pack fails the drill, names the files, and the report shows it', async () => {
    // one byte flipped in the middle of the largest pack (big.bin's data)
    const packs: string[] = [];
    const root = path.join(repo, 'packs');
    for (const d of fs.readdirSync(root))
      for (const f of fs.readdirSync(path.join(root, d))) packs.push(path.join(root, d, f));
    const largest = packs.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
    fs.chmodSync(largest, 0o644);
    const bytes = fs.readFileSync(largest);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x5a;
    fs.writeFileSync(largest, bytes);

    const d = await bulwark(['drill', '--repo', repo, '--full', '--json']);
    expect(d.code).toBe(1);
    const r = JSON.parse(d.stdout) as { passed: boolean; failures: { path: string; message: string }[] };
    expect(r.passed).toBe(false);
    expect(r.failures.length).toBeGreaterThan(0);
    expect(r.failures.map((f) => f.path)).toContain(`${path.basename(src)}/big.bin`);
    expect(d.stderr).toContain('the restore test failed');

    const rep = await bulwark(['drill', '--repo', repo, '--report', '--json']);
    expect(rep.code).toBe(0);
    const list = JSON.parse(rep.stdout) as { passed: boolean }[];
    expect(list.map((x) => x.passed)).toEqual([false, true, true]);
    const html = path.join(tmp, 'report.html');
    const h = await bulwark(['drill', '--repo', repo, '--report', '--html', html]);
    expect(h.code, h.stderr).toBe(0);
    const page = fs.readFileSync(html, 'utf8');
    expect(page).toContain('Restore test report');
    expect(page).toContain(`${path.basename(src)}/big.bin`);
    expect(page).toContain('15 of 15');
    expect(page.match(/class="passed">Passed</g)).toHaveLength(2);
    expect(page).toMatch(/Failed: 1 of 15 files did not come back intact/);
    const table = await bulwark(['drill', '--repo', repo, '--report']);
    expect(table.stdout).toMatch(/FAILED \(\d+\)/);
  });
});
