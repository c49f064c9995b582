/**
 * One byte flipped in a random object of each kind, each in its own copy of a folder repository that holds
 * two snapshots of one source (v1, then v2), a retention policy and a tier record (forget). Per object kind
 * and trial: the copy is opened from the same computer (a copy of its BULWARK_HOME: catalog and tree cache)
 * or from a new computer (an empty one), chosen at random. Then:
 *   1. `verify --read-data`: its exit status, and whether it names the object (and, for a blob, every file
 *      or folder that needs it, in every snapshot);
 *   2. every snapshot restored and compared with the source as it was: a file may be missing only if verify
 *      named it (or its folder, or its whole snapshot); a file with other bytes under its real name is loss
 *      whatever was named;
 *   3. the next normal backup (after the step the product documents: `verify --locks --acknowledge` for a
 *      changed config, putting back the key object for a key, which has no other copy), `verify --read-data`
 *      and restore latest = the source; files named lost before are tried again (were they really lost?).
 * A config or key flip that changes nothing the product reads (whitespace, the key's unauthenticated
 * "host"/"created") cannot be noticed and is counted as harmless, not as undetected.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Catalog } from '../../src-main/engine/catalog/catalog.ts';
import type { Tree } from '../../src-main/engine/repo/format.ts';
import { Repository } from '../../src-main/engine/repo/repository.ts';
import { FsStore } from '../../src-main/engine/storage/fs.ts';
import { brief, PASSWORD, said, snapshotIds, type CliResult } from './cli.ts';
import {
  copyTree,
  newTrial,
  plainFailure,
  rmTree,
  SOURCE_NAME,
  type KindContext,
  type Rand,
  type TrialResult,
} from './common.ts';
import { mutateSource } from './kill.ts';
import { compare, describe, isIdentical, manifest, type Manifest } from './tree.ts';

/** Object kinds, in table order; the last four only where the repository holds such objects. */
export const FLIP_TARGETS = [
  'config',
  'keys',
  'packs (data blob)',
  'packs (tree blob)',
  'packs (trailer)',
  'index',
  'snapshots',
  'audit',
  'policies',
  'tiers',
  'holds',
  'forgotten',
  'prune',
] as const;
export type FlipTarget = (typeof FLIP_TARGETS)[number];

/** A blob of the master repository: where it lies and who needs it ("<snapshot>:<path>"). */
interface BlobUse {
  pack: string;
  offset: number;
  length: number;
  users: Set<string>;
}

interface Master {
  dir: string;
  repo: string;
  home: string;
  /** the source (in state v2 now): the next backups read it */
  src: string;
  snapshots: { id: string; want: Manifest }[];
  dataBlobs: Map<string, BlobUse>;
  treeBlobs: Map<string, BlobUse>;
  /** pack id -> where its trailer starts, its size */
  packs: Map<string, { trailerAt: number; size: number }>;
}

const rel = (root: string, file: string): string => path.relative(root, file).split(path.sep).join('/');

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !e.name.startsWith('.')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Builds the master repository: v1 backed up, a policy, v2 backed up, forget (a tier record). */
async function buildMaster(ctx: KindContext, seed: number): Promise<Master> {
  const dir = path.join(ctx.work, 'master');
  const src = path.join(dir, 'src', SOURCE_NAME);
  const repo = path.join(dir, 'repo');
  const home = path.join(dir, 'home');
  copyTree(ctx.corpus.v1, src);
  const cli = ctx.cli(home);
  const r = ['--repo', repo];
  const must = async (args: string[]): Promise<CliResult> => {
    const x = await cli.run(args);
    if (x.code !== 0) throw new Error(`setting up the repository: ${brief(x, 6)}`);
    return x;
  };
  await must(['init', ...r, '-q']);
  await must(['backup', ...r, src, '-q']);
  const list = JSON.parse((await must(['snapshots', ...r, '--json', '-q'])).stdout) as { source: string }[];
  const source = list[0]?.source ?? '';
  await must(['policy', 'set', ...r, '--source', source, '--template', 'office', '-q']);
  mutateSource(src, seed);
  await must(['backup', ...r, src, '-q']);
  await must(['forget', ...r, '-q']);
  await must(['prune', ...r, '-q']);
  const ids = (await snapshotIds(cli, r)) ?? [];
  if (ids.length !== 2) throw new Error(`expected 2 snapshots, found ${ids.length}`);
  const master: Master = {
    dir,
    repo,
    home,
    src,
    snapshots: [
      { id: ids[0]!, want: ctx.corpus.m1 },
      { id: ids[1]!, want: ctx.corpus.m2 },
    ],
    dataBlobs: new Map(),
    treeBlobs: new Map(),
    packs: new Map(),
  };
  await mapBlobs(master);
  return master;
}

