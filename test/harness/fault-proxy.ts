/**
 * A fault-injecting HTTP reverse proxy for S3 tests: listens on 127.0.0.1 (ephemeral port) in front of an
 * S3 endpoint (the test RGW) and, per request, with a seeded PRNG and configurable rates, injects
 *
 *   reset-before-body   TCP reset as soon as the request head arrives (the body is never read)
 *   reset-after-body    the whole request body is read, then a TCP reset (the server never saw it)
 *   reset-mid-response  forwarded (the server DID act on it), then a reset before or partway through the
 *                       response body: the client never learns the outcome (a PUT that "failed" but landed)
 *   slow-down           503 SlowDown with an S3 XML error body
 *   internal-error      500 InternalError with an S3 XML error body
 *   delay               (independent of the above) a pause before the request is handled
 *
 * `hold` parks the requests it picks: never answered nor forwarded, their connections open until `down()`
 * resets them. A test that must take the server away between two given requests holds the second one,
 * so how fast the machine is cannot decide which requests got through.
 *
 * `down()` makes the server "gone": every open connection is reset and new ones are refused
 * (ECONNREFUSED) — or, with `down('reset')`, accepted and reset at once; `up()` brings it back on the same
 * port. Bodies are streamed both ways (never buffered: packs are up to 64 MiB).
 *
 * SigV4 signs the Host header, so requests are forwarded unchanged (same Host, same headers, same path):
 * point the S3 client's endpoint at `proxy.endpoint`. Only hop-by-hop headers are dropped; `Expect:
 * 100-continue` is answered here (S3 clients send it on large PUTs; it is not signed).
 *
 *   const proxy = await startFaultProxy({ target: rgw.endpoint, seed: 7, rates: { slowDown: 0.03 } });
 *   new S3Store({ ..., endpoint: proxy.endpoint });
 *   proxy.stats.faults['slow-down'], proxy.stats.requests.PUT, proxy.log, await proxy.down(), ...
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';

export type FaultKind =
  'reset-before-body' | 'reset-after-body' | 'reset-mid-response' | 'slow-down' | 'internal-error' | 'delay';

/** the faults that replace a request's normal handling (a delay only postpones it) */
export type InjectedFault = Exclude<FaultKind, 'delay'>;

/** Probabilities per request (0..1). The first five are exclusive (their sum must be ≤ 1). */
export interface FaultRates {
  resetBeforeBody?: number;
  resetAfterBody?: number;
  resetMidResponse?: number;
  slowDown?: number;
  internalError?: number;
  /** independent of the others: probability of a pause of `delayMs` before handling the request */
  delay?: number;
}

export interface FaultProxyOptions {
  /** the real server, e.g. http://127.0.0.1:7480 */
  target: string;
  /** PRNG seed: the same seed and the same request order give the same faults (default 1) */
  seed?: number;
  rates?: FaultRates;
  /** range of an injected delay in ms (default 10..200) */
  delayMs?: { min: number; max: number };
  /** which requests may be faulted (default: every request) */
  eligible?: (req: { method: string; url: string }) => boolean;
  /**
   * Decides a request's fate instead of the PRNG: a kind forces that fault, null forces none, undefined
   * leaves it to the rates. `seq` counts requests from 1. For deterministic coverage, e.g. "the first
   * pack PUT is reset".
   */
  override?: (req: { method: string; url: string; seq: number }) => InjectedFault | null | undefined;
  /**
   * Requests for which this says true are parked: never forwarded nor answered, until `down()` resets
   * their connections; nothing is injected into them (their random numbers are still drawn, so the other
   * requests' faults stay those of the seed). Logged with `held: true`.
   */
  hold?: (req: { method: string; url: string; seq: number }) => boolean;
  /**
   * Reuse connections to the server (default false: one connection per forwarded request). Ceph RGW's
   * beast frontend without `tcp_nodelay=1` stalls ~40 ms (Nagle + delayed ACK) on every small response
   * over a reused connection; a fresh connection answers in ~3 ms on 127.0.0.1.
   */
  upstreamKeepAlive?: boolean;
}

export interface ProxyLogEntry {
  method: string;
  /** path and query as received */
  url: string;
  /** the fault injected, if any (a delay is not recorded here: see stats.faults.delay) */
  fault?: InjectedFault;
  /** status of a response relayed to the client in full (forwarded requests only) */
  status?: number;
  /** parked by `hold`: never forwarded */
  held?: boolean;
}

