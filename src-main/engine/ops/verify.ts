import { BulwarkError, isBulwarkError } from '../errors.ts';
import { lastSegment, objectNames, packIdFromName, type SnapshotManifest } from '../repo/format.ts';
import { readPackTrailer } from '../repo/pack.ts';
import { getRecord } from '../repo/records.ts';
import type { Repository } from '../repo/repository.ts';
import type { ForgottenRecord } from '../retention/forget.ts';
import { TaskPool } from '../util/pool.ts';
import type { VerifyProblem, VerifyProgress, VerifyReport } from './types.ts';

const MAX_AFFECTED = 50;
const READ_PIECE = 8 << 20;

/**
 * Checks the repository against itself, reading from the target (not the catalog's cache):
 * structure: every snapshot decrypts, its chain hash matches the previous snapshot of its source, every tree
 * decrypts and every blob a file needs is indexed in a pack that exists with the right size;
 * with readData: every blob of every pack is read, decrypted, decompressed and compared with its id.
 * Each problem names the object and the snapshot files it affects.
 */
export async function verifyRepository(
  repo: Repository,
  opts: { readData?: boolean; signal?: AbortSignal; onProgress?: (p: VerifyProgress) => void } = {},
): Promise<VerifyReport> {
  const { store, catalog, rid } = repo;
  const problems: VerifyProblem[] = [];
  const report: VerifyReport = {
    ok: true,
    snapshots: 0,
    trees: 0,
    packs: 0,
    blobsChecked: 0,
    bytesChecked: 0,
    problems,
  };

  const packSizes = new Map<string, number>();
  for await (const o of store.list('packs/', opts.signal)) {
    const id = packIdFromName(o.name);
    if (id) packSizes.set(id, o.size);
  }
  report.packs = packSizes.size;
  await repo.syncIndexes(opts.signal);
  for (const id of repo.damagedIndexes) {
    problems.push({
      kind: 'damaged-index',
      object: objectNames.index(id),
      message: 'index object does not decrypt (damaged, altered or foreign)',
    });
  }

  // Snapshots, read fresh from the target.
  const snaps: { manifest: SnapshotManifest; plain: Buffer }[] = [];
  for await (const o of store.list('snapshots/', opts.signal)) {
    const id = lastSegment(o.name);
    try {
      snaps.push(repo.decodeSnapshot(await store.get(o.name, undefined, opts.signal), id));
    } catch (e) {
      problems.push({ kind: 'damaged-snapshot', object: o.name, message: (e as Error).message });
    }
  }
  report.snapshots = snaps.length;
  const byId = new Map(snaps.map((s) => [s.manifest.id, s]));
  // Snapshots `forget` removed left their chain hash behind (retention/forget.ts): not a broken chain.
  const forgotten = new Map<string, string>();
  for await (const o of store.list('forgotten/', opts.signal)) {
    try {
      const r = await getRecord<ForgottenRecord>(repo, 'forgotten', o.name, opts.signal);
      if (o.name === objectNames.forgotten(r.id)) forgotten.set(r.id, r.hash);
    } catch (e) {
      if (!isBulwarkError(e, 'CORRUPT')) throw e; // a damaged record proves nothing: the chain shows broken
    }
  }
  for (const s of snaps) {
    const prev = s.manifest.prev;
    if (!prev) continue;
    const p = byId.get(prev.id);
    if (!p && forgotten.get(prev.id) === prev.hash) continue;
    if (!p) {
      problems.push({
        kind: 'broken-chain',
        object: objectNames.snapshot(s.manifest.id),
        message: `the previous snapshot ${prev.id} of this source is missing (removed or never committed)`,
      });
    } else if (repo.chainHash(p.plain) !== prev.hash) {
      problems.push({
        kind: 'broken-chain',
        object: objectNames.snapshot(prev.id),
        message: `snapshot ${prev.id} does not match the hash recorded by its successor ${s.manifest.id}: it was altered`,
      });
    }
  }

  // Trees and file contents: which packs each snapshot file depends on.
  const seenTrees = new Set<string>();
  const affected = new Map<string, string[]>(); // pack id -> "snap:path"
  const blobFiles = new Map<string, string[]>(); // blob id -> "snap:path" (filled only in the second pass)
  const note = (pack: string, who: string): void => {
    const list = affected.get(pack) ?? [];
    if (list.length < MAX_AFFECTED && !list.includes(who)) list.push(who);
    affected.set(pack, list);
  };
  const checkBlob = (blob: string, who: string): void => {
    const loc = catalog.lookupBlob(rid, blob);
    if (!loc) {
      problems.push({
        kind: 'missing-blob',
        object: `blob ${blob.slice(0, 16)}`,
        message: 'not listed in any index',
        affected: [who],
      });
      return;
    }
    const size = packSizes.get(loc.pack);
    if (size === undefined) {
      problems.push({
        kind: 'missing-object',
        object: objectNames.pack(loc.pack),
        message: 'pack is missing from the repository',
        affected: [who],
      });
    } else if (loc.offset + loc.length > size) {
      problems.push({
        kind: 'damaged-pack',
        object: objectNames.pack(loc.pack),
        message: 'pack is shorter than its index says',
        affected: [who],
      });
    }
    note(loc.pack, who);
  };
  const walk = async (
    snapId: string,
    treeId: string,
    prefix: string,
    collect?: Set<string>,
  ): Promise<void> => {
    let tree;
    try {
      const plain = await repo.readBlob(treeId, opts.signal);
      tree = JSON.parse(plain.toString('utf8')) as {
        nodes: { name: string; type: string; content?: string[]; subtree?: string }[];
      };
    } catch (e) {
      if (!collect)
        problems.push({
          kind: 'damaged-blob',
          object: `tree ${treeId.slice(0, 16)}`,
          message: (e as Error).message,
          affected: [`${snapId}:${prefix || '/'}`],
        });
      return;
    }
    if (!collect) {
      checkBlob(treeId, `${snapId}:${prefix || '/'}`);
      report.trees++;
    }
    for (const n of tree.nodes) {
      const p = prefix ? `${prefix}/${n.name}` : n.name;
      const who = `${snapId}:${p}`;
      if (n.content) {
        for (const b of n.content) {
          if (collect) {
            if (collect.has(b)) {
              const list = blobFiles.get(b) ?? [];
              if (list.length < MAX_AFFECTED) list.push(who);
              blobFiles.set(b, list);
            }
          } else checkBlob(b, who);
        }
      }
      if (n.subtree && (collect || !seenTrees.has(n.subtree))) {
        if (!collect) seenTrees.add(n.subtree);
        await walk(snapId, n.subtree, p, collect);
      }
    }
  };
  let done = 0;
  for (const s of snaps) {
    opts.onProgress?.({ phase: 'structure', done: done++, total: snaps.length });
    await walk(s.manifest.id, s.manifest.tree, '');
  }

  if (opts.readData) {
    const damagedBlobs = new Map<string, { pack: string; message: string }>();
    // Packs are read in pieces of up to 8 MiB (one GET covers many blobs), 4 packs at a time.
    let i = 0;
    const pool = new TaskPool(4);
    for (const [packId, size] of packSizes) {
      await pool.add(async () => {
        opts.onProgress?.({ phase: 'data', done: i++, total: packSizes.size });
        const name = objectNames.pack(packId);
        let blobs;
        try {
          blobs = await readPackTrailer(store, repo.key.encKey, packId, size);
        } catch (e) {
          if (isBulwarkError(e, 'CANCELED')) throw e;
          problems.push({
            kind: 'damaged-pack',
            object: name,
            message: `trailer unreadable: ${(e as Error).message}`,
            affected: affected.get(packId) ?? [],
          });
          return;
        }
        blobs.sort((a, b) => a.offset - b.offset);
        let packProblem: string | undefined;
        for (let k = 0; k < blobs.length;) {
          // one piece: consecutive blobs up to 8 MiB (a single larger blob is read alone)
          const first = blobs[k]!;
          let end = first.offset + first.length;
          let j = k + 1;
          while (j < blobs.length && blobs[j]!.offset + blobs[j]!.length - first.offset <= READ_PIECE) {
            end = blobs[j]!.offset + blobs[j]!.length;
            j++;
          }
          let piece: Buffer | undefined;
          let pieceError: string | undefined;
          try {
            piece = await store.get(name, { offset: first.offset, length: end - first.offset }, opts.signal);
          } catch (e) {
            if (isBulwarkError(e, 'CANCELED')) throw e;
            pieceError = (e as Error).message;
          }
          for (const b of blobs.slice(k, j)) {
            try {
              if (!piece) throw new BulwarkError('CORRUPT', pieceError ?? 'unreadable');
              const rel = b.offset - first.offset;
              repo.openBlob(b.id, piece.subarray(rel, rel + b.length), b.rawLength, packId);
              report.blobsChecked++;
              report.bytesChecked += b.length;
            } catch (e) {
              packProblem ??= (e as Error).message;
              damagedBlobs.set(b.id, { pack: packId, message: (e as Error).message });
            }
          }
          k = j;
        }
        if (packProblem) {
          problems.push({ kind: 'damaged-pack', object: name, message: packProblem, affected: [] });
        }
      });
    }
    await pool.drain();
    if (damagedBlobs.size > 0) {
      // Second pass: name the files whose contents went through a damaged blob.
      const ids = new Set(damagedBlobs.keys());
      for (const s of snaps) await walk(s.manifest.id, s.manifest.tree, '', ids);
      for (const p of problems) {
        if (p.kind !== 'damaged-pack' || p.affected?.length) continue;
        const pack = packIdFromName(p.object);
        const files = new Set<string>();
        for (const [blob, info] of damagedBlobs)
          if (info.pack === pack) for (const f of blobFiles.get(blob) ?? []) files.add(f);
        p.affected = [...files].slice(0, MAX_AFFECTED);
      }
    }
  }
  report.ok = problems.length === 0;
  return report;
}

export function describeVerifyFailure(r: VerifyReport): BulwarkError {
  return new BulwarkError('REPO_DAMAGED', `verify found ${r.problems.length} problem(s)`, {
    hint: 'The files listed cannot be restored intact from the damaged objects. Keep the repository as it is; run a new backup to store those files again.',
  });
}
