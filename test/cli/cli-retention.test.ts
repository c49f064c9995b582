/**
 * `bulwark policy`, `forget`, `prune` and `audit` on a folder repository (locks recorded and honoured by
 * Bulwark itself), as a user runs them: child processes, real files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark, type Result } from './helpers.ts';

let tmp: string;
let home: string;
let repo: string;
let src: string;

function bulwark(args: string[]): Promise<Result> {
  return runBulwark(args, { home, tmp });
}

const r = (cmd: string, ...rest: string[]): Promise<Result> => bulwark([cmd, '--repo', repo, ...rest]);
const policy = (sub: string, ...rest: string[]): Promise<Result> =>
  bulwark(['policy', sub, '--repo', repo, ...rest]);
const json = <T>(x: Result): T => JSON.parse(x.stdout) as T;

/** RFC 4180 rows (quoted fields with "" escapes and embedded commas/newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  home = path.join(tmp, 'home');
  repo = path.join(tmp, 'repo');
  src = path.join(tmp, 'src');
  fs.mkdirSync(src, { recursive: true });
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('bulwark policy / forget / prune / audit', () => {
  const ids: string[] = [];

  it('sets a policy from a template, shows it in plain words', async () => {
    expect((await bulwark(['init', '--repo', repo])).code).toBe(0);
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(path.join(src, `f${i}.txt`), `version ${i}\n`.repeat(1000));
      const b = await r('backup', '--source', 'office', src);
      expect(b.code, b.stderr).toBe(0);
      ids.push(b.stdout.trim());
    }
    const bad = await policy('set', '--source', 'office', '--template', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('office-files, accounting, medical or custom');
    const set = await policy(
      'set',
      '--source',
      'office',
      '--template',
      'office-files',
      '--keep-last',
      '1',
      '--keep-daily',
      '0',
      '--keep-weekly',
      '0',
      '--keep-monthly',
      '0',
      '--keep-yearly',
      '0',
      '--lock-daily',
      '2',
      '--time-zone',
      'Europe/Berlin',
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('source office');
    expect(set.stdout).toContain(
      'Always keeps the most recent backup, each protected from deletion for 2 days',
    );
    const show = await policy('show', '--json');
    const policies = json<{ source: string; template: string; policy: { keepLast: number } }[]>(show);
    expect(policies).toMatchObject([{ source: 'office', template: 'office-files', policy: { keepLast: 1 } }]);
  });

  it('forget keeps what is still locked by the recorded date and says until when', async () => {
    const dry = await r('forget', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/kept +\w{8} .*locked until \d{4}-\d\d-\d\d .*daily lock of the policy/);
    expect(dry.stdout).toContain('0 snapshots would be forgotten, 2 kept because still locked');
    const f = await r('forget', '--json');
    const res = json<{ forgotten: number; locked: number }>(f);
    expect(res).toMatchObject({ forgotten: 0, locked: 2 });
    const snaps = json<unknown[]>(await r('snapshots', '--json'));
    expect(snaps).toHaveLength(3);
  });

  it('forget removes them once the policy no longer locks them; prune marks their data', async () => {
    const set = await policy(
      'set',
      '--source',
      'office',
      '--template',
      'custom',
      '--keep-last',
      '1',
      '--keep-daily',
      '0',
      '--keep-weekly',
      '0',
      '--keep-monthly',
      '0',
      '--lock-daily',
      '0',
      '--lock-weekly',
      '0',
      '--lock-monthly',
      '0',
      '--lock-yearly',
      '0',
    );
    expect(set.code, set.stderr).toBe(0);
    const f = await r('forget');
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toContain('2 snapshots forgotten');
    expect(f.stdout).toContain(`forget  ${ids[0]!.slice(0, 8)}`);
    const snaps = json<{ id: string }[]>(await r('snapshots', '--json'));
    expect(snaps.map((s) => s.id)).toEqual([ids[2]]);
    // the hash chain still verifies: forget left each removed snapshot's hash behind
    const v = await r('verify');
    expect(v.code, v.stdout + v.stderr).toBe(0);

    const dry = await r('prune', '--dry-run', '--json');
    const d = json<{ marked: string[]; deleted: unknown[] }>(dry);
    expect(d.marked.length).toBeGreaterThan(0);
    const p = await r('prune');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`marked:   ${d.marked.length} unused pack`);
    expect(p.stdout).toMatch(/deleted: +0 packs/);
    const again = json<{ waiting: unknown[]; deleted: unknown[] }>(await r('prune', '--json'));
    expect(again.deleted).toEqual([]);
    expect(again.waiting.length).toBe(d.marked.length);
    // the latest snapshot still restores in full
    const out = path.join(tmp, 'restored');
    const rs = await r('restore', 'latest', '--target', out);
    expect(rs.code, rs.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'src', 'f2.txt'), 'utf8')).toBe('version 2\n'.repeat(1000));
  });

  it('audit prints every operation with time and origin, also as CSV and without the catalog', async () => {
    const t = await r('audit');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout.split('\n')[0]).toMatch(/^TIME +ORIGIN +ACTION +SUBJECT +DETAILS$/);
    expect(t.stdout).toMatch(/cli \S+@\S+ +policy-set +office/);

    const csv = await r('audit', '--csv');
    expect(csv.code, csv.stderr).toBe(0);
    const rows = parseCsv(csv.stdout);
    expect(rows[0]).toEqual(['time', 'actor', 'host', 'user', 'action', 'subject', 'details']);
    const body = rows.slice(1);
    const count = (a: string): number => body.filter((x) => x[4] === a).length;
    expect(count('backup')).toBe(3);
    expect(count('policy-set')).toBe(2);
    expect(count('forget')).toBe(2); // the dry run changed nothing and is not recorded
    expect(count('prune')).toBe(2);
    expect(count('restore')).toBe(1);
    expect(count('verify')).toBe(1);
    for (const row of body) {
      expect(row).toHaveLength(7);
      expect(Number.isFinite(Date.parse(row[0]!))).toBe(true);
      expect(row[1]).toBe('cli');
      expect(row[2]).toBe(os.hostname());
      expect(row[3]!.length).toBeGreaterThan(0);
    }
    const forgets = body
      .filter((x) => x[4] === 'forget')
      .map((x) => JSON.parse(x[6]!) as { forgotten: string[] });
    expect(forgets.map((x) => x.forgotten.sort())).toEqual([[], [ids[0]!, ids[1]!].sort()]);

    // A lost computer: a new catalog, and the same log, read from the repository.
    const fresh = await r('audit', '--json', '--catalog', path.join(tmp, 'new-catalog.db'));
    expect(fresh.code, fresh.stderr).toBe(0);
    const log = json<{ entries: { action: string }[]; damaged: string[] }>(fresh);
    expect(log.entries).toHaveLength(body.length);
    expect(log.damaged).toEqual([]);

    const both = await r('audit', '--csv', '--json');
    expect(both.code).toBe(2);
  });
});
