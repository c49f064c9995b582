/**
 * The CLI when things are wrong around it: a server that accepts connections and never answers, an
 * endpoint without a scheme, https against a plain-HTTP server, no S3 keys, a folder given as password
 * file, a damaged catalog (rebuilt by itself), a damaged config or key object; and `init -q` says nothing.
 * Every failure must be a plain message with the right exit code, never a hang or raw library text.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBulwark, type Result } from './helpers.ts';

let tmp: string;
let home: string;
let repo: string;
let src: string;
let goodCatalog: string;
const closers: (() => Promise<void> | void)[] = [];

function bulwark(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  return runBulwark(args, { home, tmp }, env);
}

/** S3 keys for the tests that must get past credentials (the servers here check nothing). */
const S3_KEYS = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_PROFILE: undefined };

/** A TCP server that accepts connections and never writes a byte. */
async function silentServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  );
  return (srv.address() as net.AddressInfo).port;
}

/** A plain HTTP server that answers every request with 200 and a short text. */
async function httpServer(): Promise<number> {
  const srv = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  return (srv.address() as net.AddressInfo).port;
}

/** A private copy of the repository's catalog, for a test to damage. */
function catalogCopy(tag: string): string {
  const file = path.join(tmp, `catalog-${tag}.db`);
  fs.copyFileSync(goodCatalog, file);
  return file;
}