/** Reads the master repository with the engine (a throw-away catalog): which blob is where, and whose. */
async function mapBlobs(m: Master): Promise<void> {
  const catalog = Catalog.open(':memory:');
  try {
    const repo = await Repository.open(new FsStore({ root: m.repo }), PASSWORD, catalog);
    await repo.syncIndexes();
    await repo.syncSnapshots();
    const use = (map: Map<string, BlobUse>, id: string, who: string): void => {
      let u = map.get(id);
      if (!u) {
        const loc = catalog.lookupBlob(repo.rid, id);
        if (!loc) throw new Error(`blob ${id} is not indexed in the master repository`);
        u = { pack: loc.pack, offset: loc.offset, length: loc.length, users: new Set() };
        map.set(id, u);
      }
      u.users.add(who);
    };
    for (const s of m.snapshots) {
      const manifest = repo.resolveSnapshot(s.id);
      const walk = async (treeId: string, at: string): Promise<void> => {
        use(m.treeBlobs, treeId, `${s.id}:${at || '/'}`);
        const tree = JSON.parse((await repo.readBlob(treeId)).toString('utf8')) as Tree;
        for (const n of tree.nodes) {
          const p = at ? `${at}/${n.name}` : n.name;
          for (const b of n.content ?? []) use(m.dataBlobs, b, `${s.id}:${p}`);
          if (n.subtree) await walk(n.subtree, p);
        }
      };
      await walk(manifest.tree, '');
    }
    for (const p of catalog.packs(repo.rid)) {
      const end = Math.max(0, ...catalog.packBlobs(repo.rid, p.id).map((b) => b.offset + b.length));
      m.packs.set(p.id, { trailerAt: end, size: p.size });
    }
  } finally {
    catalog.close();
  }
}

/** What to flip: the object (relative to the repository) and the byte, and what it means. */
interface Flip {
  object: string;
  offset: number;
  xor: number;
  /** the blob hit, for a pack: its users are the files verify must name */
  blob?: { id: string; kind: 'data' | 'tree'; users: Set<string> };
  what: string;
}

function chooseFlip(target: FlipTarget, m: Master, rand: Rand): Flip | undefined {
  const xor = rand.between(1, 255);
  const packName = (id: string): string => `packs/${id.slice(0, 2)}/${id}`;
  if (target === 'packs (data blob)' || target === 'packs (tree blob)') {
    const map = target === 'packs (data blob)' ? m.dataBlobs : m.treeBlobs;
    const ids = [...map.keys()].sort();
    if (ids.length === 0) return undefined;
    const id = rand.pick(ids);
    const u = map.get(id)!;
    const offset = u.offset + rand.int(u.length);
    const kind = target === 'packs (data blob)' ? 'data' : 'tree';
    const who = [...u.users].slice(0, 2).join(', ') + (u.users.size > 2 ? ', …' : '');
    return {
      object: packName(u.pack),
      offset,
      xor,
      blob: { id, kind, users: u.users },
      what: `${kind} blob ${id.slice(0, 12)} (${who})`,
    };
  }
  if (target === 'packs (trailer)') {
    const ids = [...m.packs.keys()].sort();
    if (ids.length === 0) return undefined;
    const id = rand.pick(ids);
    const p = m.packs.get(id)!;
    const offset = p.trailerAt + rand.int(Math.max(1, p.size - p.trailerAt));
    return { object: packName(id), offset, xor, what: `trailer byte ${offset - p.trailerAt}` };
  }
  const files = target === 'config' ? [path.join(m.repo, 'config')] : filesUnder(path.join(m.repo, target));
  if (files.length === 0) return undefined;
  const file = rand.pick(files);
  const size = fs.statSync(file).size;
  const offset = rand.int(size);
  const bytes = fs.readFileSync(file);
  const ch = bytes[offset] ?? 0;
  const show = (c: number): string =>
    c >= 0x20 && c < 0x7f ? JSON.stringify(String.fromCharCode(c)) : `0x${c.toString(16)}`;
  const what =
    target === 'config' || target === 'keys'
      ? `byte ${offset} of ${size} ${show(ch)} -> ${show(ch ^ xor)} in ${jsonContext(bytes, offset)}`
      : `byte ${offset} of ${size}`;
  return { object: rel(m.repo, file), offset, xor, what };
}

