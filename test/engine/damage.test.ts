import {
  chmodSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import { verifyRepository } from '../../src-main/engine/ops/verify.ts';
import { Repository } from '../../src-main/engine/repo/repository.ts';
import { readPackTrailer } from '../../src-main/engine/repo/pack.ts';
import { makeFsRepo, tempDir, type TestRepo } from './helpers/repo.ts';
import { randomBytes } from 'node:crypto';

function packFiles(repoDir: string): string[] {
  const out: string[] = [];
  const root = join(repoDir, 'repo', 'packs');
  for (const d of readdirSync(root)) for (const f of readdirSync(join(root, d))) out.push(join(root, d, f));
  return out;
}

describe('damage and bad passwords', () => {
  let t: TestRepo | undefined;
  afterEach(() => t?.cleanup());

  it('verify --read-data names the damaged pack and the affected files when one byte is flipped', async () => {
    t = await makeFsRepo('damage');
    const src = tempDir('damage-src');
    mkdirSync(join(src, 'docs'));
    for (let i = 0; i < 20; i++) writeFileSync(join(src, 'docs', `f${i}.bin`), randomBytes(50_000 + i));
    const snap = await backup(t.repo, { paths: [src] });
    expect((await verifyRepository(t.repo, { readData: true })).ok).toBe(true);

    // Flip one byte inside the first data blob of a data pack.
    let flipped: { pack: string; blobId: string } | undefined;
    for (const file of packFiles(t.dir)) {
      const id = file.slice(file.lastIndexOf('/') + 1);
      const blobs = await readPackTrailer(t.store, t.repo.key.encKey, id, statSync(file).size);
      const data = blobs.find((b) => b.kind === 'data');
      if (!data) continue;
      chmodSync(file, 0o644);
      const fd = openSync(file, 'r+');
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, data.offset + 40);
      b[0] = b[0]! ^ 0x01;
      writeSync(fd, b, 0, 1, data.offset + 40);
      closeSync(fd);
      flipped = { pack: id, blobId: data.id };
      break;
    }
    expect(flipped).toBeDefined();
    // Structure alone does not read data; read-data catches the flip.
    const report = await verifyRepository(t.repo, { readData: true });
    expect(report.ok).toBe(false);
    const p = report.problems.find((x) => x.kind === 'damaged-pack');
    expect(p?.object).toBe(`packs/${flipped!.pack.slice(0, 2)}/${flipped!.pack}`);
    expect(p?.message).toMatch(/authentication failed|damaged/);
    expect(p?.affected?.length).toBeGreaterThan(0);
    expect(p?.affected?.every((a) => a.startsWith(`${snap.id}:`) && a.includes('/docs/f'))).toBe(true);
  });

  it('a wrong password fails with WRONG_PASSWORD and a hint', async () => {
    t = await makeFsRepo('badpw');
    await expect(
      Repository.open(t.store, 'not the password', Catalog.open(':memory:')),
    ).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
      message: expect.stringContaining('wrong password'),
      hint: expect.stringContaining('BULWARK_PASSWORD'),
    });
  });

  it('opening a folder that holds no repository says so', async () => {
    const { FsStore } = await import('../../src-main/engine/storage/fs.ts');
    const empty = tempDir('norepo');
    await expect(
      Repository.open(new FsStore({ root: empty }), 'x', Catalog.open(':memory:')),
    ).rejects.toMatchObject({
      code: 'REPO_NOT_FOUND',
      // never "create one": on an unmounted share that would start an empty repository beside the real one
      hint: expect.stringContaining('mounted'),
    });
  });
});
