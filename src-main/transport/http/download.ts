import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { err, type Result } from '../../contract/result.ts';
import type { Logger } from '../dispatch.ts';
import { tokenMatches } from './guard.ts';

/**
 * `GET /download/<ticket>`: a file (or a folder as .zip) of a snapshot, streamed to the browser
 * (restore.download). The ticket is random, valid for a few minutes and for one request, and it is the only
 * credential of that URL: a link the browser opens (or that ends up in a history or a log) must not carry
 * the service's token, and the token is refused there. Host and Origin are checked by the server before
 * this runs, as for the API. What a ticket opens is the host's business (the transport knows no engine).
 */

export const DOWNLOAD_PREFIX = '/download/';

/** What a ticket opens. */
export interface DownloadBody {
  /** the file name the browser saves it under */
  name: string;
  contentType: string;
  /** bytes, when known in advance (Content-Length) */
  size?: number;
  /** The content; `signal` aborts when the client goes away. Errors destroy the response. */
  open(signal: AbortSignal): Readable;
}

export interface DownloadSource {
  /** What `ticket` opens, once; undefined when unknown, expired or already used. */
  take(ticket: string): Promise<DownloadBody | undefined>;
}

/** A ticket: 32 random bytes, base64url (the shape alone proves nothing: it must be one issued). */
const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function sendError(res: ServerResponse, status: number, body: Result<unknown>): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

/**
 * `attachment` with the name twice: a plain ASCII fallback, and the exact name as RFC 5987 UTF-8. Bytes of
 * a name that are not UTF-8 (held as lone surrogates) become "_": they cannot be said in a header.
 */
export function contentDisposition(name: string): string {
  const wellFormed = name.replace(/[\ud800-\udfff]/gu, '_');
  const ascii = wellFormed.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_') || 'download';
  const encoded = encodeURIComponent(wellFormed).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Answers a download request (after the server's Host and Origin checks). */
export async function handleDownload(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  deps: { downloads: DownloadSource | undefined; token: string; log: Logger; logAccess: Logger },
): Promise<void> {
  req.resume(); // no body is read
  if (req.method !== 'GET') {
    // HEAD would use the ticket up for nothing
    res.setHeader('Allow', 'GET');
    sendError(res, 405, err('INVALID_ARGUMENT', `${req.method ?? ''} is not allowed here`));
    return;
  }
  const ticket = pathname.slice(DOWNLOAD_PREFIX.length);
  if (tokenMatches(ticket, deps.token)) {
    deps.logAccess('refused a download link carrying the access token');
    sendError(
      res,
      403,
      err(
        'PERMISSION',
        'the access token is never accepted in a link',
        'Ask for a download link with restore.download: it carries a one-time ticket instead.',
      ),
    );
    return;
  }
  const body = TICKET_PATTERN.test(ticket) && deps.downloads ? await deps.downloads.take(ticket) : undefined;
  if (!body) {
    sendError(
      res,
      404,
      err(
        'NOT_FOUND',
        'this download link has expired or was already used',
        'Choose "Download" again: each link works once, for a few minutes.',
      ),
    );
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', body.contentType);
  res.setHeader('Content-Disposition', contentDisposition(body.name));
  res.setHeader('Cache-Control', 'no-store');
  if (body.size !== undefined) res.setHeader('Content-Length', body.size);
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  try {
    await pipeline(body.open(gone.signal), res);
  } catch (e) {
    // the client went away: nothing to report; anything else cut the download short, and the browser
    // sees it fail (never a file that looks complete)
    if (!gone.signal.aborted) deps.log(`download of ${body.name} failed`, e);
    if (!res.headersSent) {
      res.removeHeader('Content-Disposition');
      res.removeHeader('Content-Length');
      sendError(res, 500, err('INTERNAL', 'the download could not be prepared'));
    } else res.destroy();
  }
}
