import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * Serves the built renderer (dist/renderer) read-only: `/` is index.html; any other path must name a
 * regular file inside the folder (no `..`, no dot-files, no symlink out of it). Vite puts content-hashed
 * file names under assets/, which may be cached for good; everything else is revalidated.
 */

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export type StaticAnswer =
  | { kind: 'file'; file: string; size: number; contentType: string; cacheControl: string }
  | { kind: 'not-found' }
  | { kind: 'bad-path' }
  | { kind: 'not-built' };

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Which file answers `pathname` (the URL path, still percent-encoded), without touching the response. */
export async function resolveStatic(rootDir: string | undefined, pathname: string): Promise<StaticAnswer> {
  if (rootDir === undefined) return { kind: 'not-built' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return { kind: 'bad-path' };
  }
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s.startsWith('.') || s.includes('\\') || s.includes('\0')))
    return { kind: 'bad-path' };
  if (segments.some((s) => s === '')) return { kind: 'not-found' };
  let root: string;
  try {
    root = await realpath(rootDir);
  } catch {
    return { kind: 'not-built' };
  }
  const candidate = path.join(root, ...segments);
  let file: string;
  try {
    file = await realpath(candidate);
  } catch {
    return decoded === '/index.html' ? { kind: 'not-built' } : { kind: 'not-found' };
  }
  if (!inside(root, file)) return { kind: 'not-found' };
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) return { kind: 'not-found' };
  const ext = path.extname(file).toLowerCase();
  const hashed = segments[0] === 'assets' && segments.length > 1;
  return {
    kind: 'file',
    file,
    size: st.size,
    contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
    cacheControl: ext === '.html' ? 'no-store' : hashed ? 'private, max-age=31536000, immutable' : 'no-cache',
  };
}

/** Streams a resolved file (headers already set by the caller are kept). */
export async function sendFile(
  res: ServerResponse,
  answer: Extract<StaticAnswer, { kind: 'file' }>,
  headOnly: boolean,
): Promise<void> {
  res.statusCode = 200;
  res.setHeader('Content-Type', answer.contentType);
  res.setHeader('Content-Length', answer.size);
  res.setHeader('Cache-Control', answer.cacheControl);
  if (headOnly) {
    res.end();
    return;
  }
  await pipeline(createReadStream(answer.file), res);
}