const json = <T>(r: Result): T => JSON.parse(r.stdout) as T;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-'));
  home = path.join(tmp, 'home');
  repo = path.join(tmp, 'repo');
  src = path.join(tmp, 'src');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a.txt'), 'alpha\n'.repeat(2000));
  fs.writeFileSync(path.join(src, 'sub', 'b.bin'), randomBytes(300_000));
  expect((await bulwark(['init', '--repo', repo])).code).toBe(0);
  expect((await bulwark(['backup', '--repo', repo, src])).code).toBe(0);
  fs.writeFileSync(path.join(src, 'c.txt'), 'charlie\n');
  expect((await bulwark(['backup', '--repo', repo, src])).code).toBe(0);
  const catalogs = path.join(home, 'data', 'catalogs');
  const [db] = fs.readdirSync(catalogs).filter((f) => f.endsWith('.db'));
  goodCatalog = path.join(catalogs, db ?? 'none');
  // checkpointed into the main file (the CLI closed it): a copy of the .db alone is the whole catalog
  expect(fs.existsSync(`${goodCatalog}-wal`) ? fs.statSync(`${goodCatalog}-wal`).size : 0).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('S3 servers and endpoints', () => {
  it.concurrent(
    'a server that accepts the connection and never answers: fails within 90 s, saying so',
    async () => {
      const port = await silentServer();
      const t0 = performance.now();
      const r = await bulwark(
        ['snapshots', '--repo', 's3://bucket/pc1', '--endpoint', `http://127.0.0.1:${port}`],
        S3_KEYS,
      );
      const s = (performance.now() - t0) / 1000;
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        `bulwark: the server at http://127.0.0.1:${port} stopped answering (no reply for 30 s)`,
      );
      expect(r.stderr).toContain('hint:');
      expect(s).toBeLessThan(90);
    },
    120_000,
  );

  it.concurrent(
    'an endpoint without http:// or https:// is a usage error (exit 2), not "Invalid URL"',
    async () => {
      const r = await bulwark(
        ['snapshots', '--repo', 's3://bucket/pc1', '--endpoint', 'nas.local:9000'],
        S3_KEYS,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('the endpoint needs http:// or https://, e.g. http://nas.local:9000');
      expect(r.stderr).not.toMatch(/TypeError|Invalid URL|unexpected error/);
    },
  );

  it.concurrent('https:// against a plain-HTTP server says it does not speak HTTPS', async () => {
    const port = await httpServer();
    const r = await bulwark(
      ['snapshots', '--repo', 's3://bucket/pc1', '--endpoint', `https://127.0.0.1:${port}`],
      S3_KEYS,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `bulwark: the server at https://127.0.0.1:${port} does not speak HTTPS; try http://127.0.0.1:${port}`,
    );
    expect(r.stderr).not.toMatch(/wrong version number|EPROTO|SSL routines/);
  });

  it.concurrent('no S3 keys anywhere: access error (exit 3) naming the variables to set', async () => {
    const port = await httpServer();
    const r = await bulwark(
      ['snapshots', '--repo', 's3://bucket/pc1', '--endpoint', `http://127.0.0.1:${port}`],
      {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_SESSION_TOKEN: undefined,
        AWS_PROFILE: undefined,
        AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
        AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        HOME: path.join(tmp, 'empty-home'),
      },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('bulwark: ');
    expect(r.stderr).toContain('no S3 access key was found');
    expect(r.stderr).toMatch(/hint: .*AWS_ACCESS_KEY_ID.*AWS_SECRET_ACCESS_KEY.*profile/);
    expect(r.stderr).not.toContain('CredentialsProviderError');
  });
});

describe('local mistakes', () => {
  it.concurrent('a folder given as --password-file: "is a folder, not a file" (exit 2)', async () => {
    const dir = path.join(tmp, 'pw-dir');
    fs.mkdirSync(dir, { recursive: true });
    const r = await bulwark(['snapshots', '--repo', repo, '--password-file', dir], {
      BULWARK_PASSWORD: undefined,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`bulwark: password file ${dir} is a folder, not a file`);
    expect(r.stderr).not.toContain('EISDIR');
  });

  it.concurrent('init -q prints nothing at all (quiet means only errors)', async () => {
    const where = path.join(tmp, 'quiet-repo');
    const r = await bulwark(['init', '-q', '--repo', where]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(fs.existsSync(path.join(where, 'config'))).toBe(true);
  });
});

describe('a damaged catalog is rebuilt from the repository', () => {
  const expectRebuilt = (r: Result, catalog: string): void => {
    expect(r.stderr, r.stderr).toMatch(
      new RegExp(
        `bulwark: the catalog ${catalog.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged \\(.*\\): moved it aside to .*\\.broken-.* and rebuilt the catalog from the repository \\(2 snapshots\\)`,
      ),
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1); // one line
    expect(r.code).toBe(0);
    expect(json<unknown[]>(r)).toHaveLength(2);
    const aside = fs.readdirSync(tmp).filter((f) => f.startsWith(`${path.basename(catalog)}.broken-`));
    expect(aside).toHaveLength(1);
  };

  it.concurrent('garbage over the middle of the file', async () => {
    const catalog = catalogCopy('middle');
    const bytes = fs.readFileSync(catalog);
    const at = Math.floor(bytes.length / 2 / 4096) * 4096;
    randomBytes(8192).copy(bytes, at);
    fs.writeFileSync(catalog, bytes);
    const r = await bulwark(['snapshots', '--repo', repo, '--catalog', catalog, '--json']);
    expectRebuilt(r, catalog);
    // and it is sound now: the next command says nothing about it
    const again = await bulwark(['snapshots', '--repo', repo, '--catalog', catalog, '--json']);
    expect(again.stderr).toBe('');
    expect(json<unknown[]>(again)).toHaveLength(2);
  });

  it.concurrent('a file cut in half', async () => {
    const catalog = catalogCopy('truncated');
    fs.truncateSync(catalog, Math.floor(fs.statSync(catalog).size / 2));
    const r = await bulwark(['snapshots', '--repo', repo, '--catalog', catalog, '--json']);
    expectRebuilt(r, catalog);
  });

  it.concurrent(
    'without a password nothing is moved, and the error names the exact repair command',
    async () => {
      const catalog = catalogCopy('nopw');
      const bytes = fs.readFileSync(catalog);
      randomBytes(4096).copy(bytes, Math.floor(bytes.length / 2 / 4096) * 4096);
      fs.writeFileSync(catalog, bytes);
      const r = await bulwark(['snapshots', '--repo', repo, '--catalog', catalog], {
        BULWARK_PASSWORD: undefined,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`is damaged and cannot be rebuilt without the password`);
      expect(r.stderr).toContain(`bulwark repair --rebuild-catalog --repo ${repo} --catalog ${catalog}`);
      expect(r.stderr).not.toContain('unexpected error');
      expect(fs.readFileSync(catalog).equals(bytes)).toBe(true);
      expect(fs.readdirSync(tmp).some((f) => f.startsWith('catalog-nopw.db.broken-'))).toBe(false);
    },
  );

  it.concurrent('with a wrong password nothing is moved (exit 3)', async () => {
    const catalog = catalogCopy('wrongpw');
    const bytes = fs.readFileSync(catalog);
    fs.truncateSync(catalog, Math.floor(bytes.length / 2));
    const r = await bulwark(['snapshots', '--repo', repo, '--catalog', catalog], {
      BULWARK_PASSWORD: 'not the password',
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^bulwark: wrong password/);
    expect(fs.statSync(catalog).size).toBe(Math.floor(bytes.length / 2));
    expect(fs.readdirSync(tmp).some((f) => f.startsWith('catalog-wrongpw.db.broken-'))).toBe(false);
  });
});

describe('a damaged config object', () => {
  it('opens with the password (from the key’s copy); without it, says the config is damaged and how to open it', async () => {
    const copy = path.join(tmp, 'repo-config-damaged');
    fs.cpSync(repo, copy, { recursive: true });
    const config = path.join(copy, 'config');
    fs.chmodSync(config, 0o644);
    const text = fs.readFileSync(config);
    text[0] = 0x5b; // '{' -> '[': not valid JSON any more
    fs.writeFileSync(config, text);

    const catalog = path.join(tmp, 'catalog-config-damaged.db');
    const withPassword = await bulwark(['snapshots', '--repo', copy, '--catalog', catalog, '--json']);
    expect(withPassword.code).toBe(0);
    expect(json<unknown[]>(withPassword)).toHaveLength(2);
    expect(withPassword.stderr).toContain('config');
    expect(withPassword.stderr).toContain('damaged');

    const without = await bulwark(['snapshots', '--repo', copy, '--catalog', catalog], {
      BULWARK_PASSWORD: undefined,
    });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain(`the config object of the repository at`);
    expect(without.stderr).toContain('is damaged');
    expect(without.stderr).toContain('can still be opened with its password');
    expect(without.stderr).toContain('BULWARK_PASSWORD');
    expect(without.stderr).not.toContain('not valid JSON\n');
  });

  it('a damaged key object is named, not taken for a wrong password', async () => {
    const copy = path.join(tmp, 'repo-key-damaged');
    fs.cpSync(repo, copy, { recursive: true });
    const keys = (fs.readdirSync(path.join(copy, 'keys'), { recursive: true }) as string[])
      .map((k) => path.join(copy, 'keys', k))
      .filter((k) => fs.statSync(k).isFile());
    expect(keys).toHaveLength(1);
    const key = keys[0] ?? '';
    fs.chmodSync(key, 0o644);
    const file = JSON.parse(fs.readFileSync(key, 'utf8')) as { data: string };
    file.data = `${file.data.slice(0, 40)}!${file.data.slice(41)}`; // one byte of the sealed data flipped to a non-base64 one
    fs.writeFileSync(key, JSON.stringify(file, null, 2));
    const r = await bulwark(['snapshots', '--repo', copy, '--catalog', path.join(tmp, 'catalog-key.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the key object keys/`);
    expect(r.stderr).toContain('is damaged');
    expect(r.stderr).not.toContain('wrong password');
  });
});
