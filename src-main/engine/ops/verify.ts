import { checkAuditLog } from '../audit/audit.ts';
import type { BlobLocation } from '../catalog/catalog.ts';
import { parseKeyFile } from '../crypto/keys.ts';
import { BulwarkError, isBulwarkError } from '../errors.ts';
import {
  lastSegment,
  objectNames,
  packIdFromName,
  type PackedBlob,
  type SnapshotManifest,
  type Tree,
} from '../repo/format.ts';
import { readPackTrailer } from '../repo/pack.ts';
import { getRecord, type RecordKind } from '../repo/records.ts';
import type { Repository } from '../repo/repository.ts';
import type { ForgottenRecord } from '../retention/forget.ts';
import { TaskPool } from '../util/pool.ts';
import { isDamage, noteUnreadableBlob } from './damage.ts';
import type { VerifyProblem, VerifyProblemKind, VerifyProgress, VerifyReport } from './types.ts';

const MAX_AFFECTED = 50;
const READ_PIECE = 8 << 20;

/** The sealed records read back with --read-data (the audit log is checked in every run, chain included). */
const RECORDS: readonly [prefix: string, kind: RecordKind][] = [
  ['policies/', 'policy'],
  ['tiers/', 'tier'],
  ['holds/', 'hold'],
  ['prune/', 'prune'],
];

/** Something wrong found under a tree, relative to it; `key` names the problem (one per object). */
interface Issue {
  rel: string;
  key: string;
}
const NO_ISSUES: readonly Issue[] = [];

/**
 * Checks the repository against itself, reading from the target (not the catalog's cache):
 * structure: every snapshot decrypts, its chain hash matches the previous snapshot of its source, every tree
 * decrypts and every blob a file needs is indexed in a pack that exists with the right size and was not
 * found damaged; the audit log decrypts and each writer's hash chain is complete;
 * with readData: every blob of every pack is read, decrypted, decompressed and compared with its id, and
 * every other object is read back from the repository itself (index objects the catalog already knows
 * included, policies, tiers, holds, prune records, forgotten records, keys, config).
 * Each problem names the object and the snapshot files or folders it affects, in every snapshot that uses
 * them. Damage is recorded in the catalog (damaged_blobs) so the next backup stores those parts again; a
 * damaged copy with an intact copy elsewhere is no problem (the catalog is pointed at the intact one) and
 * is mentioned in `notes`.
 */
