/**
 * Restore writer thread: decrypts, decompresses and verifies blobs read with synchronous positional reads
 * from local pack files, and writes files with synchronous writes (the fast path on this kind of machine,
 * measured: docs/DECISIONS.md, Pipeline). Paths arrive already checked by the main thread to lie inside the target, and every folder
 * on them to be one no other user can change (restore.ts, othersCanChange): only the last component can
 * hold something planted, and it is never followed.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  lstatSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BlobDecompressor } from '../compress.ts';
import { keyedHashHex } from '../crypto/blob-id.ts';
import { open } from '../crypto/seal.ts';
import { BulwarkError } from '../errors.ts';
import { gcEvery } from '../util/thread-gc.ts';
import type { FileTask, FromRestoreWorker, RestoreWorkerInit, ToRestoreWorker } from './restore-protocol.ts';

const port = parentPort;
if (!port) throw new Error('restore-worker.ts must run in a worker thread');
const init = workerData as RestoreWorkerInit;
const encKey = Buffer.from(init.encKey);
const idKey = Buffer.from(init.idKey);

const packFds = new Map<string, number>();
function packFd(path: string): number {
  let fd = packFds.get(path);
  if (fd === undefined) {
    if (packFds.size > 64) {
      for (const f of packFds.values()) closeSync(f);
      packFds.clear();
    }
    fd = openSync(path, 'r');
    packFds.set(path, fd);
  }
  return fd;
}

let readBuf = Buffer.allocUnsafe(5 << 20);
// Decompression reuses one buffer; each blob's decrypted copy is the garbage left (see thread-gc.ts).
const decompressor = new BlobDecompressor(4 << 20);
const garbage = gcEvery(4 << 20);

function readBlob(ref: FileTask['blobs'][number]): Buffer {
  if (readBuf.length < ref.length) readBuf = Buffer.allocUnsafe(ref.length);
  const fd = packFd(ref.packPath);
  let got = 0;
  while (got < ref.length) {
    const n = readSync(fd, readBuf, got, ref.length - got, ref.offset + got);
    if (n === 0) throw new BulwarkError('CORRUPT', `pack ${ref.packPath} is shorter than its index says`);
    got += n;
  }
  const idBuf = Buffer.from(ref.id, 'hex');
  const what = `blob ${ref.id.slice(0, 12)}`;
  const plain = decompressor.decompress(
    open(encKey, readBuf.subarray(0, ref.length), idBuf, what),
    ref.rawLength,
    what,
  );
  garbage(ref.length);
  if (plain.length !== ref.rawLength || keyedHashHex(idKey, plain) !== ref.id) {
    throw new BulwarkError('CORRUPT', `${what}: content does not match its id`);
  }
  return plain;
}

function writeFile(t: FileTask): void {
  // Replace, never write through: whatever is at this name (a planted symlink) is removed, not followed.
  if (!t.fresh) {
    try {
      if (!lstatSync(t.path).isDirectory()) unlinkSync(t.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // reported for this file
    }
    // A folder at the name is left alone: the O_EXCL open below fails and the file is reported.
  }
  const fd = openSync(
    t.path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    let pos = 0;
    for (const ref of t.blobs) {
      const data = readBlob(ref);
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off, pos + off);
      pos += data.length;
    }
    // Mode (setuid/setgid already cleared by restore.ts) and times through the descriptor, not the path.
    fchmodSync(fd, t.mode & 0o7777);
    const sec = Number(BigInt(t.mtimeNs) / 1000n) / 1e6;
    futimesSync(fd, sec, sec);
  } finally {
    closeSync(fd);
  }
}

port.on('message', (m: ToRestoreWorker) => {
  const results = m.files.map((t) => {
    try {
      writeFile(t);
      return { seq: t.seq };
    } catch (e) {
      return { seq: t.seq, error: (e as Error).message };
    }
  });
  port.postMessage({ type: 'done', results } satisfies FromRestoreWorker);
});
