/**
 * A snapshot's lock closure (locks/closure.ts): every object it needs to be restored. Its blobs are looked
 * up a batch at a time, so a snapshot of more blobs than one batch (1 024) must come out exactly as one
 * lookup per blob gives it, and a blob no index lists must still be named.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { snapshotClosure } from '../../../src-main/engine/locks/closure.ts';
import { walkTree } from '../../../src-main/engine/ops/walk.ts';
import { objectNames, type SnapshotManifest } from '../../../src-main/engine/repo/format.ts';
import { makeFsRepo, type TestRepo } from '../helpers/repo.ts';

let t: TestRepo;
let snap: SnapshotManifest;

beforeAll(async () => {
  t = await makeFsRepo('closure');
  const src = join(t.dir, 'src');
  // 1 500 small files (a blob each) in 30 folders: more blobs than one lookup batch
  for (let d = 0; d < 30; d++) {
    mkdirSync(join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 50; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `file ${d}/${f}\n`);
  }
  // small packs: the blobs spread over several packs and indexes
  snap = await backup(t.repo, { paths: [src], source: 'closure', packTarget: 16 << 10, indexBlobs: 200 });
}, 60_000);
afterAll(() => t?.cleanup());

/** The closure as one lookup per blob gives it. */
async function expectedClosure(): Promise<string[]> {
  const { catalog, rid } = t.repo;
  const packs = new Set<string>([catalog.lookupBlob(rid, snap.tree)!.pack]);
  for await (const { node } of walkTree(t.repo, snap.tree)) {
    for (const b of node.content ?? []) packs.add(catalog.lookupBlob(rid, b)!.pack);
    if (node.subtree) packs.add(catalog.lookupBlob(rid, node.subtree)!.pack);
  }
  const indexOf = new Map(catalog.packs(rid).map((p) => [p.id, p.indexId]));
  const names = new Set<string>([objectNames.config]);
  for await (const k of t.repo.store.list('keys/')) names.add(k.name);
  for (const p of packs) {
    names.add(objectNames.pack(p));
    names.add(objectNames.index(indexOf.get(p)!));
  }
  return [...names].sort();
}

describe('snapshotClosure', () => {
  it('names the config, the keys, and every pack and index of a snapshot of more blobs than a batch', async () => {
    const closure = (await snapshotClosure(t.repo, snap)).sort();
    expect(closure).toEqual(await expectedClosure());
    expect(closure.filter((n) => n.startsWith('packs/')).length).toBeGreaterThan(3);
    expect(closure.filter((n) => n.startsWith('index/')).length).toBeGreaterThan(1);
  });

  it('names a blob that no index lists (the repository is damaged)', async () => {
    const { catalog, rid } = t.repo;
    let gone: string | undefined;
    for await (const { node } of walkTree(t.repo, snap.tree))
      if (node.content?.length) gone = node.content[0];
    catalog.db.prepare('DELETE FROM blobs WHERE rid = ? AND id = ?').run(rid, Buffer.from(gone!, 'hex'));
    const e = await snapshotClosure(t.repo, snap).catch((x: unknown) => x);
    expect(isBulwarkError(e, 'REPO_DAMAGED')).toBe(true);
    expect((e as Error).message).toContain(`blob ${gone!.slice(0, 12)} of snapshot ${snap.id.slice(0, 8)}`);
  });
});
