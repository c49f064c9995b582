/**
 * `bulwark restore` plans from its catalog while the key is derived (engine/ops/restore-ahead.ts) and
 * keeps that plan only if the reference still names the same snapshot once the catalog is up to date. A
 * snapshot made meanwhile on another computer is what `latest` restores, not the one this catalog knew.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark } from './helpers.ts';

let tmp: string;
let repo: string;
let src: string;
const office = (): { home: string; tmp: string } => ({ home: path.join(tmp, 'office'), tmp });
const laptop = (): { home: string; tmp: string } => ({ home: path.join(tmp, 'laptop'), tmp });

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-ahead-'));
  repo = path.join(tmp, 'repo');
  src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'report.txt'), 'first draft\n');
  fs.writeFileSync(path.join(src, 'sub', 'notes.txt'), 'notes\n');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('bulwark restore latest', () => {
  it("restores another computer's newer snapshot, not the one this computer's catalog knew", async () => {
    expect((await runBulwark(['init', '--repo', repo], office())).code).toBe(0);
    expect((await runBulwark(['backup', '--repo', repo, src], office())).code).toBe(0);
    // this computer restores it once: its catalog holds that snapshot and every listing of it
    const before = path.join(tmp, 'before');
    const r0 = await runBulwark(['restore', '--repo', repo, 'latest', '--target', before], office());
    expect(r0.code, r0.stderr).toBe(0);
    expect(fs.readFileSync(path.join(before, 'src', 'report.txt'), 'utf8')).toBe('first draft\n');

    // the laptop backs up a newer version; the office's catalog has not seen it yet
    fs.writeFileSync(path.join(src, 'report.txt'), 'final version\n');
    fs.writeFileSync(path.join(src, 'sub', 'new.txt'), 'added later\n');
    expect((await runBulwark(['backup', '--repo', repo, src], laptop())).code).toBe(0);

    const after = path.join(tmp, 'after');
    const r = await runBulwark(['restore', '--repo', repo, 'latest', '--target', after, '--json'], office());
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(after, 'src', 'report.txt'), 'utf8')).toBe('final version\n');
    expect(fs.readFileSync(path.join(after, 'src', 'sub', 'new.txt'), 'utf8')).toBe('added later\n');
    expect(fs.readFileSync(path.join(after, 'src', 'sub', 'notes.txt'), 'utf8')).toBe('notes\n');
    const laptopSnaps = JSON.parse(
      (await runBulwark(['snapshots', '--repo', repo, '--json'], laptop())).stdout,
    ) as { id: string }[];
    expect((JSON.parse(r.stdout) as { snapshotId: string }).snapshotId).toBe(laptopSnaps.at(-1)!.id);
  });
});
