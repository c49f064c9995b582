/**
 * Version pinning: a repository reads back exactly the object versions it wrote (DESIGN §3, "a hostile
 * backup key").
 *
 * On a versioned bucket with Object Lock, whoever holds the backup keys (ransomware on the office PC) cannot
 * delete or shorten a locked version, but can put a new *current* version over any name and place delete
 * markers. A store that reads "the latest" would then restore garbage, lose snapshots from its listings and
 * extend the lock of the attacker's version instead of its own. This wrapper makes every call go to one
 * version per name:
 * - `put` records the version id the server returned (the book: the catalog, see Catalog.versionBook);
 * - `get`, `head`, `extendRetention`, `setLegalHold` and `delete` act on that version only;
 * - `list` lists versions, so a delete marker hides nothing, and yields each name with Bulwark's version;
 * - a name whose version is not known yet (a new catalog, another computer's object) is resolved from
 *   ListObjectVersions: a single version is taken as it is (what it holds is authenticated when it is
 *   decrypted, as always); among several, the oldest that the repository authenticates (it was sealed with
 *   the repository key) is Bulwark's — the attacker can only add newer versions;
 * - every other version and every delete marker is reported as tampering (`onTamper`), except identical
 *   copies Bulwark itself made (a put retried after a lost answer stores the same bytes twice), which
 *   authenticate and are ignored.
 */
import { BulwarkError, isBulwarkError } from '../errors.ts';
import { assertValidName } from '../storage/types.ts';
import type {
  BlobStore,
  ByteRange,
  LockMode,
  ObjectInfo,
  ObjectVersion,
  PutBody,
  PutOptions,
  PutResult,
  StoreCapabilities,
  VersionedAccess,
} from '../storage/types.ts';

/** Where the version Bulwark wrote for each name is remembered (the catalog; a Map in tests). */
export interface VersionBook {
  get(name: string): string | undefined;
  set(name: string, versionId: string): void;
  delete(name: string): void;
  /** this version was found foreign before (no need to authenticate it again) */
  isForeign(name: string, versionId: string): boolean;
}

/**
 * A name Bulwark deleted while foreign versions it could not delete (still locked) stayed: whatever is left
 * there is not Bulwark's.
 */
export const RETIRED = '-';

export type TamperKind =
  /** a version Bulwark did not write sits over (or beside) Bulwark's */
  | 'foreign-version'
  /** a delete marker hides Bulwark's version from plain reads */
  | 'delete-marker'
  /** versions are there, none of them is Bulwark's */
  | 'no-authentic-version';

export interface TamperFinding {
  name: string;
  kind: TamperKind;
  /** the foreign version or delete marker ('-' for a folder, which has no versions) */
  versionId: string;
  /** when the server stored it */
  modified?: Date;
  /** the version Bulwark wrote and reads, when there is one */
  ours?: string;
}

/**
 * Says whether one version of `name` is what Bulwark wrote there: decrypts and checks it (the repository
 * supplies this; it knows every object kind). Returns false for content that does not authenticate; lets
 * other failures (network, permission) through.
 */
export type Authenticator = (
  name: string,
  read: (range?: ByteRange) => Promise<Buffer>,
  size: number,
) => Promise<boolean>;

export type VersionedStore = BlobStore & { readonly versions: VersionedAccess };

export function isVersioned(store: BlobStore): store is VersionedStore {
  return store.versions !== undefined;
}

export class PinnedStore implements BlobStore {
  readonly inner: VersionedStore;
  private readonly v: VersionedAccess;
  private readonly book: VersionBook;
  private readonly authenticate: Authenticator;
  private readonly onTamper: (f: TamperFinding) => void;
  /** versions authenticated as Bulwark's copies during this process (retried puts) */
  private readonly ownCopies = new Set<string>();
  readonly stagingDir?: () => string;
  readonly localPath?: (name: string) => string;
  readonly lockSupport?: BlobStore['lockSupport'];