export interface FaultProxyStats {
  /** every request head received, by method */
  requests: Record<string, number>;
  /** faults injected, by kind */
  faults: Record<FaultKind, number>;
  /** requests passed on to the server, by method (reset-mid-response ones included) */
  forwarded: Record<string, number>;
  /** responses relayed to the client in full, by "METHOD status" (e.g. "PUT 200") */
  completed: Record<string, number>;
  /** connections accepted and reset while down('reset') */
  refusedConnections: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  readonly stats: FaultProxyStats;
  /** one entry per request received, in arrival order */
  readonly log: ProxyLogEntry[];
  readonly isDown: boolean;
  /** replaces the fault rates (e.g. `setRates({})` to stop injecting) */
  setRates(rates: FaultRates): void;
  /** total injected faults of the given kinds (default: all but delay) */
  faultCount(kinds?: FaultKind[]): number;
  /** zeroes stats and clears the log */
  resetStats(): void;
  /**
   * The server is gone: resets every open connection (client and upstream side), then refuses new
   * connections ('refuse', default: nothing listens on the port) or accepts and resets them ('reset').
   */
  down(mode?: 'refuse' | 'reset'): Promise<void>;
  /** Serves again, on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** mulberry32: small, fast, seedable */
function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = t;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus Expect, which this proxy answers itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** rawHeaders minus hop-by-hop ones, still as a flat [name, value, ...] list (order, case kept). */
function endToEnd(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1]!);
  }
  return out;
}

