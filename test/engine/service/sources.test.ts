import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { FakeClock } from '../../../src-main/engine/clock.ts';
import { isBulwarkError } from '../../../src-main/engine/errors.ts';
import { MIGRATIONS } from '../../../src-main/engine/catalog/migrations.ts';
import { compileFilter, ServiceConfig } from '../../../src-main/engine/service/sources.ts';
import { tempDir } from './helpers/util.ts';

describe('ServiceConfig', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()?.();
  });

  function open() {
    const t = tempDir('cfg');
    const clock = new FakeClock();
    const catalog = Catalog.open(join(t.dir, 'service.db'), { clock });
    cleanups.push(() => {
      catalog.close();
      t.cleanup();
    });
    return { dir: t.dir, catalog, cfg: new ServiceConfig(catalog, clock) };
  }

  it('the catalog migration adds the service tables', () => {
    const { catalog } = open();
    expect(catalog.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const tables = catalog.db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['service_sources', 'service_targets', 'alerts', 'runs']));
  });

  it('stores sources with defaults, validates input and refuses bad references', () => {
    const { dir, cfg } = open();
    const t = cfg.addTarget({ location: join(dir, 'repo'), bytesPerSecond: 1_000_000 });
    expect(t).toMatchObject({
      kind: 'fs',
      location: join(dir, 'repo'),
      bytesPerSecond: 1_000_000,
      isDefault: false,
    });
    expect(() => cfg.addTarget({ location: join(dir, 'repo') })).toThrow(/already configured/);
    expect(() => cfg.addTarget({ location: join(dir, 'x'), region: 'eu' })).toThrow(/only to s3/);
    expect(cfg.addTarget({ location: 's3://bucket/p', endpoint: 'http://127.0.0.1:9000' }).kind).toBe('s3');

    const s = cfg.addSource({ name: ' Documents ', paths: [join(dir, 'docs')], targetId: t.id });
    expect(s).toMatchObject({
      name: 'Documents',
      paths: [join(dir, 'docs')],
      include: [],
      exclude: [],
      rpoMinutes: 60,
      quietSeconds: 30,
      rescanMinutes: 60,
      retentionTemplateId: null,
      enabled: true,
      lastSuccessAt: null,
    });
    const bad = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const e1 = bad(() => cfg.addSource({ name: '', paths: [], targetId: t.id }));
    expect(isBulwarkError(e1, 'INVALID_ARGUMENT')).toBe(true);
    expect((e1 as Error).message).toMatch(/name/);
    expect((e1 as Error).message).toMatch(/paths/);
    expect(
      bad(() => cfg.addSource({ name: 'x', paths: ['/a'], targetId: t.id, rpoMinutes: -1 })),
    ).toBeDefined();
    expect(() => cfg.addSource({ name: 'x', paths: ['/a'], targetId: 'nope' })).toThrow(/no target/);
    expect(() => cfg.addSource({ name: 'x', paths: ['/a', '/a/b'], targetId: t.id })).toThrow(/overlap/);
    expect(() => cfg.addSource({ name: 'x', paths: [join(dir, 'repo', 'sub')], targetId: t.id })).toThrow(
      /inside the target/,
    );

    const u = cfg.updateSource(s.id, { rpoMinutes: 15, exclude: ['*.tmp'], quietSeconds: 0.5 });
    expect(u).toMatchObject({ rpoMinutes: 15, exclude: ['*.tmp'], quietSeconds: 0.5, name: 'Documents' });
    expect(() => cfg.removeTarget(t.id)).toThrow(/used by Documents/);
    cfg.recordSuccess(s.id, 1234, 'snap');
    expect(cfg.source(s.id)).toMatchObject({ lastSuccessAt: 1234, lastSnapshotId: 'snap' });
    cfg.removeSource(s.id);
    cfg.removeTarget(t.id);
    expect(cfg.sources()).toEqual([]);
  });

  it('include/exclude patterns: names at any depth, or paths relative to the root', () => {
    const f = compileFilter(['/data'], ['*.doc', 'keep/**'], ['*.tmp', 'node_modules', 'cache/**']);
    expect(f.excluded('/data/a/b.tmp')).toBe(true);
    expect(f.excluded('/data/x/node_modules')).toBe(true);
    expect(f.excluded('/data/x/node_modules/y.js')).toBe(true);
    expect(f.excluded('/data/cache')).toBe(true);
    expect(f.excluded('/data/cache/z')).toBe(true);
    expect(f.excluded('/data/sub/cache/z')).toBe(false);
    expect(f.excluded('/data/a/b.doc')).toBe(false);
    expect(f.excluded('/data')).toBe(false);
    expect(f.included('/data/a/b.doc')).toBe(true);
    expect(f.included('/data/keep/any.bin')).toBe(true);
    expect(f.included('/data/a/b.bin')).toBe(false);
    expect(compileFilter(['/data'], [], []).included('/data/x')).toBe(true);
  });
});
