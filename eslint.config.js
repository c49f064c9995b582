// ESLint flat config. Lint is syntax-only (no type information) to stay fast; `tsc` does the type checks.
// The layer rules of DESIGN.md §7 live here, enforced two ways:
//   - `import-x/no-restricted-paths` zones: what a file may import, judged on the *resolved* path
//     (eslint-import-resolver-typescript), so '../app/main.ts' and 'electron' (→ node_modules/electron)
//     are both caught whatever the spelling;
//   - `no-restricted-imports`: specifiers that resolve to no file (node builtins) and bare package names,
//     which also catches an import of something that is not installed.
// test/lint/boundaries.test.ts proves each rule fires on a deliberate violation.
import { builtinModules } from 'node:module';
import path from 'node:path';

import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const builtinNames = [...new Set(builtinModules.map((m) => m.replace(/^node:/, '').split('/')[0]))];

/** `no-restricted-imports` pattern: every Node builtin, with or without `node:`, and their subpaths. */
const nodeBuiltins = {
  regex: `^(node:.*|(${builtinNames.map(escape).join('|')})(/.*)?)$`,
  message: 'Node builtins are not available here (see DESIGN.md §7).',
};
const electron = {
  regex: '^electron(/.*)?$',
  message: 'Only src-main/app and src-main/preload may import electron (DESIGN.md §7).',
};
/** A bare specifier (a package) other than the allowed ones; relative imports are left to the zones. */
const packagesExcept = (allowed, message) => ({
  regex: `^(?!\\.{1,2}/|(${allowed.map(escape).join('|')})(/|$)).+`,
  message,
});

const layer = (dir) => `./${dir}`;

const zones = [
  // contract: imports zod and itself, nothing else
  {
    target: layer('src-main/contract'),
    from: '.',
    except: [layer('src-main/contract'), layer('node_modules/zod')],
    message: 'src-main/contract imports only zod and other contract files.',
  },
  // engine: plain Node library
  {
    target: layer('src-main/engine'),
    from: [
      layer('src-main/cli'),
      layer('src-main/app'),
      layer('src-main/preload'),
      layer('src-main/transport'),
      layer('src-main/host'),
      layer('src-renderer'),
      layer('node_modules/electron'),
    ],
    message: 'src-main/engine never imports electron, cli, app, preload, transport, host or the renderer.',
  },
  {
    target: layer('src-main/engine'),
    from: [path.join(root, 'src-main/contract/ipc*')],
    message: 'src-main/engine never imports contract/ipc (transports adapt the engine, not the reverse).',
  },
  // transport: the contract over a wire (dispatch core, HTTP + WebSocket); handlers are passed in, so it
  // never imports the engine, and it knows nothing of Electron
  {
    target: layer('src-main/transport'),
    from: [
      layer('src-main/engine'),
      layer('src-main/host'),
      layer('src-main/cli'),
      layer('src-main/app'),
      layer('src-main/preload'),
      layer('src-renderer'),
      layer('node_modules/electron'),
    ],
    message:
      'src-main/transport imports only the contract, Node and ws (never the engine, host, cli, app, preload, renderer or electron).',
  },
  // host: the engine's service adapted to the contract (handlers, events, target secrets), shared by the
  // cli (`bulwark serve`) and the Electron app; it knows neither of them nor Electron
  {
    target: layer('src-main/host'),
    from: [
      layer('src-main/cli'),
      layer('src-main/app'),
      layer('src-main/preload'),
      layer('src-renderer'),
      layer('node_modules/electron'),
    ],
    message:
      'src-main/host imports the engine, the contract and transport types only (never cli, app, preload, renderer or electron).',
  },
  // cli: engine + contract + transport + host
  {
    target: layer('src-main/cli'),
    from: [
      layer('src-main/app'),
      layer('src-main/preload'),
      layer('src-renderer'),
      layer('node_modules/electron'),
    ],
    message: 'src-main/cli never imports electron, app, preload or the renderer.',
  },
  // preload: electron + contract
  {
    target: layer('src-main/preload'),
    from: '.',
    except: [layer('src-main/preload'), layer('src-main/contract'), layer('node_modules/electron')],
    message: 'src-main/preload imports only electron and src-main/contract.',
  },
  // app: Electron main
  {
    target: layer('src-main/app'),
    from: [layer('src-renderer'), layer('src-main/cli')],
    message: 'src-main/app never imports the renderer or the cli.',
  },
  // renderer: browser code
  {
    target: layer('src-renderer'),
    from: layer('src-main'),
    except: ['./contract'],
    message: 'src-renderer imports only src-main/contract from src-main.',
  },
  {
    target: layer('src-renderer'),
    from: layer('node_modules/electron'),
    message: 'src-renderer never imports electron.',
  },
];

export default defineConfig(
  {
    ignores: [
      'dist/',
      'release/',
      'node_modules/',
      'test/fixtures/',
      'coverage/',
      '.tmp/',
      'test-results/',
      'playwright-report/',
      // benchmark corpora and scratch space (git-ignored), often changing while a bench runs
      '.bench/',
      'bench-out/',
      '.e2e-screenshots/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs,ts,mts,cts,tsx}'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.node },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: [path.join(root, 'tsconfig.json'), path.join(root, 'src-renderer/tsconfig.json')],
          alwaysTryTypes: true,
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'import-x/no-restricted-paths': ['error', { basePath: root, zones }],
    },
  },
  // ---- per-layer specifier rules (each file is in exactly one of these blocks) ----
  {
    files: ['src-main/contract/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [packagesExcept(['zod'], 'src-main/contract imports only zod (no node:, no electron).')],
        },
      ],
    },
  },
  {
    files: ['src-main/engine/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron] }] },
  },
  {
    files: ['src-main/cli/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron] }] },
  },
  {
    files: ['src-main/transport/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron] }] },
  },
  {
    files: ['src-main/host/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electron] }] },
  },
  {
    files: ['src-main/preload/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            packagesExcept(
              ['electron'],
              'src-main/preload imports only electron and src-main/contract (a sandboxed preload has no Node builtins).',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['src-renderer/**'],
    ignores: ['src-renderer/vite.config.ts'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { ...nodeBuiltins, message: 'The renderer is browser code: no Node builtins (DESIGN.md §7).' },
            { ...electron, message: 'The renderer never imports electron: use src/api (DESIGN.md §7).' },
          ],
        },
      ],
    },
  },
  prettier,
);