/** The JSON field a byte of a config or key file lies in (for the report). */
function jsonContext(bytes: Buffer, offset: number): string {
  const text = bytes.toString('latin1');
  const before = text.slice(0, offset + 1);
  const key = /"(\w+)"\s*:\s*[^,{}]*$/.exec(before)?.[1];
  return key ? `field "${key}"` : 'the JSON structure';
}

/**
 * Whether a flipped config or key changes nothing the product reads: the same JSON for a config; for a key,
 * the same kdf parameters and sealed data strings (the "host" and "created" fields are not authenticated).
 */
function meaningUnchanged(target: FlipTarget, before: Buffer, after: Buffer): boolean {
  try {
    const a = JSON.parse(before.toString('utf8')) as Record<string, unknown>;
    const b = JSON.parse(after.toString('utf8')) as Record<string, unknown>;
    if (target === 'config') return JSON.stringify(a) === JSON.stringify(b);
    if (target === 'keys')
      return JSON.stringify([a.version, a.kdf, a.data]) === JSON.stringify([b.version, b.kdf, b.data]);
  } catch {
    return false;
  }
  return false;
}

/** What verify printed: problems (kind, object) and affected "<snapshot>:<path>" entries. */
interface VerifyOutput {
  problems: { kind: string; object: string; message: string }[];
  affected: Set<string>;
}

function parseVerify(r: CliResult): VerifyOutput {
  const out: VerifyOutput = { problems: [], affected: new Set() };
  const lines = r.stdout.split('\n');
  for (const [i, line] of lines.entries()) {
    const p = /^problem \d+: ([\w-]+): (.*)$/.exec(line);
    if (p) out.problems.push({ kind: p[1]!, object: p[2]!, message: (lines[i + 1] ?? '').trim() });
    const a = /^ {4}([0-9a-f]{32}):(.*)$/.exec(line);
    if (a) out.affected.add(`${a[1]}:${a[2]}`);
  }
  return out;
}

/** Whether `who` ("<snapshot>:<path>") is covered by what verify named (itself, a folder above, the root). */
function covered(named: Set<string>, snapshot: string, p: string): boolean {
  if (named.has(`${snapshot}:/`)) return true;
  const parts = p.split('/');
  for (let i = parts.length; i > 0; i--)
    if (named.has(`${snapshot}:${parts.slice(0, i).join('/')}`)) return true;
  return false;
}

