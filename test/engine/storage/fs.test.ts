import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { FakeClock } from '../../../src-main/engine/clock.ts';
import { isBulwarkError, type ErrorCode } from '../../../src-main/engine/errors.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';
import type { ObjectInfo } from '../../../src-main/engine/storage/types.ts';
import { describeBlobStoreConformance } from '../../conformance/storage-suite.ts';

const MiB = 1024 * 1024;
const isWindows = process.platform === 'win32';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
}

describeBlobStoreConformance('FsStore', async () => {
  const dir = tempDir();
  // the root does not exist yet: the first put creates it
  return {
    store: new FsStore({ root: path.join(dir, 'repo') }),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'ok' | 'not a BulwarkError'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isBulwarkError(e) ? e.code : 'not a BulwarkError';
  }
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const out: string[] = [];
  for await (const info of it) out.push(info.name);
  return out.sort();
}

/** every file under dir (relative paths), including temp files */
function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => fs.statSync(path.join(dir, p)).isFile())
    .map((p) => p.split(path.sep).join('/'))
    .sort();
}

/** the prototype of fs/promises FileHandle, to spy on write/read/sync */
async function fileHandlePrototype(dir: string): Promise<FileHandle> {
  const fh = await open(path.join(dir, 'probe'), 'w');
  await fh.close();
  fs.rmSync(path.join(dir, 'probe'));
  return Object.getPrototypeOf(fh) as FileHandle;
}

/** the (buffer, offset, length, position) arguments of spied FileHandle.read calls */
function readCalls(spy: {
  mock: { calls: unknown[][] };
}): { buffer: unknown; length: number; position: unknown }[] {
  return spy.mock.calls.map((c) => ({ buffer: c[0], length: Number(c[2]), position: c[3] }));
}

