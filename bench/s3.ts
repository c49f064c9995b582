/**
 * S3 part: the project's throw-away Ceph RGW on 127.0.0.1 (test/harness/rgw.ts), one bucket with Object
 * Lock; for each tree (the mixed corpus, the small-files tree; smaller than the local ones), bulwark
 * (`s3://bucket/TREE/bulwark/rN`, objects locked in governance mode for 1 day) and restic
 * (`s3:http://127.0.0.1:PORT/bucket/TREE/restic/rN`) back it up, back it up again unchanged, and restore
 * it. Reports time, throughput and the bytes stored under each prefix. One RGW serves every tree.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeStep, runStep, treesIdentical, type BenchContext, type Step } from './local.ts';
import { attributeServerPids } from './proc.ts';
import type { RgwInstance } from '../test/harness/rgw.ts';
import type { CorpusInfo } from './setup.ts';
import type { Target, ToolName, ToolSpec } from './tools.ts';

export type S3StepName = 'init' | 'initial' | 'noChange' | 'restore';

export interface S3Rep {
  /** which tree (S3Options.trees) */
  tree: string;
  tool: ToolName;
  rep: number;
  position: number;
  prefix: string;
  busyBefore?: number | null;
  steps: Partial<Record<S3StepName, Step>>;
  /** bytes of every object version under the prefix after the backups */
  storedBytes?: number;
  storedObjects?: number;
  restoreCheck?: string;
  error?: string;
}

export interface S3Result {
  trees: { name: string; corpus: CorpusInfo }[];
  endpoint?: string;
  bucket?: string;
  memstoreBytes?: number;
  rgwStartupMs?: number;
  runs: S3Rep[];
  /** why the S3 part could not run at all */
  error?: string;
}

async function storedUnder(client: S3Client, bucket: string, prefix: string) {
  let bytes = 0;
  let objects = 0;
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const r = await client.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: `${prefix}/`,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker,
      }),
    );
    for (const v of r.Versions ?? []) {
      bytes += v.Size ?? 0;
      objects++;
    }
    if (!r.IsTruncated) break;
    keyMarker = r.NextKeyMarker;
    versionMarker = r.NextVersionIdMarker;
  }
  return { bytes, objects };
}

export interface S3Options {
  specs: ToolSpec[];
  trees: { name: string; corpus: CorpusInfo }[];
  reps: number;
  tmp: string;
  stamp: string;
}

export async function runS3(ctx: BenchContext, o: S3Options): Promise<S3Result> {
  const res: S3Result = { trees: o.trees, runs: [] };
  const specs = o.specs.filter((s) => s.supportsS3);
  if (specs.length === 0) return { ...res, error: 'no selected tool has an S3 backend' };
  // RAM: every repository of every repetition stays in the memstore; leave most of the RAM to the tools
  const treeBytes = o.trees.reduce((n, t) => n + t.corpus.bytes, 0);
  const want = 2 ** 30 + treeBytes * 1.5 * specs.length * o.reps;
  const memstoreBytes = Math.round(Math.min(Math.max(2 ** 31, want), os.totalmem() * 0.5));
  res.memstoreBytes = memstoreBytes;
  ctx.log(`starting Ceph RGW (memstore ${(memstoreBytes / 2 ** 30).toFixed(1)} GiB) …`);
  let rgw: RgwInstance;
  try {
    // loaded here so that a missing AWS SDK or harness only costs the S3 part
    const harness = await import('../test/harness/rgw.ts');
    rgw = await harness.startRgw({ memstoreBytes, timeoutMs: 180_000 });
  } catch (e) {
    return {
      ...res,
      error: `Ceph RGW did not start: ${(e instanceof Error ? e.message : String(e)).slice(0, 1500)}`,
    };
  }
  res.endpoint = rgw.endpoint;
  const runDir = path.join(path.dirname(rgw.cephConf), 'run');
  const pids = ['ceph-client.rgw.gw', 'ceph-osd.0', 'ceph-mon.a'].flatMap((n) => {
    try {
      return [Number(fs.readFileSync(path.join(runDir, `${n}.pid`), 'utf8').trim())];
    } catch {
      return [];
    }
  });
  attributeServerPids(pids);
  res.rgwStartupMs = rgw.startupMs;
  const client = rgw.client();
  try {
    const bucket = `bench-${o.stamp.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
    await rgw.createBucket(bucket, { objectLock: true });
    res.bucket = bucket;
    ctx.log(`RGW at ${rgw.endpoint} (started in ${(rgw.startupMs / 1000).toFixed(1)} s), bucket ${bucket}`);
    for (const { name: tree, corpus } of o.trees) {
      const checked = new Set<ToolName>();
      for (let rep = 0; rep < o.reps; rep++) {
        const order = specs.map((_, i) => specs[(i + rep) % specs.length] as ToolSpec);
        for (const [position, spec] of order.entries()) {
          const prefix = `${tree}/${spec.name}/r${rep + 1}`;
          const rec: S3Rep = { tree, tool: spec.name, rep, position, prefix, steps: {} };
          res.runs.push(rec);
          const tag = `[s3 ${tree} ${spec.name} rep ${rep + 1}]`;
          const dir = path.join(o.tmp, `s3-${tree}-${spec.name}-r${rep}`);
          ctx.trash.discard(dir);
          fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
          const target: Target = {
            kind: 's3',
            endpoint: rgw.endpoint,
            bucket,
            prefix,
            accessKeyId: rgw.accessKeyId,
            secretAccessKey: rgw.secretAccessKey,
            region: rgw.region,
          };
          try {
            const session = spec.session(target, path.join(dir, 'state'));
            rec.busyBefore = await ctx.waitQuiet();
            const step = async (name: S3StepName, cmd: ReturnType<typeof session.init>, bytes = false) => {
              const { step: s } = await runStep(ctx, session, cmd, bytes);
              rec.steps[name] = s;
              ctx.log(`${tag} ${name}: ${describeStep(s)}`);
              if (!s.ok) rec.error ??= `${name}: ${s.error}`;
              return s.ok;
            };
            if (!(await step('init', session.init()))) continue;
            if (!(await step('initial', session.backup(corpus.dir, 1), true))) continue;
            if (!(await step('noChange', session.backup(corpus.dir, 2), true))) continue;
            const stored = await storedUnder(client, bucket, prefix);
            rec.storedBytes = stored.bytes;
            rec.storedObjects = stored.objects;
            const restoreDir = path.join(dir, 'restore');
            fs.mkdirSync(restoreDir);
            if (!(await step('restore', session.restore(restoreDir, 2)))) continue;
            if (!checked.has(spec.name)) {
              checked.add(spec.name);
              rec.restoreCheck = await treesIdentical(
                corpus.dir,
                session.restoredPath(restoreDir, corpus.dir),
                ctx.env,
              );
              ctx.log(`${tag} restore check (diff -r): ${rec.restoreCheck}`);
            }
          } catch (e) {
            rec.error ??= e instanceof Error ? e.message : String(e);
            ctx.log(`${tag} FAILED: ${rec.error}`);
          } finally {
            ctx.trash.discard(dir);
          }
        }
      }
    }
  } catch (e) {
    res.error = e instanceof Error ? e.message : String(e);
  } finally {
    attributeServerPids([]);
    client.destroy();
    await rgw.stop().catch((e: unknown) => ctx.log(`stopping RGW: ${String(e)}`));
  }
  return res;
}
