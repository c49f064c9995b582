/**
 * An HTTP proxy on 127.0.0.1 in front of an S3 endpoint that works normally until it is frozen, then
 * behaves like a server that hangs: it keeps every connection open and never answers again. Frozen
 * mid-transfer, it stops reading an upload after `afterBytes` of its body, or stops sending a download
 * after `afterBytes` of the answer; new requests are read (their heads) and never answered.
 *
 *   const proxy = await startFreezingProxy(rgw.endpoint);
 *   proxy.freezeWhen((r) => r.method === 'PUT' && r.url.includes('/packs/'), 64 * 1024);
 *   // or proxy.freeze() at once
 *
 * SigV4 signs the Host header, so requests go on unchanged (same Host, headers and path).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';

export interface FreezingProxy {
  readonly endpoint: string;
  readonly frozen: boolean;
  /** requests received, in order ("PUT /bucket/key") */
  readonly log: string[];
  /** freezes now: every later request hangs */
  freeze(): void;
  /**
   * Freezes once `afterBytes` of the body (an upload) or of the answer (a download) of a request `match`
   * accepts went through (smaller matching transfers pass whole).
   */
  freezeWhen(match: (req: { method: string; url: string }) => boolean, afterBytes: number): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'te']);

function endToEnd(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1] ?? '');
  }
  return out;
}

export async function startFreezingProxy(target: string): Promise<FreezingProxy> {
  const up = new URL(target);
  const sockets = new Set<Socket>();
  const upstream = new Set<http.ClientRequest>();
  const agent = new http.Agent({ keepAlive: false });
  const log: string[] = [];
  let frozen = false;
  let trigger: { match: (r: { method: string; url: string }) => boolean; afterBytes: number } | undefined;

  /** Hangs a request: its body is no longer read and no answer is ever sent. */
  const hang = (req: http.IncomingMessage): void => {
    req.pause();
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): void => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    log.push(`${method} ${url}`);
    if (frozen) {
      hang(req);
      return;
    }
    const t = trigger?.match({ method, url }) ? trigger : undefined;
    if (expectsContinue) res.writeContinue();
    const upReq = http.request({
      host: up.hostname,
      port: Number(up.port || 80),
      method,
      path: url,
      headers: endToEnd(req.rawHeaders),
      agent,
    });
    upstream.add(upReq);
    upReq.on('close', () => upstream.delete(upReq));
    upReq.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-length': 0 });
        res.end();
      }
    });
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0;
    if (t && hasBody) {
      // an upload: pass `afterBytes` of the body on, then freeze (the server never gets the rest)
      let passed = 0;
      req.on('data', (chunk: Buffer) => {
        if (frozen) return;
        const room = t.afterBytes - passed;
        if (chunk.length >= room) {
          upReq.write(chunk.subarray(0, room));
          frozen = true;
          trigger = undefined;
          hang(req);
          return;
        }
        passed += chunk.length;
        upReq.write(chunk);
      });
      req.on('end', () => {
        if (!frozen) upReq.end();
      });
      return;
    }
    upReq.on('response', (upRes) => {
      if (frozen) {
        upRes.destroy();
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEnd(upRes.rawHeaders));
      if (!t) {
        pipeline(upRes, res, () => {});
        return;
      }
      // a download: pass `afterBytes` of the answer on, then freeze (the rest never comes)
      let sent = 0;
      upRes.on('data', (chunk: Buffer) => {
        if (frozen) return;
        const room = t.afterBytes - sent;
        if (chunk.length >= room) {
          res.write(chunk.subarray(0, room));
          frozen = true;
          trigger = undefined;
          upRes.destroy();
          return;
        }
        sent += chunk.length;
        res.write(chunk);
      });
      upRes.on('end', () => {
        if (!frozen) res.end();
      });
    });
    pipeline(req, upReq, () => {});
  };

  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 0 });
  server.on('request', (req, res) => handle(req, res, false));
  server.on('checkContinue', (req, res) => handle(req, res, true));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    get frozen() {
      return frozen;
    },
    log,
    freeze() {
      frozen = true;
    },
    freezeWhen(match, afterBytes) {
      trigger = { match, afterBytes };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        for (const r of upstream) r.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