export async function verifyRepository(
  repo: Repository,
  opts: { readData?: boolean; signal?: AbortSignal; onProgress?: (p: VerifyProgress) => void } = {},
): Promise<VerifyReport> {
  const { store, catalog, rid } = repo;
  const signal = opts.signal;
  const problems: VerifyProblem[] = [];
  const notes: string[] = [];
  const report: VerifyReport = {
    ok: true,
    snapshots: 0,
    trees: 0,
    packs: 0,
    blobsChecked: 0,
    bytesChecked: 0,
    problems,
    notes,
  };
  // One problem per damaged object, however many files it affects.
  const byKey = new Map<string, VerifyProblem>();
  const problem = (key: string, kind: VerifyProblemKind, object: string, message: string): VerifyProblem => {
    let p = byKey.get(key);
    if (!p) {
      p = { kind, object, message, affected: [] };
      byKey.set(key, p);
      problems.push(p);
    }
    return p;
  };
  const affect = (key: string, who: string): void => {
    const list = byKey.get(key)?.affected;
    if (list && list.length < MAX_AFFECTED && !list.includes(who)) list.push(who);
  };

  const packSizes = new Map<string, number>();
  for await (const o of store.list('packs/', signal)) {
    const id = packIdFromName(o.name);
    if (id) packSizes.set(id, o.size);
  }
  report.packs = packSizes.size;

  // Index objects: new ones are learned (a damaged one is listed); with readData every one is read again.
  await repo.syncIndexes(signal);
  const badIndexes = new Set(repo.damagedIndexes);
  if (opts.readData) {
    for await (const o of store.list('index/', signal)) {
      const id = lastSegment(o.name);
      if (badIndexes.has(id)) continue;
      try {
        repo.decodeIndex(await store.get(o.name, undefined, signal), id);
      } catch (e) {
        if (!isDamage(e)) throw e;
        badIndexes.add(id);
      }
    }
  }
  for (const id of badIndexes) {
    problem(
      `index:${id}`,
      'damaged-index',
      objectNames.index(id),
      'index object does not decrypt (damaged, altered or foreign)',
    );
  }

  // Snapshots, read fresh from the target.
  const snaps: { manifest: SnapshotManifest; plain: Buffer }[] = [];
  for await (const o of store.list('snapshots/', signal)) {
    const id = lastSegment(o.name);
    try {
      snaps.push(repo.decodeSnapshot(await store.get(o.name, undefined, signal), id));
    } catch (e) {
      if (!isDamage(e) && !(e instanceof SyntaxError)) throw e;
      problem(`object:${o.name}`, 'damaged-snapshot', o.name, (e as Error).message);
    }
  }
  report.snapshots = snaps.length;
  const byId = new Map(snaps.map((s) => [s.manifest.id, s]));
  // Snapshots `forget` removed left their chain hash behind (retention/forget.ts): not a broken chain.
  const forgotten = new Map<string, string>();
  for await (const o of store.list('forgotten/', signal)) {
    try {
      const r = await getRecord<ForgottenRecord>(repo, 'forgotten', o.name, signal);
      if (o.name === objectNames.forgotten(r.id)) forgotten.set(r.id, r.hash);
      else
        problem(
          `object:${o.name}`,
          'damaged-record',
          o.name,
          `names another snapshot (${String(r.id)}): altered or foreign`,
        );
    } catch (e) {
      if (!isDamage(e)) throw e;
      // It proves nothing for the chain (the successor then shows a broken chain), and is itself damage.
      problem(`object:${o.name}`, 'damaged-record', o.name, e.message);
    }
  }
  for (const s of snaps) {
    const prev = s.manifest.prev;
    if (!prev) continue;
    const p = byId.get(prev.id);
    if (!p && forgotten.get(prev.id) === prev.hash) continue;
    const name = objectNames.snapshot(s.manifest.id);
    if (!p) {
      problem(
        `chain:${name}`,
        'broken-chain',
        name,
        `the previous snapshot ${prev.id} of this source is missing (removed or never committed)`,
      );
    } else if (repo.chainHash(p.plain) !== prev.hash) {
      const altered = objectNames.snapshot(prev.id);
      problem(
        `chain:${altered}`,
        'broken-chain',
        altered,
        `snapshot ${prev.id} does not match the hash recorded by its successor ${s.manifest.id}: it was altered`,
      );
    }
  }

  if (opts.readData) await checkOtherObjects(repo, problem, signal);

  // The audit log: every object, and each writer's hash chain (small objects; checked in every run).
  const audit = await checkAuditLog(repo, signal);
  for (const f of audit.findings) {
    problem(
      `audit:${f.object}:${f.message}`,
      f.kind === 'damaged' ? 'damaged-record' : 'audit-gap',
      f.object,
      f.message,
    );
  }
  if (audit.unchained > 0) {
    notes.push(
      `${audit.unchained} audit ${audit.unchained === 1 ? 'entry was' : 'entries were'} written before the audit log was chained: ` +
        'read, but a removed one among them cannot be told',
    );
  }

  if (opts.readData) await readPacks(repo, packSizes, problem, notes, report, opts);

  // Packs the catalog locates blobs in but the repository no longer holds: those blobs are not reused.
  for (const p of catalog.packs(rid)) {
    if (packSizes.has(p.id)) continue;
    // Listed before a backup running meanwhile uploaded it? Only a pack the store says is gone is missing.
    try {
      packSizes.set(p.id, (await store.head(objectNames.pack(p.id))).size);
      continue;
    } catch (e) {
      if (!isBulwarkError(e, 'NOT_FOUND')) throw e;
    }
    const message = `${objectNames.pack(p.id)} is missing from the repository`;
    catalog.setPackDamage(
      rid,
      p.id,
      catalog.packBlobs(rid, p.id).map((b) => ({ id: b.id, message })),
      'missing-pack',
    );
  }
  // A pack found missing before that is back (put back from a copy): its blobs are usable again.
  for (const d of catalog.damagedBlobs(rid))
    if (d.reason === 'missing-pack' && packSizes.has(d.pack))
      catalog.setPackDamage(rid, d.pack, [], 'missing-pack');
  const unusable = catalog.unusableBlobs(rid);
  const why = new Map<string, string>();
  if (unusable.size > 0)
    for (const d of catalog.damagedBlobs(rid)) if (d.current) why.set(`${d.pack}:${d.id}`, d.message);

  /** The problem (created on first use) a blob a file or folder needs has, if any. */
  const checkBlob = (blob: string): { key: string; loc?: BlobLocation } | undefined => {
    const loc = catalog.lookupBlob(rid, blob);
    if (!loc) {
      const key = `blob:${blob}`;
      problem(key, 'missing-blob', `blob ${blob.slice(0, 16)}`, 'not listed in any index');
      return { key };
    }
    const name = objectNames.pack(loc.pack);
    const key = `pack:${loc.pack}`;
    const size = packSizes.get(loc.pack);
    if (size === undefined) {
      problem(key, 'missing-object', name, 'pack is missing from the repository');
      return { key, loc };
    }
    if (loc.offset + loc.length > size) {
      problem(key, 'damaged-pack', name, 'pack is shorter than its index says');
      return { key, loc };
    }
    if (unusable.has(blob)) {
      const found = why.get(`${loc.pack}:${blob}`) ?? 'found damaged';
      problem(
        key,
        'damaged-pack',
        name,
        opts.readData ? found : `${found} (found earlier, recorded in the catalog)`,
      );
      return { key, loc };
    }
    return undefined;
  };

  // Trees: each distinct tree is read once; what is wrong below it is remembered relative to it, so every
  // snapshot that shares the tree is named too (not only the first one that reached it).
  const memo = new Map<string, readonly Issue[]>();
  const issuesOf = async (treeId: string): Promise<readonly Issue[]> => {
    const known = memo.get(treeId);
    if (known) return known;
    const found: Issue[] = [];
    const perKey = new Map<string, number>();
    const seen = new Set<string>();
    const add = (rel: string, key: string): void => {
      const n = perKey.get(key) ?? 0;
      // a file with several blobs in one damaged pack is one affected file; MAX_AFFECTED are named at most
      if (n >= MAX_AFFECTED || seen.has(`${key}\0${rel}`)) return;
      seen.add(`${key}\0${rel}`);
      perKey.set(key, n + 1);
      found.push({ rel, key });
    };
    const own = checkBlob(treeId);
    let tree: Tree | undefined;
    if (own) add('', own.key);
    else {
      try {
        tree = JSON.parse((await repo.readBlob(treeId, signal)).toString('utf8')) as Tree;
        report.trees++;
      } catch (e) {
        if (!isDamage(e) && !(e instanceof SyntaxError)) throw e;
        noteUnreadableBlob(repo, treeId, e);
        const key = `tree:${treeId}`;
        problem(key, 'damaged-blob', `tree ${treeId.slice(0, 16)}`, (e as Error).message);
        add('', key);
      }
    }
    for (const n of tree?.nodes ?? []) {
      for (const b of n.content ?? []) {
        const issue = checkBlob(b);
        if (issue) add(n.name, issue.key);
      }
      if (n.subtree)
        for (const i of await issuesOf(n.subtree)) add(i.rel ? `${n.name}/${i.rel}` : n.name, i.key);
    }
    const result = found.length > 0 ? found : NO_ISSUES;
    memo.set(treeId, result);
    return result;
  };
  let done = 0;
  for (const s of snaps) {
    opts.onProgress?.({ phase: 'structure', done: done++, total: snaps.length });
    for (const i of await issuesOf(s.manifest.tree)) affect(i.key, `${s.manifest.id}:${i.rel || '/'}`);
  }

  report.ok = problems.length === 0;
  if (notes.length === 0) delete report.notes;
  return report;
}

