import { createHash } from 'node:crypto';
import { dateHeader } from './http-date.ts';
import { open, stat, type FileHandle } from 'node:fs/promises';

import {
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  S3Client,
  type HeadObjectCommandOutput,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';

import { systemClock, type Clock } from '../clock.ts';
import { BulwarkError, fromSystemError, throwIfAborted, type ErrorCode } from '../errors.ts';
import { checkEndpoint } from './endpoint.ts';
import {
  assertValidName,
  assertValidRange,
  type BlobStore,
  type ByteRange,
  type LockMode,
  type ObjectInfo,
  type ObjectVersion,
  type PutBody,
  type PutOptions,
  type PutResult,
  type StoreCapabilities,
  type VersionedAccess,
} from './types.ts';

/** One outgoing HTTP request as sent (after signing), for tests and diagnostics. */
export interface RecordedRequest {
  method: string;
  hostname: string;
  port: number | undefined;
  path: string;
  query: Record<string, string | string[] | null>;
  /** header names in lower case; the signature in `authorization` is redacted */
  headers: Record<string, string>;
  /** HTTP status of the response, once it arrived */
  status?: number;
}

export interface S3StoreOptions {
  bucket: string;
  /** folder inside the bucket ('' or e.g. "bulwark/office-pc"); leading/trailing '/' are ignored */
  prefix?: string;
  /** for S3-compatible servers (Ceph RGW, MinIO, B2, Wasabi, ...); implies path-style addressing */
  endpoint?: string;
  /** default us-east-1 */
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** default: true when an endpoint is given */
  forcePathStyle?: boolean;
  /** for the server-time cache; default the system clock */
  clock?: Clock;
  /**
   * Attempts per operation, default 6. Throttling, 5xx and network errors are retried here (not by the
   * SDK, whose retries know no deadline and never retry a streamed body) with exponential backoff, a
   * file put with a fresh stream, a body that broke off with a new request.
   */
  maxAttempts?: number;
  /** network timeouts; see S3Timeouts for the defaults */
  timeouts?: S3Timeouts;
  /** monotonic milliseconds for the retry deadline (default performance.now: real time, not the clock) */
  now?: () => number;
  /** HTTP handler or its options (default: the connect and idle timeouts of `timeouts`) */
  requestHandler?: S3ClientConfig['requestHandler'];
  /** called for every HTTP request sent (each retry too), after signing; see createRequestRecorder() */
  onRequest?: (req: RecordedRequest) => void;
  /**
   * Also send `If-None-Match: *` on puts so the server refuses to overwrite (412 → ALREADY_EXISTS).
   * AWS S3 honours it; Ceph RGW 16 honours it only on unversioned buckets, i.e. never on an Object
   * Lock bucket (measured). Off by default: some S3-compatible servers reject the header.
   */
  conditionalWrites?: boolean;
  /** how long a measured server-clock offset is reused (default 10 min) */
  serverTimeTtlMs?: number;
  /** keys per ListObjectsV2 page (default 1000, the S3 maximum; tests use less to exercise paging) */
  listPageSize?: number;
}

/**
 * How long to wait for a server. A server that accepts the connection and then says nothing (a frozen
 * gateway, a NAS stuck on its disks) must fail a command with a clear message, not hang it.
 */
export interface S3Timeouts {
  /** to establish the TCP (and TLS) connection; default 10 s (never more than idleMs) */
  connectMs?: number;
  /**
   * Silence on a connection: no byte received or sent for this long while a request is open (waiting for
   * the first byte of the answer, or in the middle of an upload or a download). An idle timeout, not a
   * total one, so a 64 MiB pack on a slow line is never cut while it moves. Default 30 s.
   */
  idleMs?: number;
  /**
   * A server that stays silent is asked again only within this long after the operation began (default
   * 60 s: a frozen server fails an operation after two silent attempts, ~1 min). Other network failures
   * (reset, refused, 5xx) fail fast and are retried up to maxAttempts, whatever the time: a long upload
   * that breaks off late is still tried again.
   */
  retryDeadlineMs?: number;
}

const DEFAULT_TIMEOUTS = { connectMs: 10_000, idleMs: 30_000, retryDeadlineMs: 60_000 } as const;

/** Failures that were silence (the server stopped answering), for the retry deadline. */
const SILENCE = new WeakSet<BulwarkError>();

/**
 * Names under these folders are random (content hashes or random ids), so two writers never pick the
 * same one: put skips the existence check (a HEAD per object) for them. Every other name (`config`,
 * `keys/...`, locks) is checked with a HEAD first. That check and the PUT are two requests: two writers
 * racing on such a name can both succeed (on a versioned bucket the later one becomes a newer version).
 */
const RANDOM_NAME_DIRS = ['packs/', 'index/', 'snapshots/'];
/** pieces in which a file body is read to compute its MD5 */
const HASH_PIECE = 4 * 1024 * 1024;
const DEFAULT_MAX_ATTEMPTS = 6;
/** how long a prefetched listing page may wait for the listing that takes it (`prefetchListings`) */
const PREFETCH_FRESH_MS = 10_000;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNABORTED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);
const FS_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'EMFILE', 'EIO']);

type Op = 'put' | 'get' | 'head' | 'list' | 'delete' | 'retention' | 'legal hold' | 'server time';

interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  errors?: unknown[];
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Records every request an S3Store sends: `new S3Store({ ..., onRequest: rec.onRequest })`. */
export function createRequestRecorder(): {
  requests: RecordedRequest[];
  onRequest: (req: RecordedRequest) => void;
  clear(): void;
} {
  const requests: RecordedRequest[] = [];
  return {
    requests,
    onRequest: (req) => {
      requests.push(req);
    },
    clear: () => {
      requests.length = 0;
    },
  };
}

/** The SDK warns on the console whenever a streamed request fails; we retry those ourselves. */
const quietLogger = {
  debug: (): void => {},
  info: (): void => {},
  warn: (...args: unknown[]): void => {
    if (String(args[0]).includes('non-retryable streaming request')) return;
    console.warn(...args);
  },
  error: (): void => {},
};

const isAsyncIterable = (b: unknown): b is AsyncIterable<Uint8Array> =>
  typeof b === 'object' && b !== null && Symbol.asyncIterator in b;

/** The answer is the range asked for: its length, and where it starts when the server says (Content-Range). */
const answersRange = (out: { ContentLength?: number; ContentRange?: string }, range: ByteRange): boolean =>
  out.ContentLength === range.length &&
  (out.ContentRange === undefined || out.ContentRange.startsWith(`bytes ${range.offset}-`));

