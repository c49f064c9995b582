import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { _electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';

// Launches the built desktop app where an Electron binary exists. On machines where it was never
// downloaded (these dev machines: no GitHub access) the test skips with a clear reason.

const root = path.resolve(import.meta.dirname, '..', '..');

/**
 * The Electron binary `require('electron')` would return, or undefined when it is not installed. Reads the
 * package's path.txt directly: `require('electron')` itself tries to download a missing binary.
 */
function electronBinary(): string | undefined {
  const pkgDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathTxt = path.join(pkgDir, 'path.txt');
  const relative = existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8').trim() : undefined;
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const binary = override
    ? path.join(override, relative ?? 'electron')
    : relative && path.join(pkgDir, 'dist', relative);
  return binary && existsSync(binary) ? binary : undefined;
}

const built = ['dist/src-main/app/main.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html'];

describe('Electron app', () => {
  it('opens a window titled Bulwark whose page sees only window.bulwark.{invoke,on}', async (ctx) => {
    const executablePath = electronBinary();
    if (!executablePath) ctx.skip('the Electron binary is missing: cannot launch the app here');
    const missing = built.filter((f) => !existsSync(path.join(root, f)));
    expect(missing, 'build first: npm run build && npm run build:preload && npm run build:renderer').toEqual(
      [],
    );

    const app = await _electron.launch({
      executablePath,
      args: [path.join(root, 'dist/src-main/app/main.js')],
      cwd: root,
      timeout: 30_000,
    });
    try {
      const window = await app.firstWindow();
      await window.waitForLoadState('domcontentloaded');
      expect(await window.title()).toBe('Bulwark');
      const exposed = await window.evaluate(() => {
        const scope = globalThis as unknown as Record<string, unknown>;
        return {
          bridge: Object.keys((scope['bulwark'] as object | undefined) ?? {}).sort(),
          node: typeof scope['require'] + typeof scope['process'],
        };
      });
      expect(exposed).toEqual({ bridge: ['invoke', 'on'], node: 'undefinedundefined' });
    } finally {
      await app.close();
    }
  }, 60_000);
});