const ERRORS = {
  'slow-down': { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  'internal-error': {
    status: 500,
    code: 'InternalError',
    message: 'We encountered an internal error. Please try again.',
  },
} as const;

function emptyStats(): FaultProxyStats {
  return {
    requests: {},
    faults: {
      'reset-before-body': 0,
      'reset-after-body': 0,
      'reset-mid-response': 0,
      'slow-down': 0,
      'internal-error': 0,
      delay: 0,
    },
    forwarded: {},
    completed: {},
    refusedConnections: 0,
  };
}

function inc(rec: Record<string, number>, key: string): void {
  rec[key] = (rec[key] ?? 0) + 1;
}

/** Starts the proxy on 127.0.0.1 (ephemeral port). */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target);
  if (target.protocol !== 'http:') throw new Error(`fault proxy: only http:// targets (${opts.target})`);
  const upstreamHost = target.hostname;
  const upstreamPort = Number(target.port || 80);
  const random = prng(opts.seed ?? 1);
  let rates: FaultRates = { ...opts.rates };
  const delayRange = opts.delayMs ?? { min: 10, max: 200 };
  let stats = emptyStats();
  const log: ProxyLogEntry[] = [];
  const sockets = new Set<Socket>();
  const upstreamRequests = new Set<http.ClientRequest>();
  const agent = new http.Agent({ keepAlive: opts.upstreamKeepAlive ?? false });
  let downMode: 'refuse' | 'reset' | undefined;
  let requestSeq = 0;

  const checkRates = (r: FaultRates): void => {
    const exclusive =
      (r.resetBeforeBody ?? 0) +
      (r.resetAfterBody ?? 0) +
      (r.resetMidResponse ?? 0) +
      (r.slowDown ?? 0) +
      (r.internalError ?? 0);
    if (exclusive > 1) throw new Error(`fault proxy: exclusive fault rates sum to ${exclusive} > 1`);
  };
  checkRates(rates);

  const pick = (u: number): InjectedFault | undefined => {
    const order: [InjectedFault, number | undefined][] = [
      ['reset-before-body', rates.resetBeforeBody],
      ['reset-after-body', rates.resetAfterBody],
      ['reset-mid-response', rates.resetMidResponse],
      ['slow-down', rates.slowDown],
      ['internal-error', rates.internalError],
    ];
    let acc = 0;
    for (const [kind, rate] of order) {
      acc += rate ?? 0;
      if (u < acc) return kind;
    }
    return undefined;
  };

  /** a TCP RST, as a crashed or overloaded server / middlebox gives */
  const reset = (socket: Socket): void => {
    if (socket.destroyed) return;
    socket.resetAndDestroy();
  };

  const sendError = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    kind: 'slow-down' | 'internal-error',
    expectsContinue: boolean,
    requestId: string,
  ): void => {
    const e = ERRORS[kind];
    const body = Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${e.message}</Message>` +
        `<Resource>${escapeXml(req.url ?? '/')}</Resource><RequestId>${requestId}</RequestId>` +
        `<HostId>fault-proxy</HostId></Error>`,
    );
    const respond = (close: boolean): void => {
      if (res.headersSent || res.destroyed) return;
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/xml',
        'content-length': body.length,
        'x-amz-request-id': requestId,
        date: new Date().toUTCString(),
      };
      if (close) headers.connection = 'close';
      res.writeHead(e.status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (expectsContinue) {
      // as S3 does: answer instead of "100 Continue"; the client then never sends the body
      respond(true);
      return;
    }
    // read (and discard) the body first, so the client is not cut off while it is still writing
    req.on('error', () => {});
    req.on('end', () => respond(false));
    req.resume();
  };

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    entry: ProxyLogEntry,
    cutResponse: boolean,
    expectsContinue: boolean,
  ): void => {
    const method = entry.method;
    inc(stats.forwarded, method);
    if (expectsContinue) res.writeContinue();
    const upReq = http.request({
      host: upstreamHost,
      port: upstreamPort,
      method,
      path: req.url,
      headers: endToEnd(req.rawHeaders), // Host included, unchanged: the signature covers it
      agent,
    });
    upstreamRequests.add(upReq);
    upReq.on('close', () => upstreamRequests.delete(upReq));
    const clientSocket = req.socket;

    upReq.on('response', (upRes) => {
      const status = upRes.statusCode ?? 502;
      if (cutResponse) {
        // The server has acted on the request; the client never learns how it went.
        const length = Number(upRes.headers['content-length'] ?? 0);
        if (method === 'HEAD' || !(length > 1)) {
          upRes.destroy();
          reset(clientSocket);
          return;
        }
        res.writeHead(status, upRes.statusMessage, endToEnd(upRes.rawHeaders));
        const cutAt = 1 + Math.floor(random() * (length - 1)); // at least one byte short
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= cutAt) return;
          const part = chunk.subarray(0, cutAt - sent);
          sent += part.length;
          res.write(part, () => {
            if (sent >= cutAt) {
              upRes.destroy();
              reset(clientSocket);
            }
          });
        });
        upRes.on('error', () => reset(clientSocket));
        upRes.on('end', () => reset(clientSocket));
        return;
      }
      res.writeHead(status, upRes.statusMessage, endToEnd(upRes.rawHeaders));
      pipeline(upRes, res, (err) => {
        if (err) {
          reset(clientSocket);
          return;
        }
        entry.status = status;
        inc(stats.completed, `${method} ${status}`);
      });
    });
    upReq.on('error', () => {
      // the server is unreachable or dropped the connection: tell the client as a gateway would
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, { 'content-length': 0, connection: 'close' });
        res.end();
      } else reset(clientSocket);
    });
    // client gone (or reset by down()) before the exchange finished: drop the upstream request too
    res.on('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
    pipeline(req, upReq, (err) => {
      if (err) upReq.destroy();
    });
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): void => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const entry: ProxyLogEntry = { method, url };
    log.push(entry);
    inc(stats.requests, method);
    const requestId = `FP${(++requestSeq).toString(16).padStart(12, '0')}`;
    // always draw both numbers, so a request's fate depends only on the seed and its position
    const u = random();
    const d = random();
    if (opts.hold?.({ method, url, seq: requestSeq })) {
      entry.held = true;
      req.pause(); // the body stays unread: the server never sees this request
      return;
    }
    const eligible = opts.eligible?.({ method, url }) ?? true;
    const forced = opts.override?.({ method, url, seq: requestSeq });
    const kind = forced === null ? undefined : (forced ?? (eligible ? pick(u) : undefined));
    const delay =
      eligible && d < (rates.delay ?? 0)
        ? delayRange.min + Math.floor(random() * Math.max(0, delayRange.max - delayRange.min))
        : 0;
    const go = (): void => {
      if (req.socket.destroyed) return;
      if (kind !== undefined) {
        entry.fault = kind;
        stats.faults[kind]++;
      }
      switch (kind) {
        case 'reset-before-body':
          reset(req.socket);
          return;
        case 'reset-after-body': {
          if (expectsContinue) res.writeContinue();
          const socket = req.socket;
          req.on('error', () => {});
          req.on('end', () => reset(socket));
          req.resume();
          return;
        }
        case 'slow-down':
        case 'internal-error':
          sendError(req, res, kind, expectsContinue, requestId);
          return;
        default:
          forward(req, res, entry, kind === 'reset-mid-response', expectsContinue);
      }
    };
    if (delay > 0) {
      stats.faults.delay++;
      setTimeout(go, delay);
    } else go();
  };

  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 });
  server.headersTimeout = 66_000;
  server.on('request', (req, res) => handle(req, res, false));
  server.on('checkContinue', (req, res) => handle(req, res, true));
  server.on('connection', (socket: Socket) => {
    if (downMode === 'reset') {
      stats.refusedConnections++;
      reset(socket);
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('clientError', (_err, socket) => {
    socket.destroy();
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      server.once('error', onError);
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.removeListener('error', onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);

  const killConnections = (): void => {
    for (const s of sockets) reset(s);
    sockets.clear();
    for (const r of upstreamRequests) r.destroy();
    upstreamRequests.clear();
  };

  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get stats() {
      return stats;
    },
    log,
    get isDown() {
      return downMode !== undefined;
    },
    setRates(r) {
      checkRates(r);
      rates = { ...r };
    },
    faultCount(kinds) {
      const ks = kinds ?? (Object.keys(stats.faults) as FaultKind[]).filter((k) => k !== 'delay');
      return ks.reduce((n, k) => n + stats.faults[k], 0);
    },
    resetStats() {
      stats = emptyStats();
      log.length = 0;
    },
    async down(mode = 'refuse') {
      if (downMode !== undefined) return;
      downMode = mode;
      if (mode === 'refuse') {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        killConnections();
        await closed;
      } else {
        killConnections();
      }
    },
    async up() {
      if (downMode === undefined) return;
      if (downMode === 'refuse') await listen(port);
      downMode = undefined;
    },
    async close() {
      if (downMode !== 'refuse') {
        downMode = 'refuse';
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        killConnections();
        await closed;
      }
      agent.destroy();
    },
  };
  return proxy;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