/**
 * The body of an answer handed to the caller's sink (ByteRange.sink) chunk by chunk as it arrives;
 * returns how many bytes came. More bytes than announced end the read before the chunk that overflows is
 * handed over (the caller's length check says how many arrived).
 */
async function bodyToSink(
  body: AsyncIterable<Uint8Array>,
  length: number,
  sink: (chunk: Uint8Array, at: number) => void,
): Promise<number> {
  let at = 0;
  for await (const chunk of body) {
    if (at + chunk.length > length) return at + chunk.length;
    sink(chunk, at);
    at += chunk.length;
  }
  return at;
}

/**
 * The body of an answer, read as it arrives into one buffer of the announced length (through bodyToSink),
 * and how many bytes came. The SDK's transformToByteArray keeps every chunk and then copies them into a
 * new array (twice the memory while it does). More bytes than announced end the read (the caller's length
 * check compares `received`). A restore's downloads do not come here: they go to the caller's own sink.
 */
async function bodyBytes(
  body: { transformToByteArray(): Promise<Uint8Array> },
  length: number | undefined,
): Promise<{ bytes: Buffer; received: number }> {
  if (length === undefined || !isAsyncIterable(body)) {
    const b = await body.transformToByteArray();
    return { bytes: Buffer.from(b.buffer, b.byteOffset, b.byteLength), received: b.byteLength };
  }
  const out = Buffer.allocUnsafe(length);
  const received = await bodyToSink(body, length, (chunk, at) => out.set(chunk, at));
  return { bytes: received >= length ? out : out.subarray(0, received), received };
}

/**
 * BlobStore on an S3 bucket (AWS S3 or an S3-compatible server), with Object Lock.
 *
 * - Every object is written with ONE PutObject, never multipart: Ceph RGW 16 silently ignores lock
 *   headers on multipart uploads (and CopyObject). Packs are at most 64 MiB, far below S3's 5 GiB limit.
 * - Every PutObject carries Content-MD5 (AWS and B2 refuse a locked put without an integrity header;
 *   RGW and MinIO do not check, which would hide the bug until production), and lock mode and
 *   retain-until always together.
 * - The bucket is expected to have Object Lock (hence versioning) enabled; `capabilities` states what
 *   the adapter can do, the target self-test must check that the server really locks.
 * - Retries: the SDK's standard retry (maxAttempts, exponential backoff) for every request with an
 *   in-memory body; file puts and body reads are retried here (the SDK does not retry streams).
 *   A retried put whose first attempt reached the server creates a second version of the same bytes.
 */
export class S3Store implements BlobStore {
  readonly location: string;
  readonly capabilities: StoreCapabilities = { enforcedLocks: true, extendRetention: true, legalHold: true };
  readonly bucket: string;
  /** key prefix, '' or ending in '/' */
  readonly root: string;
  /**
   * An SDK client with the same settings for callers that send commands themselves (the target self-test,
   * tests: GetObjectRetention, versions, ...), with the SDK's own retries (maxAttempts).
   */
  readonly client: S3Client;
  /** the client this adapter sends with: one attempt per call, the retries are `retrying`'s */
  private readonly sdk: S3Client;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly conditionalWrites: boolean;
  private readonly serverTimeTtlMs: number;
  private readonly listPageSize: number;
  /** the server as a person knows it: the endpoint given, or AWS S3's for the region */
  private readonly endpointLabel: string;
  private readonly connectMs: number;
  private readonly idleMs: number;
  private readonly retryDeadlineMs: number;
  /**
   * After an operation gave up on a silent server: until `until`, operations fail at once with its error
   * instead of each waiting out the idle timeout again (a failed backup still records its audit entry and
   * asks the server's time: two more minutes of silence before the person learnt anything, seen in the
   * fault campaign). The next command, or the service's next run after the window, asks again.
   */
  private silence: { until: number; error: BulwarkError } | undefined;
  private readonly now: () => number;
  private timeOffset: { offsetMs: number; measuredAt: number } | undefined;
  /** first pages of listings started ahead (`prefetchListings`), by prefix */
  private readonly prefetched = new Map<string, { at: number; page: Promise<VersionsPage> }>();

