import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { channels } from '../../src-main/contract/ipc.ts';
import { localPaths } from '../../src-main/engine/index.ts';
import { FOLDER_LIMIT, listFolders, type FolderEnv } from '../../src-main/host/folders.ts';
import { openHostedService } from '../../src-main/host/service.ts';
import { dispatch, type Handlers } from '../../src-main/transport/dispatch.ts';
import { TEST_KDF } from '../engine/helpers/repo.ts';
import { tempDir } from '../engine/service/helpers/util.ts';

// fs.folders: the folder picker of the browser UI, on a temp "computer" (home, mount folders).

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function computer(): { root: string; env: FolderEnv } {
  const t = tempDir('folders');
  cleanups.push(() => t.cleanup());
  const home = join(t.dir, 'home', 'office');
  for (const d of ['Documents', 'Desktop', 'Pictures', '.cache', 'folder 10', 'folder 9', 'Zeta', 'alpha'])
    mkdirSync(join(home, d), { recursive: true });
  writeFileSync(join(home, 'notes.txt'), 'not a folder');
  symlinkSync(join(home, 'Pictures'), join(home, 'Photos'));
  symlinkSync(join(home, 'gone'), join(home, 'Broken'));
  const mnt = join(t.dir, 'mnt');
  const media = join(t.dir, 'media');
  mkdirSync(join(mnt, 'nas'), { recursive: true });
  mkdirSync(join(media, 'office', 'USB DISK'), { recursive: true });
  return {
    root: t.dir,
    env: {
      platform: 'linux',
      home,
      user: 'office',
      mountRoots: [mnt, media, join(media, 'office'), join(t.dir, 'run-media-office')],
    },
  };
}

describe('fs.folders', () => {
  it.skipIf(process.platform === 'win32')(
    'lists the sub-folders sorted as people sort, links to folders included, hidden ones and files left out',
    () => {
      const { env } = computer();
      const r = listFolders(env.home, env);
      expect(r.folders.map((f) => f.name)).toEqual([
        'alpha',
        'Desktop',
        'Documents',
        'folder 9',
        'folder 10',
        'Photos',
        'Pictures',
        'Zeta',
      ]);
      expect(r.folders[0]).toEqual({ name: 'alpha', path: join(env.home, 'alpha') });
      expect(r).toMatchObject({ path: env.home, parent: join(env.home, '..'), truncated: false });
      expect(channels['bulwark:fs.folders'].response.parse(r)).toEqual(r);
      // the root has no parent
      expect('parent' in listFolders('/', env)).toBe(false);
      // `..` is resolved, not passed on
      expect(listFolders(join(env.home, 'alpha', '..'), env).path).toBe(env.home);
    },
  );

  it('the usual places: home, Documents, Desktop, the computer, mounted disks and shares', () => {
    const { root, env } = computer();
    const r = listFolders(undefined, env);
    expect(r).toMatchObject({ folders: [], truncated: false });
    expect('path' in r).toBe(false);
    expect(r.places).toEqual([
      { label: 'Home', path: env.home },
      { label: 'Documents', path: join(env.home, 'Documents') },
      { label: 'Desktop', path: join(env.home, 'Desktop') },
      { label: 'This computer', path: '/' },
      { label: `nas (${join(root, 'mnt', 'nas')})`, path: join(root, 'mnt', 'nas') },
      {
        label: `USB DISK (${join(root, 'media', 'office', 'USB DISK')})`,
        path: join(root, 'media', 'office', 'USB DISK'),
      },
    ]);
    expect(listFolders(env.home, env).places).toEqual(r.places);
  });

  it(`stops at ${FOLDER_LIMIT} folders and says so`, () => {
    const { root, env } = computer();
    const many = join(root, 'many');
    for (let i = 0; i <= FOLDER_LIMIT; i++)
      mkdirSync(join(many, `d${String(i).padStart(4, '0')}`), { recursive: true });
    const r = listFolders(many, env);
    expect(r.folders).toHaveLength(FOLDER_LIMIT);
    expect(r.truncated).toBe(true);
    expect(r.folders.at(-1)?.name).toBe('d0999');
  });

  it('refuses in plain words a folder that is not there, a file, a Windows path on Linux', () => {
    const { env } = computer();
    expect(() => listFolders(join(env.home, 'nope'), env)).toThrow(
      expect.objectContaining({
        code: 'NOT_FOUND',
        message: `There is no folder ${join(env.home, 'nope')} on this computer.`,
      }),
    );
    expect(() => listFolders(join(env.home, 'notes.txt'), env)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/is a file, not a folder/),
      }),
    );
    expect(() => listFolders('C:\\Users\\office', env)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/is a Windows folder, but the Bulwark service runs on Linux/),
      }),
    );
  });

  it('answers through the hosted service handlers and the contract', async () => {
    const { root, env } = computer();
    const hosted = openHostedService({
      paths: localPaths({ BULWARK_HOME: join(root, 'bulwark') }),
      kdf: TEST_KDF,
      folders: env,
      tuning: { watch: { enabled: false } },
    });
    cleanups.push(() => hosted.stop());
    const handlers = hosted.handlers as Partial<Handlers>;
    const r = await dispatch(handlers, 'bulwark:fs.folders', { path: env.home });
    expect(r.ok && r.value.folders.map((f) => f.name)).toContain('Documents');
    expect(await dispatch(handlers, 'bulwark:fs.folders', { path: join(env.home, 'nope') })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', message: `There is no folder ${join(env.home, 'nope')} on this computer.` },
    });
    expect(await dispatch(handlers, 'bulwark:fs.folders', { path: 'relative' })).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^Give the full path of the folder/),
      },
    });
  });
});
