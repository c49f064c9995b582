/** Stores folder listings (tree blobs): encoded, deduplicated, sealed into tree packs of their own. */
import { dirname } from 'node:path';
import { BlobCompressor } from '../../compress.ts';
import { NO_SPACE_CODES } from '../../errors.ts';
import { seal } from '../../crypto/seal.ts';
import type { Tree } from '../../repo/format.ts';
import { PackWriter, type FinishedPack } from '../../repo/pack.ts';
import type { RunDedup } from './run-dedup.ts';
import { encodeTree } from './tree-nodes.ts';
import { packSpaceError } from './worker-hub.ts';

/** Where tree blobs go: ids and sealing (the repository's keys), the catalog's tree cache. */
export interface TreeTarget {
  blobId(plain: Buffer): string;
  encKey: Buffer;
  /** the catalog keeps every listing, so browsing never needs the packs (given in batches) */
  putTrees(trees: readonly (readonly [id: string, plain: Buffer])[]): void;
  /** listings whose stored copy is damaged: stored again by this run */
  unusable: ReadonlySet<string>;
}

export interface PackSettings {
  tmpDir: string;
  /** bytes at which a pack is closed */
  target: number;
  /** compute the pack's MD5 (uploads need it, folder targets do not) */
  md5: boolean;
}

/** listings kept back before they go to the catalog in one transaction */
const CACHE_BATCH = 512;
const CACHE_BATCH_BYTES = 8 << 20;

export class TreeSaver {
  private pack: PackWriter | undefined;
  /**
   * One reused zstd context: a one-shot compress per listing built and freed a context of several MiB each
   * time, and the main thread's malloc kept ~70 MB of them at 40 000 files (docs/DECISIONS.md).
   */
  private compressor: BlobCompressor | undefined;
  private cacheBatch: [string, Buffer][] = [];
  private cacheBatchBytes = 0;
  private readonly target: TreeTarget;
  private readonly dedup: RunDedup;
  private readonly packs: PackSettings;
  private readonly upload: (pack: FinishedPack) => Promise<void>;

  constructor(
    target: TreeTarget,
    dedup: RunDedup,
    packs: PackSettings,
    upload: (pack: FinishedPack) => Promise<void>,
  ) {
    this.target = target;
    this.dedup = dedup;
    this.packs = packs;
    this.upload = upload;
  }

  /** Stores the tree unless the repository holds it already; returns its id. */
  save(tree: Tree): string {
    const plain = encodeTree(tree);
    const id = this.target.blobId(plain);
    const idBuf = Buffer.from(id, 'hex');
    this.cacheBatch.push([id, plain]);
    this.cacheBatchBytes += plain.length;
    if (this.cacheBatch.length >= CACHE_BATCH || this.cacheBatchBytes >= CACHE_BATCH_BYTES) this.flushCache();
    if (this.dedup.claimTree(id, idBuf, this.target.unusable.has(id))) {
      const [flag, body] = (this.compressor ??= new BlobCompressor(64 << 10)).compress(plain);
      const sealed = seal(this.target.encKey, [Buffer.from([flag]), body], idBuf);
      const pack = (this.pack ??= this.packWrite(
        () => new PackWriter(this.packs.tmpDir, { md5: this.packs.md5 }),
      ));
      this.packWrite(() => pack.add(id, 'tree', sealed, plain.length));
      // the upload pool takes failures to the run's failure; its promise only says the upload started
      if (pack.size >= this.packs.target) void this.upload(this.closePack(pack));
    }
    return id;
  }

  /** Runs a write to the tree pack: a full disk is said in plain words, with where (worker-hub.ts). */
  private packWrite<T>(write: () => T): T {
    try {
      return write();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== undefined && NO_SPACE_CODES.has(code))
        throw packSpaceError(dirname(this.packs.tmpDir), code);
      throw e;
    }
  }

  /** Hands the listings kept back to the catalog. */
  private flushCache(): void {
    const batch = this.cacheBatch;
    this.cacheBatch = [];
    this.cacheBatchBytes = 0;
    this.target.putTrees(batch);
  }

  private closePack(pack: PackWriter): FinishedPack {
    const p = this.packWrite(() => pack.finish(this.target.encKey));
    this.pack = undefined;
    return p;
  }

  /** Closes the last tree pack and starts its upload. */
  async finish(): Promise<void> {
    this.flushCache();
    if (this.pack) await this.upload(this.closePack(this.pack));
  }

  /** Removes an unfinished pack of a failed run. */
  abort(): void {
    this.pack?.abort();
    this.pack = undefined;
  }
}