function errnoError(code: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: simulated`);
  e.code = code;
  return e;
}

describe('FsStore', () => {
  let dir: string;
  let root: string;
  let store: FsStore;

  beforeEach(() => {
    dir = tempDir();
    root = path.join(dir, 'repo');
    store = new FsStore({ root, clock: new FakeClock(Date.UTC(2030, 5, 1)) });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('describes itself and uses the injected clock', async () => {
    expect(store.location).toBe(pathToFileURL(root).href);
    expect(store.capabilities).toEqual({ enforcedLocks: false, extendRetention: false, legalHold: false });
    expect((await store.serverTime()).getTime()).toBe(Date.UTC(2030, 5, 1));
    expect(new FsStore({ root: 'relative/x' }).root).toBe(path.resolve('relative/x'));
  });

  it.skipIf(isWindows)(
    'adopts a file built in its staging folder by linking it (no copy), write-once still',
    async () => {
      fs.mkdirSync(store.stagingDir(), { recursive: true });
      const built = path.join(store.stagingDir(), 'pack-1');
      fs.writeFileSync(built, 'pack bytes');
      const ino = fs.statSync(built).ino;
      await store.put('packs/ab/x', { path: built, size: 10, adopt: true });
      expect(fs.existsSync(built)).toBe(false);
      const final = path.join(root, 'packs', 'ab', 'x');
      expect(fs.statSync(final).ino).toBe(ino); // the same file: linked, not copied
      expect(fs.statSync(final).mode & 0o777).toBe(0o444);
      expect((await store.get('packs/ab/x')).toString()).toBe('pack bytes');
      fs.writeFileSync(built, 'other');
      expect(await codeOf(store.put('packs/ab/x', { path: built, size: 5, adopt: true }))).toBe(
        'ALREADY_EXISTS',
      );
      expect((await store.get('packs/ab/x')).toString()).toBe('pack bytes');
      const listed: string[] = [];
      for await (const o of store.list('')) listed.push(o.name);
      expect(listed).toEqual(['packs/ab/x']); // the staging folder is never listed
    },
  );

  it('does not need the root until the first put', async () => {
    expect(await codeOf(store.get('a'))).toBe('NOT_FOUND');
    expect(await codeOf(store.get('a/b', { offset: 0, length: 1 }))).toBe('NOT_FOUND');
    expect(await codeOf(store.head('a/b'))).toBe('NOT_FOUND');
    expect(await collect(store.list(''))).toEqual([]);
    await store.delete('a/b');
    expect(fs.existsSync(root)).toBe(false);
    await store.put('a/b', Buffer.from('x'));
    expect(fs.readFileSync(path.join(root, 'a', 'b'), 'utf8')).toBe('x');
  });

  it('create() makes the root folder', async () => {
    const made = await FsStore.create(path.join(dir, 'deep', 'er'));
    expect(fs.statSync(made.root).isDirectory()).toBe(true);
    expect(await collect(made.list(''))).toEqual([]);
  });

  it.skipIf(isWindows)('makes objects read-only (0444) and leaves no temp file', async () => {
    await store.put('packs/ab/ab12', randomBytes(100));
    const file = { path: path.join(dir, 'body'), size: 3 * MiB };
    fs.writeFileSync(file.path, randomBytes(file.size));
    await store.put('packs/cd/cd34', file);
    for (const p of ['packs/ab/ab12', 'packs/cd/cd34']) {
      expect(fs.statSync(path.join(root, p)).mode & 0o777, p).toBe(0o444);
      expect(fs.statSync(path.join(root, p)).nlink, p).toBe(1); // the temp link is gone
    }
    expect(walk(root)).toEqual(['packs/ab/ab12', 'packs/cd/cd34']);
    // read-only objects can still be deleted
    await store.delete('packs/ab/ab12');
    expect(walk(root)).toEqual(['packs/cd/cd34']);
    expect(store.stats).toMatchObject({ puts: 2, deletes: 1, bytesPut: 100 + 3 * MiB });
  });

  it('ignores a leftover .tmp-* file of a killed writer', async () => {
    await store.put('data/other', Buffer.from('o'));
    fs.writeFileSync(path.join(root, 'data', '.tmp-0123456789abcdef'), 'half a pack');
    fs.writeFileSync(path.join(root, '.tmp-ffff'), 'x');
    expect(await collect(store.list(''))).toEqual(['data/other']);
    expect(await codeOf(store.head('data/.tmp-0123456789abcdef'))).toBe('ok'); // valid name, but never listed
    await store.put('data/target', Buffer.from('whole'));
    expect((await store.get('data/target')).toString()).toBe('whole');
    expect(await collect(store.list('data/'))).toEqual(['data/other', 'data/target']);
  });

  it.skipIf(isWindows)(
    'survives a writer killed mid-put: the object is whole or absent, and can be put again',
    { timeout: 60_000 },
    async () => {
      const body = { path: path.join(dir, 'big'), size: 64 * MiB };
      const data = randomBytes(body.size);
      fs.writeFileSync(body.path, data);
      const sha = createHash('sha256').update(data).digest('hex');
      const moduleUrl = pathToFileURL(path.resolve('src-main/engine/storage/fs.ts')).href;
      const script = `
        import { FsStore } from ${JSON.stringify(moduleUrl)};
        const store = new FsStore({ root: ${JSON.stringify(root)} });
        await store.put('warmup', new Uint8Array(1));
        process.stdout.write('ready\\n');
        await store.put('packs/victim', ${JSON.stringify(body)});
        process.stdout.write('done\\n');
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve();
        });
        child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
      });
      await new Promise((r) => setTimeout(r, 15));
      child.kill('SIGKILL');
      await exited;

      const listed = await collect(store.list('packs/'));
      if (listed.length > 0) {
        expect(listed).toEqual(['packs/victim']);
        expect(
          createHash('sha256')
            .update(await store.get('packs/victim'))
            .digest('hex'),
        ).toBe(sha);
      } else {
        expect(await codeOf(store.head('packs/victim'))).toBe('NOT_FOUND');
        await store.put('packs/victim', body);
        expect(
          createHash('sha256')
            .update(await store.get('packs/victim'))
            .digest('hex'),
        ).toBe(sha);
      }
      expect(await collect(store.list(''))).toEqual(['packs/victim', 'warmup']);
    },
  );

  it.skipIf(isWindows)('fsyncs the file and its folder(s), without failing', async () => {
    const proto = await fileHandlePrototype(dir);
    const sync = vi.spyOn(proto, 'sync');
    await store.put('x/y/z/first', Buffer.from('1'));
    // file + z + y + x + root + the root's parent (the put created them all)
    expect(sync.mock.calls.length).toBe(6);
    sync.mockClear();
    await store.put('x/y/z/second', Buffer.from('2'));
    expect(sync.mock.calls.length).toBe(2); // file + its folder
    sync.mockClear();
    await store.put('top', Buffer.from('3'));
    expect(sync.mock.calls.length).toBe(2); // file + root (already known durable)
    expect(walk(root)).toEqual(['top', 'x/y/z/first', 'x/y/z/second']);
  });

  it('maps ENOSPC to NO_SPACE and cleans up the temp file', async () => {
    await store.put('p/before', Buffer.from('ok'));
    const proto = await fileHandlePrototype(dir);
    vi.spyOn(proto, 'write').mockRejectedValueOnce(errnoError('ENOSPC'));
    const err = await store.put('p/full', Buffer.from('no room')).catch((e: unknown) => e);
    expect(isBulwarkError(err, 'NO_SPACE')).toBe(true);
    expect((err as { hint?: string }).hint).toBeTruthy();
    expect(walk(root)).toEqual(['p/before']);
    await store.put('p/full', Buffer.from('room again'));
    expect((await store.get('p/full')).toString()).toBe('room again');
  });

  it('maps an fsync failure (EIO) to IO and stores nothing', async () => {
    const proto = await fileHandlePrototype(dir);
    vi.spyOn(proto, 'sync').mockRejectedValueOnce(errnoError('EIO'));
    expect(await codeOf(store.put('q', Buffer.from('x')))).toBe('IO');
    expect(walk(root)).toEqual([]);
  });

  it('streams a large file body in pieces of at most 4 MiB', { timeout: 60_000 }, async () => {
    const body = { path: path.join(dir, 'large'), size: 20 * MiB + 1 };
    fs.writeFileSync(body.path, randomBytes(body.size));
    const proto = await fileHandlePrototype(dir);
    const read = vi.spyOn(proto, 'read');
    const write = vi.spyOn(proto, 'write');
    await store.put('large', body);
    const readLengths = readCalls(read).map((c) => c.length);
    expect(readLengths.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...readLengths)).toBeLessThanOrEqual(4 * MiB);
    const buffers = new Set(readCalls(read).map((c) => c.buffer));
    expect(buffers.size).toBe(1); // one reused buffer
    expect(write.mock.calls.length).toBeGreaterThanOrEqual(6);
  });

  it('reads only the requested range', async () => {
    const data = randomBytes(10 * MiB);
    fs.writeFileSync(path.join(dir, 'src'), data);
    await store.put('r', { path: path.join(dir, 'src'), size: data.length });
    const proto = await fileHandlePrototype(dir);
    const read = vi.spyOn(proto, 'read');
    const got = await store.get('r', { offset: 7 * MiB + 3, length: 1000 });
    expect(got.equals(data.subarray(7 * MiB + 3, 7 * MiB + 1003))).toBe(true);
    const calls = readCalls(read);
    expect(calls.reduce((n, c) => n + c.length, 0)).toBe(1000);
    expect(calls[0]?.position).toBe(7 * MiB + 3);
    expect(store.stats.bytesGot).toBe(1000);
  });

  it('refuses a file body whose size differs, or whose MD5 does not match, leaving nothing', async () => {
    const file = path.join(dir, 'body');
    fs.writeFileSync(file, 'twelve bytes');
    expect(await codeOf(store.put('a', { path: file, size: 11 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(store.put('b', Buffer.from('x'), { contentMd5: 'AAAAAAAAAAAAAAAAAAAAAA==' }))).toBe(
      'CORRUPT',
    );
    expect(await codeOf(store.put('c', { path: path.join(dir, 'missing'), size: 1 }))).toBe('NOT_FOUND');
    const md5 = createHash('md5').update('twelve bytes').digest('base64');
    await store.put('d', { path: file, size: 12 }, { contentMd5: md5 });
    expect(walk(root)).toEqual(['d']);
  });

  it('accepts and ignores retention options', async () => {
    await store.put('kept', Buffer.from('x'), {
      retainUntil: new Date(Date.UTC(2031, 0, 1)),
      lockMode: 'COMPLIANCE',
    });
    const info = await store.head('kept');
    expect(info.retainUntil).toBeUndefined();
    expect(info.size).toBe(1);
  });

  it('lists only valid object names: no NAS metadata, symlinks or odd files', async () => {
    await store.put('idx/a', Buffer.from('a'));
    fs.mkdirSync(path.join(root, '@eaDir'));
    fs.writeFileSync(path.join(root, '@eaDir', 'thumb'), 'x');
    fs.writeFileSync(path.join(root, 'idx', 'has space'), 'x');
    fs.mkdirSync(path.join(dir, 'outside'));
    fs.writeFileSync(path.join(dir, 'outside', 'secret'), 'x');
    if (!isWindows) fs.symlinkSync(path.join(dir, 'outside'), path.join(root, 'link'));
    expect(await collect(store.list(''))).toEqual(['idx/a']);
    // a prefix that leaves the root lists nothing
    expect(await collect(store.list('../outside/'))).toEqual([]);
    expect(await collect(store.list('../'))).toEqual([]);
    expect(await collect(store.list('/'))).toEqual([]);
  });

  it('keeps a name that is also a folder apart from objects', async () => {
    await store.put('a/b', Buffer.from('x'));
    expect(await codeOf(store.get('a'))).toBe('NOT_FOUND');
    expect(await codeOf(store.head('a'))).toBe('NOT_FOUND');
    await store.delete('a'); // a folder is not an object: nothing to delete
    expect(await codeOf(store.put('a/b/c', Buffer.from('y')))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(store.get('a/b/c'))).toBe('NOT_FOUND');
    expect(walk(root)).toEqual(['a/b']);
  });

  it('put with an aborted signal leaves no temp file', async () => {
    const ac = new AbortController();
    const body = { path: path.join(dir, 'body'), size: 9 * MiB };
    fs.writeFileSync(body.path, randomBytes(body.size));
    const proto = await fileHandlePrototype(dir);
    const original = proto.read;
    vi.spyOn(proto, 'read').mockImplementation(function (this: FileHandle, ...args: unknown[]) {
      ac.abort(); // abort while the body is being copied
      return (original as (...a: unknown[]) => ReturnType<FileHandle['read']>).apply(this, args);
    } as FileHandle['read']);
    expect(await codeOf(store.put('c/x', body, { signal: ac.signal }))).toBe('CANCELED');
    expect(walk(root)).toEqual([]);
  });

  it('maps EACCES to PERMISSION', async () => {
    if (process.getuid?.() === 0 || isWindows) {
      // root ignores mode bits: make the write itself fail the way a read-only share does for a user
      const proto = await fileHandlePrototype(dir);
      vi.spyOn(proto, 'write').mockRejectedValueOnce(errnoError('EACCES'));
      expect(await codeOf(store.put('x/y', Buffer.from('1')))).toBe('PERMISSION');
      expect(walk(root)).toEqual([]);
      return;
    }
    fs.mkdirSync(root);
    fs.chmodSync(root, 0o555);
    try {
      expect(await codeOf(store.put('x/y', Buffer.from('1')))).toBe('PERMISSION');
    } finally {
      fs.chmodSync(root, 0o755);
    }
  });
});