  constructor(
    inner: VersionedStore,
    book: VersionBook,
    opts: { authenticate: Authenticator; onTamper: (f: TamperFinding) => void },
  ) {
    this.inner = inner;
    this.v = inner.versions;
    this.book = book;
    this.authenticate = opts.authenticate;
    this.onTamper = opts.onTamper;
    const { stagingDir, localPath, lockSupport } = inner;
    if (stagingDir) this.stagingDir = () => stagingDir.call(inner);
    if (localPath) this.localPath = (name) => localPath.call(inner, name);
    if (lockSupport) this.lockSupport = () => lockSupport.call(inner);
  }

  get location(): string {
    return this.inner.location;
  }

  get capabilities(): StoreCapabilities {
    return this.inner.capabilities;
  }

  /** The version Bulwark reads for `name`, if known (without asking the server). */
  pinned(name: string): string | undefined {
    const id = this.book.get(name);
    return id === RETIRED ? undefined : id;
  }

  /** Records a version learned from an authenticated source (an index object lists its packs' versions). */
  learn(name: string, versionId: string): void {
    if (this.book.get(name) === undefined) this.book.set(name, versionId);
  }

  async put(name: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
    const out = await this.inner.put(name, body, opts);
    if (out.versionId !== undefined) this.book.set(name, out.versionId);
    else this.book.delete(name); // an unversioned bucket: there is only "the" object
    return out;
  }