  constructor(opts: S3StoreOptions) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$/.test(opts.bucket)) {
      throw new BulwarkError('INVALID_ARGUMENT', `invalid bucket name: ${JSON.stringify(opts.bucket)}`, {
        hint: 'S3 bucket names are 3-63 characters: lower-case letters, digits, dots and hyphens.',
      });
    }
    const prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix !== '') assertValidName(prefix);
    this.bucket = opts.bucket;
    this.root = prefix === '' ? '' : `${prefix}/`;
    this.location = prefix === '' ? `s3://${opts.bucket}` : `s3://${opts.bucket}/${prefix}`;
    this.clock = opts.clock ?? systemClock;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.conditionalWrites = opts.conditionalWrites ?? false;
    this.serverTimeTtlMs = opts.serverTimeTtlMs ?? 10 * 60_000;
    this.listPageSize = Math.min(1000, Math.max(1, opts.listPageSize ?? 1000));
    if (opts.endpoint !== undefined) checkEndpoint(opts.endpoint);
    const region = opts.region ?? 'us-east-1';
    this.endpointLabel = opts.endpoint ?? `https://s3.${region}.amazonaws.com`;
    const t = opts.timeouts ?? {};
    this.idleMs = positive(t.idleMs, DEFAULT_TIMEOUTS.idleMs);
    // at most the idle timeout: a silent attempt shorter than idleMs is then known to be a connect timeout
    this.connectMs = Math.min(positive(t.connectMs, DEFAULT_TIMEOUTS.connectMs), this.idleMs);
    this.retryDeadlineMs = positive(t.retryDeadlineMs, DEFAULT_TIMEOUTS.retryDeadlineMs);
    this.now = opts.now ?? (() => performance.now());
    const config: S3ClientConfig = {
      region,
      forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
      // With the defaults (WHEN_SUPPORTED) the SDK sends streamed bodies aws-chunked with a trailing
      // CRC, which some S3-compatible servers store verbatim inside the object.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // one attempt per SDK call: retries are ours (send/retrying), within a deadline the SDK does not know
      maxAttempts: 1,
      // socketTimeout is the idle timeout (reset by every byte either way); requestTimeout would be a total
      requestHandler: opts.requestHandler ?? {
        connectionTimeout: this.connectMs,
        socketTimeout: this.idleMs,
      },
      logger: quietLogger,
    };
    if (opts.endpoint !== undefined) config.endpoint = opts.endpoint;
    if (opts.credentials !== undefined) config.credentials = opts.credentials;
    this.sdk = new S3Client(config);
    this.client = new S3Client({ ...config, maxAttempts: this.maxAttempts });
    const onRequest = opts.onRequest;
    if (onRequest) {
      this.recordRequests(this.sdk, onRequest);
      this.recordRequests(this.client, onRequest);
    }
  }

  /** Adds the onRequest hook to a client: the deserialize step runs after signing, once per attempt. */
  private recordRequests(client: S3Client, onRequest: (req: RecordedRequest) => void): void {
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as {
          method?: string;
          hostname?: string;
          port?: number;
          path?: string;
          query?: Record<string, string | string[] | null>;
          headers?: Record<string, string>;
        };
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers ?? {})) {
          headers[k.toLowerCase()] =
            k.toLowerCase() === 'authorization' ? v.replace(/Signature=\w+/, 'Signature=…') : v;
        }
        const rec: RecordedRequest = {
          method: req.method ?? '',
          hostname: req.hostname ?? '',
          port: req.port,
          path: req.path ?? '',
          query: { ...req.query },
          headers,
        };
        onRequest(rec);
        try {
          const result = await next(args);
          const status = (result.response as { statusCode?: number } | undefined)?.statusCode;
          if (status !== undefined) rec.status = status;
          return result;
        } catch (e) {
          const status = (e as { $response?: { statusCode?: number } } | undefined)?.$response?.statusCode;
          if (status !== undefined) rec.status = status;
          throw e;
        }
      },
      { step: 'deserialize', priority: 'high', name: 'bulwarkRecordRequests' },
    );
  }

  private key(name: string): string {
    return this.root + name;
  }

  private describe(name: string): string {
    return `${this.location}/${name}`;
  }

  // --- put -------------------------------------------------------------------------------------------

  async put(name: string, body: PutBody, opts: PutOptions = {}): Promise<PutResult> {
    assertValidName(name);
    throwIfAborted(opts.signal);
    if (!RANDOM_NAME_DIRS.some((d) => name.startsWith(d)) && (await this.exists(name))) {
      throw new BulwarkError('ALREADY_EXISTS', `${this.describe(name)} already exists`);
    }
    const input: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: this.key(name),
      ContentType: 'application/octet-stream',
    };
    if (opts.retainUntil !== undefined) {
      // always both together (one without the other is InvalidArgument)
      input.ObjectLockMode = opts.lockMode ?? 'COMPLIANCE';
      input.ObjectLockRetainUntilDate = opts.retainUntil;
    }
    if (this.conditionalWrites) input.IfNoneMatch = '*';

    if (body instanceof Uint8Array) {
      input.Body = body;
      input.ContentLength = body.byteLength;
      input.ContentMD5 = opts.contentMd5 ?? createHash('md5').update(body).digest('base64');
      const out = await this.send((o) => this.sdk.send(new PutObjectCommand(input), o), 'put', name, {
        signal: opts.signal,
        put: input,
      });
      return putResult(out.VersionId);
    }

    const file = body;
    if (opts.contentMd5 !== undefined) {
      input.ContentMD5 = opts.contentMd5;
      let size: number;
      try {
        size = (await stat(file.path)).size;
      } catch (e) {
        throw fromSystemError(e, `reading ${file.path}`);
      }
      checkFileSize(name, file, size);
    } else {
      input.ContentMD5 = await md5OfFile(name, file, opts.signal);
    }
    input.ContentLength = file.size;
    // A streamed body can be sent once: every attempt gets a fresh stream. The file is opened here, not
    // by the stream: a stream opens on the thread pool after it is made, and when a failed attempt had
    // destroyed it and its run removed the pack folder meanwhile, that open's error still came, with
    // nobody listening, and ended the process. A file gone is now this attempt's failure.
    return this.retrying(opts.signal, async () => {
      let handle: FileHandle;
      try {
        handle = await open(file.path, 'r');
      } catch (e) {
        throw fromSystemError(e, `reading ${file.path}`);
      }
      const stream = handle.createReadStream({ highWaterMark: 1024 * 1024 });
      let readError: unknown;
      stream.on('error', (e) => (readError ??= e));
      try {
        const out = await this.sendOnce(
          (o) => this.sdk.send(new PutObjectCommand({ ...input, Body: stream }), o),
          'put',
          name,
          { signal: opts.signal, put: input },
        );
        if (readError !== undefined) throw readError; // reported below, like a failed request's
        return putResult(out.VersionId);
      } catch (e) {
        // what stopped the body is the cause, not the request that went without it
        if (readError !== undefined && !(e instanceof BulwarkError && e.code === 'CANCELED'))
          throw fromSystemError(readError, `reading ${file.path}`);
        throw e;
      } finally {
        stream.destroy(); // closes the file
      }
    });
  }

  // --- get / head / list ---------------------------------------------------------------------------------

  async get(name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    return this.read(name, undefined, range, signal);
  }

  /** Reads the current version, or the version `versionId`. */
  private async read(
    name: string,
    versionId: string | undefined,
    range: ByteRange | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    assertValidName(name);
    throwIfAborted(signal);
    if (range !== undefined) {
      assertValidRange(name, range);
      const { offset, length } = range;
      if (length === 0) {
        // HTTP cannot express an empty range: check the object exists and the offset is inside it
        const info = toInfo(name, (await this.headRaw(name, versionId)).out);
        if (offset > info.size) throw pastEnd(name, range, info.size);
        return Buffer.alloc(0);
      }
    }
    const cmd = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.key(name),
      VersionId: versionId,
      Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
    });
    // One attempt is the request and its whole body: a body that breaks off (or goes silent) midway is
    // asked for again, like a failed request.
    return this.retrying(signal, async () => {
      const out = await this.sendOnce((o) => this.sdk.send(cmd, o), 'get', name, { signal, range });
      let buf: Buffer = Buffer.alloc(0);
      let received: number;
      try {
        const body = out.Body;
        // only an answer that is exactly the range asked for goes to the sink (a server that ignored the
        // Range header and sent the whole object must not have its first bytes taken for the range's)
        if (range?.sink !== undefined && isAsyncIterable(body) && answersRange(out, range)) {
          received = await bodyToSink(body, range.length, range.sink);
        } else {
          if (body) ({ bytes: buf, received } = await bodyBytes(body, out.ContentLength));
          else received = 0;
        }
        if (out.ContentLength !== undefined && received !== out.ContentLength) {
          throw new BulwarkError(
            'NETWORK',
            `get ${this.describe(name)}: received ${received} of ${out.ContentLength} bytes`,
            { hint: 'check the connection / endpoint' },
          );
        }
      } catch (e) {
        if (signal?.aborted) throw new BulwarkError('CANCELED', 'the operation was canceled', { cause: e });
        // the answer had begun: a timeout now is silence in the middle of the body, never a connect timeout
        throw this.mapError(e, 'get', name, { connected: true });
      }
      if (range !== undefined && received !== range.length) {
        // S3 answers a range that runs past the end with what there is
        const total = Number(/\/(\d+)$/.exec(out.ContentRange ?? '')?.[1] ?? range.offset + received);
        throw pastEnd(name, range, total);
      }
      return buf;
    });
  }

  async head(name: string): Promise<ObjectInfo> {
    assertValidName(name);
    const { out } = await this.headRaw(name);
    return toInfo(name, out);
  }

  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    throwIfAborted(signal);
    if (!/^[A-Za-z0-9._/-]*$/.test(prefix)) {
      throw new BulwarkError('INVALID_ARGUMENT', `invalid list prefix: ${JSON.stringify(prefix)}`);
    }
    let token: string | undefined;
    let startAfter: string | undefined;
    for (;;) {
      const cmd = new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: this.key(prefix),
        MaxKeys: this.listPageSize,
        ContinuationToken: token,
        StartAfter: token === undefined ? startAfter : undefined,
      });
      const out = await this.send((o) => this.sdk.send(cmd, o), 'list', prefix, { signal });
      let last: string | undefined;
      for (const o of out.Contents ?? []) {
        if (o.Key === undefined || !o.Key.startsWith(this.root)) continue;
        last = o.Key;
        const info: ObjectInfo = { name: o.Key.slice(this.root.length), size: o.Size ?? 0 };
        if (o.LastModified) info.modified = o.LastModified;
        yield info;
      }
      if (!out.IsTruncated) return;
      token = out.NextContinuationToken;
      if (token === undefined) {
        // a server that truncates without a continuation token: go on after the last key seen
        if (last === undefined) return;
        startAfter = last;
      }
      throwIfAborted(signal);
    }
  }

  // --- versions ---------------------------------------------------------------------------------------

  /** Version-level access (ListObjectVersions, and every call by VersionId). */
  readonly versions: VersionedAccess = {
    listVersions: (prefix, signal) => this.listVersions(prefix, signal),
    getVersion: (name, versionId, range, signal) => this.read(name, versionId, range, signal),
    headVersion: async (name, versionId) => {
      assertValidName(name);
      return toInfo(name, (await this.headRaw(name, versionId)).out);
    },
    deleteVersion: (name, versionId) => this.deleteVersion(name, versionId),
    extendRetentionVersion: (name, versionId, retainUntil, mode) =>
      this.extendRetentionOf(name, versionId, retainUntil, mode),
    setLegalHoldVersion: (name, versionId, on) => this.setLegalHoldOf(name, versionId, on),
  };

  /**
   * Starts listing the versions under each prefix now, for a command about to spend a while on something
   * else (deriving the key: ~0.3 s with the main thread idle). The next `listVersions` of such a prefix
   * begins with that first page instead of asking again, once, and only while it is younger than
   * `PREFETCH_FRESH_MS`: a listing taken a moment earlier is what a slower network would have given.
   */
  prefetchListings(prefixes: readonly string[]): void {
    for (const prefix of prefixes) {
      const pending = this.prefetched.get(prefix);
      if (pending && this.now() - pending.at <= PREFETCH_FRESH_MS) continue; // asked already, not yet taken
      const page = this.listVersionsPage(prefix, undefined, undefined);
      // not an unhandled rejection while nobody waits for it: the listing that takes it gets its failure
      page.catch(() => undefined);
      this.prefetched.set(prefix, { at: this.now(), page });
    }
  }

  private async *listVersions(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectVersion> {
    throwIfAborted(signal);
    const ahead = this.takePrefetched(prefix);
    let out = ahead
      ? await untilAborted(ahead, signal)
      : await this.listVersionsPage(prefix, undefined, signal);
    for (;;) {
      yield* out.versions;
      if (!out.next) return;
      throwIfAborted(signal);
      out = await this.listVersionsPage(prefix, out.next, signal);
    }
  }

  /**
   * The prefetched first page of `prefix`, taken once, while fresh. Its failure is this listing's failure:
   * the same request, sent a moment earlier (asking again would wait out the retries a second time).
   */
  private takePrefetched(prefix: string): Promise<VersionsPage> | undefined {
    const ahead = this.prefetched.get(prefix);
    if (!ahead) return undefined;
    this.prefetched.delete(prefix);
    return this.now() - ahead.at <= PREFETCH_FRESH_MS ? ahead.page : undefined;
  }

  /** One page of ListObjectVersions, in S3's order (by key, newest first), and where the next one starts. */
  private async listVersionsPage(
    prefix: string,
    from: VersionsPage['next'],
    signal: AbortSignal | undefined,
  ): Promise<VersionsPage> {
    if (!/^[A-Za-z0-9._/-]*$/.test(prefix)) {
      throw new BulwarkError('INVALID_ARGUMENT', `invalid list prefix: ${JSON.stringify(prefix)}`);
    }
    const cmd = new ListObjectVersionsCommand({
      Bucket: this.bucket,
      Prefix: this.key(prefix),
      MaxKeys: this.listPageSize,
      KeyMarker: from?.keyMarker,
      VersionIdMarker: from?.versionMarker,
    });
    const out = await this.send((o) => this.sdk.send(cmd, o), 'list', prefix, signal ? { signal } : {});
    // A page holds versions and delete markers in two lists; merged back into S3's order.
    const page: ObjectVersion[] = [];
    const add = (
      e: { Key?: string; VersionId?: string; IsLatest?: boolean; LastModified?: Date },
      deleteMarker: boolean,
      size: number,
    ): void => {
      if (e.Key === undefined || !e.Key.startsWith(this.root)) return;
      page.push({
        name: e.Key.slice(this.root.length),
        versionId: e.VersionId ?? 'null',
        deleteMarker,
        isLatest: e.IsLatest === true,
        size,
        ...(e.LastModified ? { modified: e.LastModified } : {}),
      });
    };
    for (const v of out.Versions ?? []) add(v, false, v.Size ?? 0);
    for (const m of out.DeleteMarkers ?? []) add(m, true, 0);
    page.sort(newestFirstByName);
    const more = out.IsTruncated === true && out.NextKeyMarker !== undefined;
    return {
      versions: page,
      ...(more ? { next: { keyMarker: out.NextKeyMarker!, versionMarker: out.NextVersionIdMarker } } : {}),
    };
  }

  private async deleteVersion(name: string, versionId: string): Promise<void> {
    assertValidName(name);
    const cmd = new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name), VersionId: versionId });
    try {
      await this.send((o) => this.sdk.send(cmd, o), 'delete', name);
    } catch (e) {
      if (e instanceof BulwarkError && e.code === 'NOT_FOUND') return;
      if (e instanceof BulwarkError && e.code === 'PERMISSION') {
        // refused: say LOCKED when that version is under retention or legal hold
        let head: { out: HeadObjectCommandOutput; date: Date | undefined } | undefined;
        try {
          head = await this.headRaw(name, versionId);
        } catch {
          head = undefined; // a delete marker cannot be HEADed: the refusal stands as it is
        }
        if (head && isLocked(head.out, head.date ?? this.clock.now())) {
          throw lockedError(this.describe(name), head.out, e);
        }
      }
      throw e;
    }
  }

  // --- delete / retention -----------------------------------------------------------------------------

  /**
   * Deletes the current version by its VersionId (a plain DeleteObject on a versioned bucket would only
   * add a delete marker and free nothing); older versions that surface are deleted too. A refusal of a
   * locked version (retention or legal hold) is LOCKED. Idempotent: a missing name is not an error.
   * Not handled yet: versions hidden under a delete marker (HEAD reports 404 for them) — a later
   * version-aware prune should list versions.
   */
  async delete(name: string): Promise<void> {
    assertValidName(name);
    let previous: string | undefined;
    for (let round = 0; round < 32; round++) {
      let head: { out: HeadObjectCommandOutput; date: Date | undefined };
      try {
        head = await this.headRaw(name);
      } catch (e) {
        if (e instanceof BulwarkError && e.code === 'NOT_FOUND') return;
        throw e;
      }
      const versionId = head.out.VersionId;
      if (versionId !== undefined && versionId === previous) {
        throw new BulwarkError(
          'INTERNAL',
          `delete ${this.describe(name)}: version ${versionId} is still there`,
        );
      }
      try {
        const cmd = new DeleteObjectCommand({
          Bucket: this.bucket,
          Key: this.key(name),
          VersionId: versionId,
        });
        await this.send((o) => this.sdk.send(cmd, o), 'delete', name);
      } catch (e) {
        if (
          e instanceof BulwarkError &&
          e.code === 'PERMISSION' &&
          isLocked(head.out, head.date ?? this.clock.now())
        ) {
          throw lockedError(this.describe(name), head.out, e);
        }
        throw e;
      }
      if (versionId === undefined || versionId === 'null') return; // unversioned bucket: gone
      previous = versionId;
    }
    throw new BulwarkError('INTERNAL', `delete ${this.describe(name)}: too many versions`);
  }

  /**
   * Lengthens the retention of the current version; never shortens it (a date at or before the current
   * one is a no-op). The object's current mode is kept: COMPLIANCE can never be weakened, and S3/RGW
   * refuse to change GOVERNANCE without a governance bypass, which Bulwark never sends.
   */
  async extendRetention(name: string, retainUntil: Date, mode: LockMode): Promise<void> {
    return this.extendRetentionOf(name, undefined, retainUntil, mode);
  }

  private async extendRetentionOf(
    name: string,
    versionId: string | undefined,
    retainUntil: Date,
    mode: LockMode,
  ): Promise<void> {
    assertValidName(name);
    const { out } = await this.headRaw(name, versionId);
    const current = out.ObjectLockRetainUntilDate;
    if (current !== undefined && current.getTime() >= retainUntil.getTime()) return;
    const effective: LockMode =
      out.ObjectLockMode === 'COMPLIANCE' || out.ObjectLockMode === 'GOVERNANCE' ? out.ObjectLockMode : mode;
    const cmd = new PutObjectRetentionCommand({
      Bucket: this.bucket,
      Key: this.key(name),
      VersionId: out.VersionId,
      Retention: { Mode: effective, RetainUntilDate: retainUntil },
    });
    await this.send((o) => this.sdk.send(cmd, o), 'retention', name);
  }

  /** Places or lifts an S3 legal hold on the current version (whoever may set it may lift it). */
  async setLegalHold(name: string, on: boolean): Promise<void> {
    return this.setLegalHoldOf(name, undefined, on);
  }

  private async setLegalHoldOf(name: string, versionId: string | undefined, on: boolean): Promise<void> {
    assertValidName(name);
    const { out } = await this.headRaw(name, versionId);
    const cmd = new PutObjectLegalHoldCommand({
      Bucket: this.bucket,
      Key: this.key(name),
      VersionId: out.VersionId,
      LegalHold: { Status: on ? 'ON' : 'OFF' },
    });
    await this.send((o) => this.sdk.send(cmd, o), 'legal hold', name);
  }

  /**
   * Whether the bucket can hold locked objects: versioning Enabled and Object Lock enabled. Read only:
   * never changes a bucket setting.
   */
  async lockSupport(): Promise<{ versioning: string; objectLock: boolean; defaultRetention?: string }> {
    const v = await this.send(
      (o) => this.sdk.send(new GetBucketVersioningCommand({ Bucket: this.bucket }), o),
      'head',
      '',
    );
    let objectLock = false;
    let defaultRetention: string | undefined;
    try {
      const c = await this.send(
        (o) => this.sdk.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }), o),
        'head',
        '',
      );
      objectLock = c.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
      const r = c.ObjectLockConfiguration?.Rule?.DefaultRetention;
      if (r) defaultRetention = `${r.Mode ?? '?'} ${r.Days ?? r.Years ?? '?'} ${r.Days ? 'days' : 'years'}`;
    } catch (e) {
      // ObjectLockConfigurationNotFoundError (UNSUPPORTED) or a bare 404: the bucket was created without
      // Object Lock, which is the answer. Anything else (the server down, access denied) is no answer.
      if (!(e instanceof BulwarkError) || (e.code !== 'UNSUPPORTED' && e.code !== 'NOT_FOUND')) throw e;
    }
    return {
      versioning: v.Status ?? 'Disabled',
      objectLock,
      ...(defaultRetention ? { defaultRetention } : {}),
    };
  }

  // --- server time -----------------------------------------------------------------------------------

  /**
   * The server's clock, from the Date header of a HeadBucket (1 s resolution), as an offset to the
   * injected clock that is reused for serverTimeTtlMs. Retain-until dates come from this clock, not the
   * local one (DESIGN.md §3). Also a cheap check that the bucket exists and the keys may list it.
   */
  async serverTime(): Promise<Date> {
    const now = this.clock.now().getTime();
    const cached = this.timeOffset;
    if (cached && now - cached.measuredAt >= 0 && now - cached.measuredAt < this.serverTimeTtlMs) {
      return new Date(now + cached.offsetMs);
    }
    // one request for everyone who asks while it is out (a command warms the clock while the key is derived)
    this.timeAsked ??= this.askServerTime().finally(() => (this.timeAsked = undefined));
    return this.timeAsked;
  }

  private timeAsked: Promise<Date> | undefined;

  private async askServerTime(): Promise<Date> {
    const before = this.clock.now().getTime();
    const cmd = new HeadBucketCommand({ Bucket: this.bucket });
    let date: Date | undefined;
    cmd.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        date = dateHeader(result.response);
        return result;
      },
      { step: 'deserialize', priority: 'high', name: 'bulwarkCaptureDate' },
    );
    await this.send((o) => this.sdk.send(cmd, o), 'server time', '');
    const after = this.clock.now().getTime();
    if (date === undefined) return new Date(after); // every HTTP/1.1 server must send Date; be lenient
    // Date is truncated to the second: the server's "now" lies in [date, date + 1 s) — take the middle,
    // and compare it with the middle of the request's round trip.
    const offsetMs = date.getTime() + 500 - (before + after) / 2;
    this.timeOffset = { offsetMs, measuredAt: after };
    return new Date(after + offsetMs);
  }

  async close(): Promise<void> {
    this.sdk.destroy();
    this.client.destroy();
  }

  // --- plumbing --------------------------------------------------------------------------------------------

  private async exists(name: string): Promise<boolean> {
    try {
      await this.headRaw(name);
      return true;
    } catch (e) {
      if (e instanceof BulwarkError && e.code === 'NOT_FOUND') return false;
      throw e;
    }
  }

  private async headRaw(
    name: string,
    versionId?: string,
  ): Promise<{ out: HeadObjectCommandOutput; date: Date | undefined }> {
    const cmd = new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name), VersionId: versionId });
    let date: Date | undefined;
    cmd.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        date = dateHeader(result.response);
        return result;
      },
      { step: 'deserialize', priority: 'high', name: 'bulwarkCaptureDate' },
    );
    const out = await this.send((o) => this.sdk.send(cmd, o), 'head', name);
    return { out, date };
  }

  /**
   * Runs one SDK call (`o` carries the abort signal), retried on NETWORK failures (see `retrying`), and
   * maps its failure to a BulwarkError. `ctx.put` / `ctx.range` tell the error mapping what was asked.
   * Only for in-memory bodies: a streamed one is sent once per stream (put and read call sendOnce).
   */
  private async send<T>(
    call: (o: { abortSignal?: AbortSignal }) => Promise<T>,
    op: Op,
    name: string,
    ctx: SendContext = {},
  ): Promise<T> {
    return this.retrying(ctx.signal, () => this.sendOnce(call, op, name, ctx));
  }

  /** One attempt of an SDK call, its failure mapped to a BulwarkError. */
  private async sendOnce<T>(
    call: (o: { abortSignal?: AbortSignal }) => Promise<T>,
    op: Op,
    name: string,
    ctx: SendContext = {},
  ): Promise<T> {
    const { signal } = ctx;
    throwIfAborted(signal);
    const started = this.now();
    try {
      return await call(signal ? { abortSignal: signal } : {});
    } catch (e) {
      if (signal?.aborted) throw new BulwarkError('CANCELED', 'the operation was canceled', { cause: e });
      throw this.mapError(e, op, name, { put: ctx.put, range: ctx.range, attemptMs: this.now() - started });
    }
  }

  /**
   * Runs `fn` (one attempt of an operation) again after a failure worth retrying, with exponential
   * backoff: NETWORK failures up to maxAttempts, but a server that stayed silent only while the operation
   * is younger than retryDeadlineMs (each silent attempt costs a whole idle timeout); and once after the
   * SDK corrected its clock offset from a RequestTimeTooSkewed answer (it signs the next attempt right).
   */
  private async retrying<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const started = this.now();
    if (this.silence && started < this.silence.until) {
      const { error } = this.silence;
      throw new BulwarkError('NETWORK', `${error.message} (not asked again for a minute)`, {
        cause: error,
        ...(error.hint !== undefined ? { hint: error.hint } : {}),
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await fn();
        this.silence = undefined;
        return value;
      } catch (e) {
        if (!(e instanceof BulwarkError)) throw e;
        const silent = e.code === 'NETWORK' && SILENCE.has(e);
        // another operation gave up on the silent server meanwhile (uploads run side by side): stop too
        const givenUp = this.silence !== undefined && this.now() < this.silence.until;
        const again =
          !givenUp &&
          attempt < this.maxAttempts &&
          (e.code === 'NETWORK'
            ? !silent || this.now() - started < this.retryDeadlineMs
            : e.code === 'PERMISSION' && attempt === 1 && clockSkewCorrected(e.cause));
        if (!again) {
          if (silent) this.silence = { until: this.now() + this.retryDeadlineMs, error: e };
          throw e;
        }
        await backoff(attempt, signal);
      }
    }
  }

  /** Maps an SDK / network error to a BulwarkError (decided on error name and HTTP status, never text). */
  private mapError(
    e: unknown,
    op: Op,
    name: string,
    ctx: {
      put?: PutObjectCommandInput | undefined;
      range?: ByteRange | undefined;
      /** how long the failed attempt ran (tells a connect timeout from silence after connecting) */
      attemptMs?: number;
      /** the answer had begun (a body read) */
      connected?: boolean;
    } = {},
  ): BulwarkError {
    if (e instanceof BulwarkError) return e;
    const { put, range } = ctx;
    const err = (e ?? {}) as SdkErrorLike;
    const what =
      op === 'server time' || op === 'list' ? `${op} ${this.location}` : `${op} ${this.describe(name)}`;
    const status = err.$metadata?.httpStatusCode;
    const sdkName = err.Code ?? err.name ?? '';
    const make = (code: ErrorCode, msg: string, hint?: string): BulwarkError =>
      new BulwarkError(code, `${what}: ${msg}`, hint === undefined ? { cause: e } : { cause: e, hint });

    if (sdkName === 'AbortError')
      return new BulwarkError('CANCELED', 'the operation was canceled', { cause: e });
    const sysCode = systemCode(e);
    if (sysCode !== undefined && FS_CODES.has(sysCode) && status === undefined) {
      return fromSystemError(e, `${what} (reading the local file)`);
    }
    // The smithy handler's own timers (connect, idle socket) fail with a TimeoutError and no system code
    // (it also renames ECONNRESET/EPIPE/ETIMEDOUT errors TimeoutError, but those keep their code).
    if (status === undefined && sdkName === 'TimeoutError' && sysCode === undefined) {
      const connectTimeout = ctx.connected !== true && (ctx.attemptMs ?? Infinity) < this.idleMs;
      const err = connectTimeout
        ? new BulwarkError(
            'NETWORK',
            `the server at ${this.endpointLabel} does not answer (no connection within ${seconds(this.connectMs)}): ${what}`,
            {
              cause: e,
              hint: 'Check the endpoint (address and port), that the server is switched on and reachable from this computer, and that no firewall drops the connection.',
            },
          )
        : new BulwarkError(
            'NETWORK',
            `the server at ${this.endpointLabel} stopped answering (no reply for ${seconds(this.idleMs)}): ${what}`,
            {
              cause: e,
              hint: 'It accepted the connection, then sent nothing: it may be frozen, overloaded or asleep (a NAS on busy disks). Check that it works (its web page, a restart), then run the command again; nothing half-written is used.',
            },
          );
      SILENCE.add(err);
      return err;
    }
    if (sdkName === 'CredentialsProviderError') {
      return make(
        'PERMISSION',
        'no S3 access key was found for this computer',
        'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or AWS_PROFILE to a profile ' +
          'in ~/.aws/credentials that holds the keys for this bucket.',
      );
    }
    if (status === undefined && sysCode === 'EPROTO' && this.endpointLabel.startsWith('https:')) {
      // OpenSSL's "wrong version number": the server answered the TLS hello in plain HTTP
      return new BulwarkError(
        'NETWORK',
        `the server at ${this.endpointLabel} does not speak HTTPS; try http://${this.endpointLabel.slice('https://'.length)}`,
        {
          cause: e,
          hint: 'Many NAS and self-hosted S3 servers (MinIO, Ceph) listen on plain HTTP unless TLS was set up: use --endpoint http://…, or the port where the server offers HTTPS.',
        },
      );
    }
    if (sysCode === 'ERR_INVALID_URL') {
      return make('INVALID_ARGUMENT', `the endpoint ${this.endpointLabel} is not a valid URL`);
    }
    if (
      status === undefined &&
      ((sysCode !== undefined && NETWORK_CODES.has(sysCode)) ||
        sdkName === 'TimeoutError' ||
        /socket hang up/i.test(err.message ?? ''))
    ) {
      return make(
        'NETWORK',
        `cannot reach the server (${sysCode ?? sdkName ?? 'network error'})`,
        'check the connection / endpoint',
      );
    }

    switch (sdkName) {
      case 'NoSuchBucket':
        return make(
          'REPO_NOT_FOUND',
          `bucket ${this.bucket} does not exist`,
          'Check the bucket name, region and endpoint (or create the bucket with Object Lock enabled).',
        );
      case 'NoSuchKey':
      case 'NoSuchVersion':
        return make('NOT_FOUND', 'not found');
      case 'InvalidRange':
        return range ? pastEnd(name, range, undefined, e) : make('INVALID_ARGUMENT', 'invalid range');
      case 'PreconditionFailed':
        if (op === 'put') return make('ALREADY_EXISTS', 'already exists');
        break;
      case 'BadDigest':
      case 'InvalidDigest':
        return make(
          'CORRUPT',
          'the server received bytes that do not match their Content-MD5',
          'The file changed while it was uploaded, or the data was damaged in transit: run the backup again.',
        );
      case 'InvalidAccessKeyId':
      case 'SignatureDoesNotMatch':
        return make(
          'PERMISSION',
          'the server refused the access key',
          'Check the access key ID and secret key.',
        );
      case 'RequestTimeTooSkewed':
        return make(
          'PERMISSION',
          "this computer's clock differs too much from the server's",
          'Set the system clock right (enable network time sync).',
        );
      case 'InvalidBucketName':
        return make('INVALID_ARGUMENT', `invalid bucket name ${this.bucket}`);
      case 'ObjectLockConfigurationNotFoundError':
        return noObjectLock(what, this.bucket, e);
      case 'SlowDown':
      case 'ServiceUnavailable':
      case 'InternalError':
      case 'RequestTimeout':
        return make(
          'NETWORK',
          `the server is busy or failing (${sdkName})`,
          'Try again later; check the endpoint.',
        );
      default:
        break;
    }

    // Decide on the HTTP status (RGW's error bodies often carry no message: "UnknownError").
    if (status === 404) {
      if (op === 'server time' || op === 'list') {
        return make(
          'REPO_NOT_FOUND',
          `bucket ${this.bucket} does not exist`,
          'Check the bucket name, region and endpoint.',
        );
      }
      return make('NOT_FOUND', 'not found');
    }
    if (status === 403) {
      return make(
        'PERMISSION',
        `access denied (${sdkName || 'AccessDenied'})`,
        'Check that these keys may use this bucket (bucket policy / key capabilities).',
      );
    }
    if (status === 400 && (op === 'retention' || (op === 'put' && put?.ObjectLockMode !== undefined))) {
      if (sdkName === 'InvalidRequest') return noObjectLock(what, this.bucket, e);
      if (sdkName === 'InvalidArgument') {
        return make('INVALID_ARGUMENT', 'the server refused the retention date (it must be in the future)');
      }
    }
    if (status === 416)
      return range ? pastEnd(name, range, undefined, e) : make('INVALID_ARGUMENT', 'invalid range');
    if (status === 409) return make('ALREADY_EXISTS', `conflict (${sdkName})`);
    if (status === 501) return make('UNSUPPORTED', `the server does not implement this (${sdkName})`);
    if (status !== undefined && (status >= 500 || status === 429)) {
      return make('NETWORK', `server error ${status} (${sdkName})`, 'Try again later; check the endpoint.');
    }
    if (status !== undefined && status >= 400) {
      return make(
        'INVALID_ARGUMENT',
        `the server refused the request: ${status} ${sdkName} ${err.message ?? ''}`.trim(),
      );
    }
    return make('IO', `${sdkName || 'error'}: ${err.message ?? String(e)}`);
  }
}