type AddProblem = (key: string, kind: VerifyProblemKind, object: string, message: string) => VerifyProblem;

/** --read-data: keys parse, the config is the authenticated one, and every sealed record decrypts. */
async function checkOtherObjects(
  repo: Repository,
  problem: AddProblem,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { store } = repo;
  for await (const o of store.list('keys/', signal)) {
    try {
      parseKeyFile(await store.get(o.name, undefined, signal), o.name);
    } catch (e) {
      if (!isBulwarkError(e) || !['CORRUPT', 'UNSUPPORTED', 'INVALID_ARGUMENT', 'NOT_FOUND'].includes(e.code))
        throw e;
      problem(`object:${o.name}`, 'damaged-key', o.name, `not a usable key object: ${e.message}`);
    }
  }
  try {
    const stored = JSON.parse(
      (await store.get(objectNames.config, undefined, signal)).toString('utf8'),
    ) as unknown;
    if (JSON.stringify(stored) !== JSON.stringify(repo.config))
      problem(
        'object:config',
        'damaged-config',
        objectNames.config,
        'the config object differs from the one the key authenticates (altered or replaced); Bulwark uses the authenticated one',
      );
  } catch (e) {
    if (!isDamage(e) && !(e instanceof SyntaxError)) throw e;
    problem(
      'object:config',
      'damaged-config',
      objectNames.config,
      `config unreadable: ${(e as Error).message}`,
    );
  }
  for (const [prefix, kind] of RECORDS) {
    for await (const o of store.list(prefix, signal)) {
      try {
        await getRecord(repo, kind, o.name, signal);
      } catch (e) {
        if (!isDamage(e)) throw e;
        problem(`object:${o.name}`, 'damaged-record', o.name, e.message);
      }
    }
  }
}