  async get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    const id = await this.versionOf(name, signal);
    return id === undefined
      ? this.inner.get(name, range, signal)
      : this.v.getVersion(name, id, range, signal);
  }

  async head(name: string): Promise<ObjectInfo> {
    const id = await this.versionOf(name);
    return id === undefined ? this.inner.head(name) : this.v.headVersion(name, id);
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    let group: ObjectVersion[] = [];
    for await (const ver of this.v.listVersions(prefix, signal)) {
      if (group.length > 0 && group[0]!.name !== ver.name) {
        const ours = await this.settle(group, signal);
        if (ours) yield ours;
        group = [];
      }
      group.push(ver);
    }
    if (group.length > 0) {
      const ours = await this.settle(group, signal);
      if (ours) yield ours;
    }
  }

  /**
   * Deletes Bulwark's version for good, then every other version and delete marker of the name that can
   * go (a plain DeleteObject would only add a delete marker and free nothing). LOCKED when Bulwark's own
   * version is still locked. Foreign versions still locked stay (they were reported as tampering); the name
   * is then retired, so what stays is never taken for Bulwark's.
   */
  async delete(name: string): Promise<void> {
    assertValidName(name);
    const group = await this.versionsOf(name);
    if (group.length === 0) {
      this.book.delete(name);
      return;
    }
    const ours = await this.settle(group);
    if (ours?.versionId !== undefined) await this.v.deleteVersion(name, ours.versionId);
    let left = false;
    for (const ver of group) {
      if (ver.versionId === ours?.versionId) continue;
      try {
        await this.v.deleteVersion(name, ver.versionId);
      } catch (e) {
        if (!isBulwarkError(e, 'LOCKED') && !isBulwarkError(e, 'PERMISSION')) throw e;
        left = true; // a locked foreign version: reported by settle() above, removable once its lock ends
      }
    }
    if (left) this.book.set(name, RETIRED);
    else this.book.delete(name);
  }

  async extendRetention(name: string, retainUntil: Date, mode: LockMode): Promise<void> {
    const id = await this.mustVersionOf(name);
    if (!this.v.extendRetentionVersion) {
      throw new BulwarkError('UNSUPPORTED', `${this.location} cannot extend object locks`);
    }
    await this.v.extendRetentionVersion(name, id, retainUntil, mode);
  }

  async setLegalHold(name: string, on: boolean): Promise<void> {
    const id = await this.mustVersionOf(name);
    if (!this.v.setLegalHoldVersion) {
      throw new BulwarkError('UNSUPPORTED', `${this.location} does not support legal holds`);
    }
    await this.v.setLegalHoldVersion(name, id, on);
  }

  serverTime(): Promise<Date> {
    return this.inner.serverTime();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  // ---- resolution ------------------------------------------------------------------------------------

  /** Bulwark's version of `name`; undefined on an unversioned bucket. NOT_FOUND when there is none. */
  private async versionOf(name: string, signal?: AbortSignal): Promise<string | undefined> {
    assertValidName(name); // before any lookup: a bad name is a caller's error, not a missing object
    const known = this.book.get(name);
    if (known !== undefined && known !== RETIRED) return known;
    const group = await this.versionsOf(name, signal);
    const ours = await this.settle(group, signal);
    if (!ours) throw new BulwarkError('NOT_FOUND', `${this.location}/${name}: not found`);
    return ours.versionId;
  }

  private async mustVersionOf(name: string): Promise<string> {
    const id = await this.versionOf(name);
    if (id === undefined) {
      throw new BulwarkError('UNSUPPORTED', `${this.location} keeps no object versions (is versioning off?)`);
    }
    return id;
  }

  /** Every version and delete marker of exactly `name`, newest first. */
  private async versionsOf(name: string, signal?: AbortSignal): Promise<ObjectVersion[]> {
    const out: ObjectVersion[] = [];
    for await (const ver of this.v.listVersions(name, signal)) if (ver.name === name) out.push(ver);
    return out;
  }

  /**
   * Decides which version of one name (all its versions, newest first) is Bulwark's, pins it and reports
   * the others. Returns Bulwark's version as an ObjectInfo, or undefined when there is none.
   */
  private async settle(
    group: readonly ObjectVersion[],
    signal?: AbortSignal,
  ): Promise<ObjectInfo | undefined> {
    const name = group[0]?.name;
    if (name === undefined) return undefined;
    const data = group.filter((x) => !x.deleteMarker);
    const known = this.book.get(name);
    let ours: ObjectVersion | undefined;
    if (known !== RETIRED) {
      ours = known === undefined ? undefined : data.find((x) => x.versionId === known);
      if (known !== undefined && !ours) this.book.delete(name); // gone (pruned elsewhere): learn anew
      if (!ours && data.length === 1 && data.length === group.length) ours = data[0];
      // An unversioned bucket lists every object once, as version "null": nothing to pin or compare.
      if (ours?.versionId === 'null' && group.length === 1) return toInfo(ours, false);
      if (!ours) {
        for (const cand of [...data].reverse()) {
          if (this.book.isForeign(name, cand.versionId)) continue;
          if (await this.isBulwarks(cand, signal)) {
            ours = cand;
            break;
          }
        }
      }
      if (ours && ours.versionId !== known) this.book.set(name, ours.versionId);
    }
    for (const x of group) {
      if (x === ours) continue;
      if (x.deleteMarker) {
        this.report(x, 'delete-marker', ours);
        continue;
      }
      const copyKey = `${name}\0${x.versionId}`;
      if (this.ownCopies.has(copyKey)) continue;
      if (ours && !this.book.isForeign(name, x.versionId) && (await this.isBulwarks(x, signal))) {
        this.ownCopies.add(copyKey); // a put retried after its answer was lost: the same bytes twice
        continue;
      }
      this.report(x, ours ? 'foreign-version' : 'no-authentic-version', ours);
    }
    return ours ? toInfo(ours, true) : undefined;
  }

  private async isBulwarks(ver: ObjectVersion, signal?: AbortSignal): Promise<boolean> {
    return this.authenticate(
      ver.name,
      (range) => this.v.getVersion(ver.name, ver.versionId, range, signal),
      ver.size,
    );
  }

  private report(x: ObjectVersion, kind: TamperKind, ours: ObjectVersion | undefined): void {
    this.onTamper({
      name: x.name,
      kind,
      versionId: x.versionId,
      ...(x.modified ? { modified: x.modified } : {}),
      ...(ours ? { ours: ours.versionId } : {}),
    });
  }
}

function toInfo(v: ObjectVersion, withVersion: boolean): ObjectInfo {
  return {
    name: v.name,
    size: v.size,
    ...(v.modified ? { modified: v.modified } : {}),
    ...(withVersion && v.versionId !== 'null' ? { versionId: v.versionId } : {}),
  };
}
