import { randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { Readable } from 'node:stream';

import { ZipFile } from 'yazl';

import type { RestorePlanItem } from '../contract/model.ts';
import { err, ok } from '../contract/result.ts';
import {
  BulwarkError,
  findSnapshotEntry,
  listFolderFiles,
  planItems,
  readFileContent,
  readFileStart,
  systemClock,
  type Clock,
  type PlanItem,
  type Repository,
  type TreeNode,
} from '../engine/index.ts';
import type { BackupService } from '../engine/service/index.ts';
import type { Handlers } from '../transport/dispatch.ts';
import { DOWNLOAD_PREFIX, type DownloadBody, type DownloadSource } from '../transport/http/download.ts';
import * as adapt from './adapt.ts';

/**
 * The handlers of restore.preview, restore.plan, restore.start and restore.download, over the engine's
 * BackupService (plans are computed and kept on the main side: BackupService.planRestore), and the
 * one-time download tickets `bulwark serve` streams from (transport/http/download.ts).
 */

export const RESTORE_RUN_CHANNELS = [
  'bulwark:restore.preview',
  'bulwark:restore.plan',
  'bulwark:restore.start',
  'bulwark:restore.download',
] as const;

export type RestoreRunChannel = (typeof RESTORE_RUN_CHANNELS)[number];

/** Text previews show at most this much of a file. */
export const TEXT_PREVIEW_BYTES = 256 << 10;
/** Pictures up to this size are shown whole (as a data: URL, which the page's CSP allows for images). */
export const IMAGE_PREVIEW_BYTES = 2 << 20;
/** The plan answer lists this many files (conflicts first); `totals` counts them all. */
const PLAN_ITEMS = 2000;
/** A download link works this long, once. */
const TICKET_TTL_MS = 5 * 60_000;
/** Links not used yet, at most (the oldest is dropped first). */
const MAX_TICKETS = 100;

export interface RestoreRunOptions {
  /**
   * Where restore.download keeps its tickets: `bulwark serve` passes the one its HTTP server reads. Absent
   * (the Electron app, which has no HTTP server), restore.download answers UNSUPPORTED: the app will save
   * files with its own save dialog instead.
   */
  downloads?: DownloadTickets;
}

// ---- preview ---------------------------------------------------------------------------------------------

const IMAGE_TYPES: { mime: string; test: (b: Buffer) => boolean }[] = [
  {
    mime: 'image/png',
    test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  { mime: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { mime: 'image/gif', test: (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')) },
  {
    mime: 'image/webp',
    test: (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
];

const BINARY_TYPES: { mime: string; magic: string }[] = [
  { mime: 'application/pdf', magic: '%PDF-' },
  { mime: 'application/zip', magic: 'PK\x03\x04' },
];

const TEXT_MIME: Record<string, string> = {
  csv: 'text/csv',
  json: 'application/json',
  xml: 'application/xml',
  html: 'text/html',
  htm: 'text/html',
  md: 'text/markdown',
};

/**
 * Text or not, by the bytes: no NUL, and (almost) no other control characters than tab, line breaks, form
 * feed and escape. Text in another encoding (Latin-1) still counts: it is shown with replacement marks.
 */
function looksLikeText(b: Buffer): boolean {
  let odd = 0;
  for (const c of b) {
    if (c === 0) return false;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c && c !== 0x1b) || c === 0x7f) odd++;
  }
  return odd <= b.length / 100;
}

/** What restore.preview answers for a file whose first bytes are `head` (all of it when it is small). */
export function previewOf(
  name: string,
  size: number,
  head: Buffer,
): { kind: 'text' | 'image' | 'other'; mime: string; text?: string; dataUrl?: string; truncated: boolean } {
  const image = IMAGE_TYPES.find((t) => t.test(head));
  if (image) {
    // a bigger picture is not sent whole: the pane says there is no preview
    if (size > IMAGE_PREVIEW_BYTES || head.length < size)
      return { kind: 'image', mime: image.mime, truncated: false };
    return {
      kind: 'image',
      mime: image.mime,
      dataUrl: `data:${image.mime};base64,${head.toString('base64')}`,
      truncated: false,
    };
  }
  const binary = BINARY_TYPES.find((t) => head.subarray(0, t.magic.length).toString('latin1') === t.magic);
  const sample = head.subarray(0, TEXT_PREVIEW_BYTES);
  if (binary || !looksLikeText(sample))
    return { kind: 'other', mime: binary?.mime ?? 'application/octet-stream', truncated: false };
  // `stream: true` leaves out a character cut in half at the end instead of showing a replacement mark
  const text = new TextDecoder('utf-8').decode(sample, { stream: size > sample.length });
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return { kind: 'text', mime: TEXT_MIME[ext] ?? 'text/plain', text, truncated: size > sample.length };
}

// ---- plans ----------------------------------------------------------------------------------------------

/** Nanoseconds since the epoch → ISO time, or undefined when a Date cannot hold it. */
function nsIso(ns: string): string | undefined {
  const n = BigInt(ns);
  // floor, not truncation toward zero: a time before 1970 must not move to the next millisecond
  const ms = n / 1_000_000n - (n < 0n && n % 1_000_000n !== 0n ? 1n : 0n);
  const d = new Date(Number(ms));
  const iso = Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  // years beyond 9999 are written +010000-…, which is no ISO date the contract accepts
  return iso !== undefined && /^\d{4}-/.test(iso) ? iso : undefined;
}

function planItem(i: PlanItem): RestorePlanItem {
  const mtime = nsIso(i.mtimeNs);
  const existingMtime = i.existing ? nsIso(i.existing.mtimeNs) : undefined;
  return {
    path: i.path,
    destination: i.destination,
    type: i.type,
    action: i.action,
    size: i.size,
    ...(mtime !== undefined ? { mtime } : {}),
    ...(i.existing && existingMtime !== undefined
      ? { existing: { size: i.existing.size, mtime: existingMtime } }
      : {}),
  };
}

// ---- downloads ------------------------------------------------------------------------------------------

interface Ticket {
  sourceId: string;
  snapshotId: string;
  path: string;
  expiresAt: number;
}

/** A zip's times are DOS times: 1980 to 2107. */
function zipTime(ns: string): Date {
  const ms = Number(BigInt(ns) / 1_000_000n);
  return new Date(Math.min(Math.max(ms, Date.UTC(1980, 0, 1, 12)), Date.UTC(2107, 11, 31)));
}

// Control characters are exactly what is escaped here.
// eslint-disable-next-line no-control-regex
const ZIP_UNSAFE = /[\x00-\x1f<>:"\\|?*]/g;

/**
 * A name inside the zip: what unzip tools on every system accept. Characters Windows refuses (and "\",
 * which zip tools take for a folder separator) become %XX, as do bytes that are not UTF-8.
 */
function zipSegment(name: string): string {
  return name
    .replace(/[\udc80-\udcff]/gu, (c) => `%${(c.charCodeAt(0) - 0xdc00).toString(16).toUpperCase()}`)
    .replace(ZIP_UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** A file's content as a byte stream, read a blob at a time (never a whole file in memory). */
function contentStream(repo: Repository, node: TreeNode, signal: AbortSignal): Readable {
  return Readable.from(readFileContent(repo, node, signal), { objectMode: false, highWaterMark: 1 << 20 });
}

/**
 * The one-time download tickets of `bulwark serve`: restore.download issues one (a random 32-byte id,
 * valid TICKET_TTL_MS and for one request), the HTTP server takes it on `GET /download/<ticket>` and
 * streams the file, or the folder as a zip built as it is sent (yazl, stored without compression so its
 * size is known in advance; never the whole zip in memory).
 */
export class DownloadTickets implements DownloadSource {
  private readonly service: BackupService;
  private readonly clock: Clock;
  private readonly tickets = new Map<string, Ticket>();

  constructor(service: BackupService, clock: Clock = systemClock) {
    this.service = service;
    this.clock = clock;
  }

  issue(t: Omit<Ticket, 'expiresAt'>): { url: string; expiresAt: string } {
    this.prune();
    while (this.tickets.size >= MAX_TICKETS) {
      const oldest = this.tickets.keys().next().value;
      if (oldest === undefined) break;
      this.tickets.delete(oldest);
    }
    const ticket = randomBytes(32).toString('base64url');
    const expiresAt = this.clock.now().getTime() + TICKET_TTL_MS;
    this.tickets.set(ticket, { ...t, expiresAt });
    return { url: `${DOWNLOAD_PREFIX}${ticket}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  async take(ticket: string): Promise<DownloadBody | undefined> {
    this.prune();
    const t = this.tickets.get(ticket);
    if (!t) return undefined;
    this.tickets.delete(ticket); // used once, whatever happens next
    const { repo, snapshot } = await this.service.sourceSnapshot(t.sourceId, t.snapshotId);
    const { node } = await findSnapshotEntry(repo, snapshot.id, t.path);
    if (node.type === 'file') {
      const file = node as TreeNode;
      return {
        name: file.name,
        contentType: 'application/octet-stream',
        size: file.size ?? 0,
        open: (signal) => contentStream(repo, file, signal),
      };
    }
    if (node.type !== 'dir' || !node.subtree)
      throw new BulwarkError('INVALID_ARGUMENT', `${t.path}: only files and folders can be downloaded`);
    const top = node.name ? zipSegment(node.name) : `backup ${snapshot.time.slice(0, 10)}`;
    const files = await listFolderFiles(repo, node.subtree, t.path);
    return this.zip(repo, top, files);
  }

  /** A folder as a zip: every entry is added now (names, sizes, times), its data read when it is sent. */
  private zip(
    repo: Repository,
    top: string,
    files: Awaited<ReturnType<typeof listFolderFiles>>,
  ): DownloadBody {
    const zip = new ZipFile();
    const out = zip.outputStream as Readable;
    const abort = new AbortController();
    zip.on('error', (e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
    if (files.length === 0) zip.addEmptyDirectory(`${top}/`, {});
    for (const f of files) {
      const name = `${top}/${f.path.split('/').map(zipSegment).join('/')}`;
      const mtime = zipTime(f.node.mtimeNs);
      if (f.node.type === 'dir') {
        zip.addEmptyDirectory(name, { mtime, mode: 0o040000 | (f.node.mode & 0o777) });
        continue;
      }
      const node = f.node;
      zip.addReadStreamLazy(
        name,
        { mtime, mode: 0o100000 | (node.mode & 0o777), size: node.size ?? 0, compress: false },
        (cb) => {
          const r = contentStream(repo, node, abort.signal);
          // a blob that cannot be read ends the download as failed (a zip must not look complete)
          r.once('error', (e) => out.destroy(e));
          cb(null, r);
        },
      );
    }
    let size: number | undefined;
    // Stored entries of known sizes: yazl knows the zip's size before it is sent (called within end()).
    zip.end(undefined, ((total?: number) => {
      if (typeof total === 'number' && total >= 0) size = total;
    }) as () => void);
    return {
      name: `${top}.zip`,
      contentType: 'application/zip',
      ...(size !== undefined ? { size } : {}),
      open: (signal) => {
        signal.addEventListener('abort', () => abort.abort(), { once: true });
        return out;
      },
    };
  }

  private prune(): void {
    const now = this.clock.now().getTime();
    for (const [id, t] of this.tickets) if (t.expiresAt <= now) this.tickets.delete(id);
  }
}

// ---- handlers -------------------------------------------------------------------------------------------

export function createRestoreRunHandlers(
  service: BackupService,
  opts: RestoreRunOptions = {},
): Pick<Handlers, RestoreRunChannel> {
  return {
    'bulwark:restore.preview': async ({ sourceId, snapshotId, path }) => {
      const { repo, snapshot } = await service.sourceSnapshot(sourceId, snapshotId);
      const { node } = await findSnapshotEntry(repo, snapshot.id, path);
      if (node.type !== 'file')
        return err('INVALID_ARGUMENT', `${path} is not a file: choose a file to see its preview`);
      const file = node as TreeNode;
      const size = file.size ?? 0;
      // small enough to be a picture shown whole: read it all; otherwise the start is enough
      const head = await readFileStart(repo, file, size <= IMAGE_PREVIEW_BYTES ? size : TEXT_PREVIEW_BYTES);
      return ok({ name: file.name, size, ...previewOf(file.name, size, head) });
    },

    'bulwark:restore.plan': async ({ sourceId, snapshotId, paths, destination }) => {
      if (destination.kind === 'folder' && !isAbsolute(destination.path))
        return err(
          'INVALID_ARGUMENT',
          'Give the full path of the folder to restore into: it starts with / (or with a drive letter like C:\\ on Windows).',
        );
      const { planId, plan } = await service.planRestore({ sourceId, snapshotId, paths, destination });
      const items = planItems(plan);
      return ok({
        planId,
        destination: plan.destination,
        items: items.slice(0, PLAN_ITEMS).map(planItem),
        totals: { ...plan.totals },
        truncated: items.length > PLAN_ITEMS,
      });
    },

    'bulwark:restore.start': ({ planId, onConflict }) =>
      ok({ job: adapt.job(service.startRestore(planId, onConflict)) }),

    'bulwark:restore.download': async ({ sourceId, snapshotId, path }) => {
      const downloads = opts.downloads;
      // The desktop app has no HTTP server to stream from: it saves through its own save dialog instead.
      if (!downloads)
        return err(
          'UNSUPPORTED',
          'downloads are offered by the browser interface of `bulwark serve`',
          'Restore the file into a folder instead.',
        );
      // checked now, so that a wrong path is answered here and not as a failed download
      const { repo, snapshot } = await service.sourceSnapshot(sourceId, snapshotId);
      const { node } = await findSnapshotEntry(repo, snapshot.id, path);
      if (node.type !== 'file' && node.type !== 'dir')
        return err('INVALID_ARGUMENT', `${path}: only files and folders can be downloaded`);
      const base = node.name
        ? node.type === 'dir'
          ? zipSegment(node.name)
          : node.name
        : `backup ${snapshot.time.slice(0, 10)}`;
      const { url, expiresAt } = downloads.issue({ sourceId, snapshotId: snapshot.id, path });
      return ok({ url, name: node.type === 'dir' ? `${base}.zip` : base, expiresAt });
    },
  };
}