/**
 * --read-data: reads every blob of every pack. Damage is recorded in the catalog per pack; a damaged blob
 * the catalog locates elsewhere, or that this run found intact in another pack (the catalog is pointed
 * there), affects no file and is only noted.
 */
async function readPacks(
  repo: Repository,
  packSizes: ReadonlyMap<string, number>,
  problem: AddProblem,
  notes: string[],
  report: VerifyReport,
  opts: { signal?: AbortSignal; onProgress?: (p: VerifyProgress) => void },
): Promise<void> {
  const { store, catalog, rid } = repo;
  const signal = opts.signal;
  const damaged = new Map<string, { id: string; message: string }[]>(); // pack -> blobs that do not authenticate
  const unreadable = new Map<string, string>(); // pack -> why (not read: proves nothing about the blobs)
  // Intact copies of blobs the catalog locates in another pack (rare: a blob stored twice).
  const copies = new Map<string, BlobLocation>();
  let i = 0;
  // Packs are read in pieces of up to 8 MiB (one GET covers many blobs), 4 packs at a time.
  const pool = new TaskPool(4);
  for (const [packId, size] of packSizes) {
    await pool.add(async () => {
      opts.onProgress?.({ phase: 'data', done: i++, total: packSizes.size });
      const name = objectNames.pack(packId);
      let blobs: PackedBlob[];
      try {
        blobs = await readPackTrailer(store, repo.key.encKey, packId, size);
      } catch (e) {
        if (!isDamage(e)) throw e;
        // Without its trailer a pack cannot be adopted or repaired; its blobs are still checked where an
        // index says they are.
        blobs = catalog.packBlobs(rid, packId);
        problem(
          `trailer:${packId}`,
          'damaged-pack',
          name,
          `trailer unreadable: ${e.message}` +
            (blobs.length > 0 ? '' : '; no index lists its blobs: its contents could not be checked'),
        );
      }
      blobs.sort((a, b) => a.offset - b.offset);
      const bad: { id: string; message: string }[] = [];
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
        try {
          piece = await store.get(name, { offset: first.offset, length: end - first.offset }, signal);
        } catch (e) {
          if (!isDamage(e)) throw e;
          unreadable.set(packId, e.message);
        }
        for (const b of piece ? blobs.slice(k, j) : []) {
          try {
            const rel = b.offset - first.offset;
            repo.openBlob(b.id, piece!.subarray(rel, rel + b.length), b.rawLength, packId);
            report.blobsChecked++;
            report.bytesChecked += b.length;
            const loc = catalog.lookupBlob(rid, b.id);
            if (loc && loc.pack !== packId) copies.set(b.id, { ...b, pack: packId });
          } catch (e) {
            if (!isDamage(e)) throw e;
            bad.push({ id: b.id, message: e.message });
          }
        }
        k = j;
      }
      if (bad.length > 0) damaged.set(packId, bad);
      if (!unreadable.has(packId)) catalog.setPackDamage(rid, packId, bad, 'damaged');
    });
  }
  await pool.drain();

  for (const [packId, why] of unreadable) {
    problem(`pack:${packId}`, 'damaged-pack', objectNames.pack(packId), `could not be read: ${why}`);
  }
  for (const [packId, bad] of damaged) {
    const name = objectNames.pack(packId);
    let current = 0;
    for (const b of bad) {
      const loc = catalog.lookupBlob(rid, b.id);
      if (loc?.pack !== packId) continue; // located elsewhere (or unused): nothing depends on this copy
      const copy = copies.get(b.id);
      if (copy) catalog.relocateBlob(rid, b.id, copy);
      else current++;
    }
    const what = `${bad.length} blob${bad.length === 1 ? '' : 's'} that do${bad.length === 1 ? 'es' : ''} not authenticate`;
    if (current > 0) {
      problem(`pack:${packId}`, 'damaged-pack', name, `${bad[0]!.message} (${what})`);
    } else {
      notes.push(
        `${name}: ${what}; each is stored intact in another pack or used by no snapshot, so no file is affected ` +
          '(the damaged copy stays: the repository is written once)',
      );
    }
  }
}

export function describeVerifyFailure(r: VerifyReport): BulwarkError {
  return new BulwarkError('REPO_DAMAGED', `verify found ${r.problems.length} problem(s)`, {
    hint: 'The files listed cannot be restored intact from the damaged objects. Keep the repository as it is; run a new backup to store those files again.',
  });
}