interface SendContext {
  signal?: AbortSignal | undefined;
  put?: PutObjectCommandInput;
  range?: ByteRange | undefined;
}

function positive(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}

/** "30 s", "1.5 s", "500 ms" */
function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** The SDK's signer marks an error after which it moved its clock offset to the server's Date. */
function clockSkewCorrected(e: unknown): boolean {
  return (
    (e as { $metadata?: { clockSkewCorrected?: boolean } } | undefined)?.$metadata?.clockSkewCorrected ===
    true
  );
}

/** Exponential backoff with jitter, like the SDK's standard retry: ~100 ms, 200 ms, ... up to 20 s. */
async function backoff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfAborted(signal);
  const delay = Math.min(20_000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
  await new Promise((r) => setTimeout(r, delay));
  throwIfAborted(signal);
}

function systemCode(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  let cur: unknown = e;
  while (cur && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur);
    const c = cur as SdkErrorLike;
    if (typeof c.code === 'string') return c.code;
    if (Array.isArray(c.errors)) {
      for (const inner of c.errors) {
        const code = (inner as SdkErrorLike | undefined)?.code;
        if (typeof code === 'string') return code;
      }
    }
    cur = c.cause;
  }
  return undefined;
}

function noObjectLock(what: string, bucket: string, cause: unknown): BulwarkError {
  return new BulwarkError('UNSUPPORTED', `${what}: bucket ${bucket} does not have Object Lock enabled`, {
    cause,
    hint: 'Use a bucket created with Object Lock enabled (on most providers it cannot be switched on later).',
  });
}

