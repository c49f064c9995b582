import path from 'node:path';

import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// Proves the layer rules of eslint.config.js (DESIGN.md §7) fire: each case lints a fake file placed in a
// layer (the file need not exist; the import targets do, so the resolver resolves them) and checks on
// which lines a boundary rule reported.

const root = path.resolve(import.meta.dirname, '..', '..');
const BOUNDARY_RULES = new Set(['no-restricted-imports', 'import-x/no-restricted-paths']);

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

/** Lints `imports` (one specifier per line) as the file `file`; returns the specifiers a boundary rule hit. */
async function violations(
  file: string,
  imports: string[],
): Promise<{ hit: string[]; messages: Linter.LintMessage[] }> {
  const code = imports.map((spec) => `import '${spec}';`).join('\n') + '\n';
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  const messages = result?.messages ?? [];
  const fatal = messages.filter((m) => m.fatal || m.ruleId === null);
  expect(fatal, `lint of ${file} failed: ${JSON.stringify(fatal)}`).toEqual([]);
  const lines = new Set(messages.filter((m) => m.ruleId && BOUNDARY_RULES.has(m.ruleId)).map((m) => m.line));
  return { hit: imports.filter((_, i) => lines.has(i + 1)), messages };
}

interface Case {
  file: string;
  forbidden: string[];
  allowed: string[];
}

const cases: Record<string, Case> = {
  'src-main/contract imports only zod': {
    file: 'src-main/contract/__violation__.ts',
    forbidden: ['node:path', 'path', 'electron', 'react', '../engine/errors.ts', '../preload/bridge.ts'],
    allowed: ['zod', './result.ts', './model.ts'],
  },
  'src-main/engine: no electron, cli/app/preload/transport/host, contract/ipc or renderer': {
    file: 'src-main/engine/__violation__.ts',
    forbidden: [
      'electron',
      '../app/main.ts',
      '../transport/dispatch.ts',
      '../host/handlers.ts',
      '../preload/bridge.ts',
      '../contract/ipc.ts',
      '../../src-renderer/src/api/client.ts',
    ],
    allowed: ['node:fs', 'zod', './errors.ts', '../contract/result.ts', '../contract/model.ts'],
  },
  'src-main/transport: no engine, host, cli, app, preload, renderer or electron': {
    file: 'src-main/transport/__violation__.ts',
    forbidden: [
      'electron',
      '../engine/errors.ts',
      '../host/service.ts',
      '../cli/app.ts',
      '../app/main.ts',
      '../preload/bridge.ts',
      '../../src-renderer/src/api/client.ts',
    ],
    allowed: ['node:http', 'ws', 'zod', '../contract/ipc.ts', '../contract/http.ts', './dispatch.ts'],
  },
  'src-main/cli: no electron, app, preload or renderer': {
    file: 'src-main/cli/__violation__.ts',
    forbidden: ['electron', '../app/main.ts', '../preload/bridge.ts', '../../src-renderer/src/api/client.ts'],
    allowed: [
      'node:fs',
      'commander',
      '../engine/errors.ts',
      '../contract/ipc.ts',
      '../transport/dispatch.ts',
      '../host/service.ts',
    ],
  },
  'src-main/host: engine, contract and transport; no cli, app, preload, renderer or electron': {
    file: 'src-main/host/__violation__.ts',
    forbidden: [
      'electron',
      '../cli/serve/command.ts',
      '../app/handlers.ts',
      '../preload/bridge.ts',
      '../../src-renderer/src/api/client.ts',
    ],
    allowed: [
      'node:fs',
      'zod',
      '../engine/index.ts',
      '../engine/service/index.ts',
      '../contract/ipc.ts',
      '../transport/dispatch.ts',
      './adapt.ts',
    ],
  },
  'src-main/preload imports only electron and the contract': {
    file: 'src-main/preload/__violation__.ts',
    forbidden: ['node:fs', 'zod', '../engine/errors.ts', '../host/handlers.ts', '../app/ipc-router.ts'],
    allowed: ['electron', '../contract/ipc.ts', './bridge.ts'],
  },
  'src-main/app: no renderer, no cli': {
    file: 'src-main/app/__violation__.ts',
    forbidden: ['../../src-renderer/src/api/client.ts'],
    allowed: [
      'electron',
      'node:path',
      '../contract/ipc.ts',
      '../engine/errors.ts',
      '../transport/dispatch.ts',
      '../host/service.ts',
      './handlers.ts',
    ],
  },
  'src-renderer: no electron, no node builtins, only the contract from src-main': {
    file: 'src-renderer/src/__violation__.ts',
    forbidden: [
      'node:fs',
      'fs',
      'fs/promises',
      'electron',
      '../../src-main/engine/errors.ts',
      '../../src-main/preload/bridge.ts',
      '../../src-main/app/main.ts',
      '../../src-main/transport/dispatch.ts',
      '../../src-main/host/adapt.ts',
    ],
    allowed: [
      'react',
      'zustand',
      '../../src-main/contract/ipc.ts',
      '../../src-main/contract/http.ts',
      './api/client.ts',
    ],
  },
};

describe('layer boundaries (eslint.config.js)', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: every forbidden import is reported`, async () => {
      const { hit } = await violations(c.file, c.forbidden);
      expect(hit).toEqual(c.forbidden);
    });

    it(`${name}: allowed imports are not reported`, async () => {
      const { hit, messages } = await violations(c.file, c.allowed);
      expect(hit, JSON.stringify(messages, null, 1)).toEqual([]);
    });
  }

  it('reports a relative import by its resolved path, whatever the spelling', async () => {
    const { hit } = await violations('src-main/engine/__violation__.ts', ['../engine/../app/main.ts']);
    expect(hit).toEqual(['../engine/../app/main.ts']);
  });

  it('also catches type-only imports, re-exports, dynamic imports and require()', async () => {
    const code = [
      "import type { BrowserWindow } from 'electron';",
      "export * from '../app/main.ts';",
      "export const load = () => import('../preload/bridge.ts');",
      "export const e = require('electron') as BrowserWindow;",
    ].join('\n');
    const [result] = await eslint.lintText(code, {
      filePath: path.join(root, 'src-main/engine/__violation__.ts'),
    });
    const lines = new Set(
      (result?.messages ?? []).filter((m) => m.ruleId && BOUNDARY_RULES.has(m.ruleId)).map((m) => m.line),
    );
    expect([...lines].sort()).toEqual([1, 2, 3, 4]);
  });

  it('names the broken rule in the message', async () => {
    const { messages } = await violations('src-main/engine/__violation__.ts', ['electron']);
    const texts = messages.map((m) => `${m.ruleId}: ${m.message}`).join('\n');
    expect(texts).toContain('import-x/no-restricted-paths');
    expect(texts).toContain('no-restricted-imports');
    expect(texts).toMatch(/never imports electron/);
  });
});