export async function flipKind(
  ctx: KindContext,
  seed: number,
  targets: readonly FlipTarget[] = FLIP_TARGETS,
): Promise<TrialResult[]> {
  const master = await buildMaster(ctx, seed);
  ctx.log(
    `flip: master repository with 2 snapshots, ${master.dataBlobs.size} data and ${master.treeBlobs.size} tree blobs in ${master.packs.size} packs`,
  );
  const results: TrialResult[] = [];
  for (let i = 1; i <= ctx.trials; i++) {
    for (const target of targets) {
      const flip = chooseFlip(target, master, ctx.rand);
      if (!flip) continue; // no such object in this repository (holds need S3, ...)
      const computer = ctx.rand.int(2) === 0 ? 'same' : 'new';
      const t = newTrial(
        'flip',
        `flip ${target}`,
        i,
        `${flip.object}: ${flip.what} ^0x${flip.xor.toString(16).padStart(2, '0')} (${computer} computer)`,
      );
      const t0 = performance.now();
      try {
        await flipTrial(ctx, master, target, flip, computer, t, i);
      } catch (e) {
        t.problems.push(`trial failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        if (!ctx.keep) rmTree(path.join(ctx.work, `t${i}-${FLIP_TARGETS.indexOf(target)}`));
      }
      t.seconds = (performance.now() - t0) / 1000;
      ctx.log(
        `flip ${i}/${ctx.trials} ${target}: ${t.variant}: ${t.problems.length === 0 ? 'clean' : t.problems.join('; ')}`,
      );
      results.push(t);
    }
  }
  if (!ctx.keep) rmTree(master.dir);
  return results;
}

async function flipTrial(
  ctx: KindContext,
  master: Master,
  target: FlipTarget,
  flip: Flip,
  computer: 'same' | 'new',
  t: TrialResult,
  trial: number,
): Promise<void> {
  const dir = path.join(ctx.work, `t${trial}-${FLIP_TARGETS.indexOf(target)}`);
  rmTree(dir);
  const repoDir = path.join(dir, 'repo');
  copyTree(master.repo, repoDir);
  const home = path.join(dir, 'home');
  if (computer === 'same') copyTree(master.home, home);
  else fs.mkdirSync(home, { recursive: true });
  const cli = ctx.cli(home);
  const repo = ['--repo', repoDir];

  const file = path.join(repoDir, flip.object);
  fs.chmodSync(file, 0o644);
  const before = fs.readFileSync(file);
  const after = Buffer.from(before);
  after[flip.offset] = (after[flip.offset] ?? 0) ^ flip.xor;
  fs.writeFileSync(file, after);
  const harmlessFlip = (target === 'config' || target === 'keys') && meaningUnchanged(target, before, after);

  // 1. verify --read-data
  const v = await cli.run(['verify', ...repo, '--read-data']);
  const vo = parseVerify(v);
  // what it said, without the repository's own path (which must not count as naming an object)
  const text = said(v).split(repoDir).join('<repo>');
  const plain = plainFailure(v);
  t.detected = plain.plain;
  if (v.code !== 0 && !plain.plain) t.problems.push(`verify --read-data: ${plain.why}: ${brief(v, 6)}`);
  const packId = flip.object.startsWith('packs/') ? path.basename(flip.object) : undefined;
  const namesObject =
    text.includes(flip.object) ||
    (packId !== undefined && text.includes(packId)) ||
    (flip.blob !== undefined && text.includes(flip.blob.id.slice(0, 12)));
  const wrongPassword = /wrong password/i.test(text);
  let namedFiles = true;
  if (flip.blob) {
    // every file (data blob) or folder (tree blob) that needs it, in every snapshot (verify names 50 at most)
    const missing = [...flip.blob.users].filter((u) => {
      const [snap, p] = [u.slice(0, 32), u.slice(33)];
      return !covered(vo.affected, snap, p === '/' ? '' : p) && !vo.affected.has(u);
    });
    if (missing.length > 0 && vo.affected.size < 50) {
      namedFiles = false;
      t.problems.push(
        `verify did not name ${missing.length} of the ${flip.blob.users.size} files/folders that need the blob (${missing.slice(0, 3).join(', ')})`,
      );
    }
  }
  t.named = t.detected && namesObject && namedFiles;
  if (t.detected && !namesObject) {
    t.problems.push(
      wrongPassword
        ? `opening says "wrong password" instead of naming ${flip.object} as damaged: ${brief(v, 3)}`
        : `verify --read-data does not name ${flip.object}: ${brief(v, 6)}`,
    );
  }
  // verify's report begins "checked N snapshots, ...": it got as far as opening the repository
  const opened = v.stdout.includes('checked ');
  if (!opened) t.notes.push(`the repository does not open: ${brief(v, 2)}`);

  // 2. every snapshot restored and compared with the source as it was
  const wholeSnapshot = new Set(
    vo.problems.filter((p) => p.kind === 'damaged-snapshot').map((p) => path.basename(p.object)),
  );
  const namedLostBefore: { snapshot: string; want: Manifest; files: string[] }[] = [];
  let lostHere = 0;
  for (const s of master.snapshots) {
    const out = path.join(dir, `out-${s.id.slice(0, 8)}`);
    const r = await cli.run(['restore', ...repo, s.id, '--target', out]);
    const c = compare(s.want, path.join(out, SOURCE_NAME));
    const namedLost: string[] = [];
    const unnamed: string[] = [];
    for (const f of c.missing) {
      const p = `${SOURCE_NAME}/${f}`;
      // a key has no other copy: while it is damaged nothing opens (said; counted apart, not as loss)
      const keyDown = target === 'keys' && !opened && t.detected;
      if (keyDown || wholeSnapshot.has(s.id) || covered(vo.affected, s.id, p)) namedLost.push(f);
      else unnamed.push(f);
    }
    if (c.wrong.length > 0)
      t.problems.push(
        `restore of snapshot ${s.id.slice(0, 8)} wrote ${c.wrong.length} files with WRONG BYTES under their real names (${c.wrong.slice(0, 3).join(', ')})`,
      );
    if (unnamed.length > 0)
      t.problems.push(
        `snapshot ${s.id.slice(0, 8)}: ${unnamed.length} files not restored that verify did not name (${unnamed.slice(0, 3).join(', ')}${unnamed.length > 3 ? ', …' : ''}); restore: ${brief(r, 3)}`,
      );
    if (c.leftovers.length > 0)
      t.problems.push(
        `restore of snapshot ${s.id.slice(0, 8)} left ${c.leftovers.length} half-written temporary files (${c.leftovers.slice(0, 3).join(', ')})`,
      );
    if (c.missing.length > 0 && r.code === 0)
      t.problems.push(
        `restore of snapshot ${s.id.slice(0, 8)} exited 0 with ${c.missing.length} files missing (${c.missing.slice(0, 3).join(', ')})`,
      );
    lostHere += unnamed.length + c.wrong.length;
    if (namedLost.length > 0) namedLostBefore.push({ snapshot: s.id, want: s.want, files: namedLost });
    rmTree(out);
  }
  t.lost += lostHere;
  const namedLossCount = namedLostBefore.reduce((n, x) => n + x.files.length, 0);

  // undetected: harmless only where the bytes mean nothing to the product and everything restored
  if (!t.detected) {
    if (harmlessFlip && lostHere === 0 && namedLossCount === 0) {
      t.harmless = true;
      t.detected = null;
      t.named = null;
      t.notes.push(
        target === 'keys'
          ? 'not noticed, and harmless: the flip changed only bytes the key does not authenticate (whitespace, "host", "created")'
          : 'not noticed, and harmless: the flip changed only whitespace of the config',
      );
    } else {
      t.problems.push(`the flip went unnoticed: verify --read-data ${brief(v, 2)}`);
    }
  }

  // 3. recovery: the next backup (after the documented step), verify, restore latest
  if (target === 'keys' && !opened) {
    fs.writeFileSync(file, before); // the only way back: the key object has no other copy in the repository
    t.notes.push('put back the intact key object (the repository keeps no other copy of it)');
  }
  let b = await cli.run(['backup', ...repo, master.src, '-q']);
  if (b.code !== 0 && /--acknowledge/.test(said(b))) {
    const ack = await cli.run(['verify', ...repo, '--locks', '--acknowledge', '-q']);
    t.notes.push(
      `the backup stopped until acknowledged; ran \`verify --locks --acknowledge\` (${brief(ack, 1)})`,
    );
    b = await cli.run(['backup', ...repo, master.src, '-q']);
  }
  let putBackConfig = false;
  if (b.code !== 0 && target === 'config') {
    putBackConfig = true; // not a step the product asks for: the key carries the config
    fs.writeFileSync(file, before);
    t.problems.push(
      `not recovered from the key's copy of the config: the backup said ${brief(b, 2)}; put back the intact config`,
    );
    b = await cli.run(['backup', ...repo, master.src, '-q']);
  }
  if (b.code !== 0) t.problems.push(`the next backup: ${brief(b, 6)}`);
  const v2 = await cli.run(['verify', ...repo, '--read-data']);
  const v2o = parseVerify(v2);
  const latestId = ((await snapshotIds(cli, repo)) ?? []).at(-1) ?? '';
  const latestAffected = [...v2o.affected].filter((a) => a.startsWith(`${latestId}:`));
  if (latestAffected.length > 0)
    t.problems.push(
      `after the next backup verify still names files of the new snapshot: ${latestAffected.slice(0, 3).join(', ')}`,
    );
  const flippedSnapshot = target === 'snapshots' ? path.basename(flip.object) : undefined;
  const others = v2o.problems.filter(
    (p) =>
      p.object !== flip.object &&
      !(packId && p.object.includes(packId)) &&
      !(flip.blob && p.object.includes(flip.blob.id.slice(0, 16))) &&
      // the same damage seen from elsewhere: a gap in the audit chain naming the entry, the successor of a
      // damaged snapshot (its chain cannot be checked)
      !p.message.includes(flip.object) &&
      !(flippedSnapshot && p.kind === 'broken-chain' && p.message.includes(flippedSnapshot)),
  );
  const chain = v2o.problems.find(
    (p) => flippedSnapshot && p.kind === 'broken-chain' && p.message.includes(flippedSnapshot),
  );
  if (chain) t.notes.push(`verify also reports its successor's chain as broken: "${chain.message}"`);
  if (others.length > 0)
    t.problems.push(
      `after the next backup verify reports other objects: ${others.map((p) => `${p.kind} ${p.object}`).join(', ')}`,
    );
  if (v2.code !== 0 && others.length === 0 && latestAffected.length === 0 && v2o.problems.length > 0)
    t.notes.push(
      `verify --read-data keeps exiting ${v2.code} after the next backup: it still reports ${v2o.problems.map((p) => p.kind).join(', ')} (the damaged object stays: objects are written once)`,
    );
  const out = path.join(dir, 'out-latest');
  const r = await cli.run(['restore', ...repo, 'latest', '--target', out, '-q']);
  const c = compare(master.snapshots[1]!.want, path.join(out, SOURCE_NAME));
  const latestOk = r.code === 0 && isIdentical(c);
  if (!latestOk) {
    t.problems.push(`restore latest after the next backup: ${brief(r, 3)}; ${describe(c)}`);
    t.lost += c.missing.length + c.wrong.length;
  }
  rmTree(out);
  t.recovered =
    !putBackConfig &&
    b.code === 0 &&
    latestOk &&
    latestAffected.length === 0 &&
    others.length === 0 &&
    v2.stdout.includes('checked ');

  // were the files named lost really lost? (restore them again now that the next backup ran)
  let cameBack = 0;
  for (const x of namedLostBefore) {
    const o = path.join(dir, `again-${x.snapshot.slice(0, 8)}`);
    await cli.run(['restore', ...repo, x.snapshot, '--target', o, '-q']);
    const got = manifest(path.join(o, SOURCE_NAME));
    for (const f of x.files) {
      const g = got.get(f);
      const w = x.want.get(f);
      if (g && w && g.sha256 === w.sha256) cameBack++;
    }
    rmTree(o);
  }
  t.namedLoss = namedLossCount - cameBack;
  const blobFlip = target === 'packs (data blob)' || target === 'packs (tree blob)';
  if (namedLossCount > 0 && target === 'keys' && !opened)
    t.notes.push(
      `while the key object was damaged nothing could be read (${namedLossCount} files); with it put back, ${cameBack} restore`,
    );
  else if (cameBack > 0 && blobFlip)
    t.notes.push(
      `${cameBack} of the ${namedLossCount} files named lost restore again: the next backup stored the damaged blob again`,
    );
  else if (cameBack > 0)
    t.problems.push(
      `${cameBack} of the ${namedLossCount} files reported lost were intact: they restore after the next backup` +
        (target === 'index'
          ? ' (it learns the packs again from their trailers; so does `repair --rebuild-catalog`, which neither verify nor restore suggests)'
          : ''),
    );
}