function pastEnd(name: string, range: ByteRange, size: number | undefined, cause?: unknown): BulwarkError {
  const of = size === undefined ? '' : ` (${size} bytes)`;
  return new BulwarkError(
    'INVALID_ARGUMENT',
    `range ${range.offset}+${range.length} is past the end of ${name}${of}`,
    cause === undefined ? undefined : { cause },
  );
}

function checkFileSize(name: string, file: { path: string; size: number }, actual: number): void {
  if (actual !== file.size) {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `put ${name}: file ${file.path} has ${actual} bytes, the caller said ${file.size}`,
    );
  }
}

/** base64 MD5 of a file, read in 4 MiB pieces (never held whole); checks its size. */
async function md5OfFile(
  name: string,
  file: { path: string; size: number },
  signal?: AbortSignal,
): Promise<string> {
  const hash = createHash('md5');
  let total = 0;
  let fh;
  try {
    fh = await open(file.path, 'r');
  } catch (e) {
    throw fromSystemError(e, `reading ${file.path}`);
  }
  try {
    const buf = Buffer.allocUnsafe(Math.min(HASH_PIECE, Math.max(1, file.size)));
    for (;;) {
      throwIfAborted(signal);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > file.size) break;
    }
  } catch (e) {
    if (e instanceof BulwarkError) throw e;
    throw fromSystemError(e, `reading ${file.path}`);
  } finally {
    await fh.close();
  }
  checkFileSize(name, file, total);
  return hash.digest('base64');
}

/** An unversioned bucket answers no version id (or "null"): nothing to pin. */
function putResult(versionId: string | undefined): PutResult {
  return versionId === undefined || versionId === 'null' ? {} : { versionId };
}

/** `promise`, or CANCELED as soon as `signal` aborts (the promise itself goes on; its outcome is dropped). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  throwIfAborted(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new BulwarkError('CANCELED', 'the operation was canceled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** One page of a versions listing and the markers of the next, if any. */
interface VersionsPage {
  versions: ObjectVersion[];
  next?: { keyMarker: string; versionMarker: string | undefined };
}

/** S3's order for versions: by name, then newest first (the current version first). */
function newestFirstByName(a: ObjectVersion, b: ObjectVersion): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.isLatest !== b.isLatest) return a.isLatest ? -1 : 1;
  return (b.modified?.getTime() ?? 0) - (a.modified?.getTime() ?? 0);
}

function toInfo(name: string, out: HeadObjectCommandOutput): ObjectInfo {
  const info: ObjectInfo = { name, size: out.ContentLength ?? 0 };
  if (out.VersionId !== undefined && out.VersionId !== 'null') info.versionId = out.VersionId;
  if (out.LastModified) info.modified = out.LastModified;
  if (out.ObjectLockRetainUntilDate) info.retainUntil = out.ObjectLockRetainUntilDate;
  if (out.ObjectLockMode === 'COMPLIANCE' || out.ObjectLockMode === 'GOVERNANCE')
    info.lockMode = out.ObjectLockMode;
  if (out.ObjectLockLegalHoldStatus !== undefined) info.legalHold = out.ObjectLockLegalHoldStatus === 'ON';
  return info;
}

function isLocked(out: HeadObjectCommandOutput, serverNow: Date): boolean {
  if (out.ObjectLockLegalHoldStatus === 'ON') return true;
  const until = out.ObjectLockRetainUntilDate;
  return until !== undefined && until.getTime() > serverNow.getTime();
}

function lockedError(what: string, out: HeadObjectCommandOutput, cause: unknown): BulwarkError {
  const parts: string[] = [];
  if (out.ObjectLockRetainUntilDate) {
    parts.push(
      `retained (${out.ObjectLockMode ?? 'lock'}) until ${out.ObjectLockRetainUntilDate.toISOString()}`,
    );
  }
  if (out.ObjectLockLegalHoldStatus === 'ON') parts.push('under legal hold');
  return new BulwarkError('LOCKED', `${what} is locked: ${parts.join(', ')}`, {
    cause,
    hint: 'Objects under retention or legal hold cannot be deleted before their retention date.',
  });
}
