/** The index writer, the pack uploader and the run's failure on their own. */
import { describe, expect, it } from 'vitest';
import type { PackedBlob } from '../../../src-main/engine/repo/format.ts';
import type { FinishedPack } from '../../../src-main/engine/repo/pack.ts';
import { IndexWriter, type IndexedPack } from '../../../src-main/engine/backup/stages/index-writer.ts';
import { PackRecords, PackUploader } from '../../../src-main/engine/backup/stages/pack-uploader.ts';
import { RunFailure } from '../../../src-main/engine/backup/stages/run-failure.ts';

const blobs = (n: number): PackedBlob[] =>
  Array.from({ length: n }, (_, i) => ({ id: `b${i}`, kind: 'data', offset: i, length: 1, rawLength: 1 }));
const pack = (id: string, n: number): IndexedPack => ({ id, size: n, blobs: blobs(n) });

describe('IndexWriter', () => {
  it('writes an index object per N blobs, then the rest with packs an earlier run left unindexed', async () => {
    const written: string[][] = [];
    const failure = new RunFailure();
    const index = new IndexWriter(
      {
        write: (packs) => {
          written.push(packs.map((p) => p.id));
          return Promise.resolve();
        },
        unindexed: () => [
          { id: 'p3', size: 1 }, // this run's, not indexed yet: listed once
          { id: 'old', size: 9 },
        ],
        blobsOf: (id) => (id === 'old' ? blobs(2) : []),
      },
      5,
      failure,
    );
    index.add(pack('p1', 3));
    index.add(pack('p2', 2)); // 5 blobs: one index object
    index.add(pack('p3', 1));
    await index.settled();
    expect(written).toEqual([['p1', 'p2']]);
    await index.finish();
    expect(written).toEqual([
      ['p1', 'p2'],
      ['p3', 'old'],
    ]);
    expect(failure.hasFailed).toBe(false);
  });

  it('a failed index write fails the run; nothing more is written after a failure', async () => {
    const failure = new RunFailure();
    let writes = 0;
    const index = new IndexWriter(
      {
        write: () => {
          writes++;
          return Promise.reject(new Error('index refused'));
        },
        unindexed: () => [],
        blobsOf: () => [],
      },
      1,
      failure,
    );
    index.add(pack('p1', 1));
    await index.settled();
    expect((failure.error as Error).message).toBe('index refused');
    index.add(pack('p2', 1));
    await index.settled();
    expect(writes).toBe(1);
    await expect(failure.race(new Promise(() => undefined))).rejects.toThrow('index refused');
  });
});

describe('PackUploader', () => {
  const finished = (id: string): FinishedPack => ({ id, path: `/nowhere/${id}`, size: 1, blobs: [] });

  it('sends every pack with at most N in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const sent: string[] = [];
    const uploader = new PackUploader(
      2,
      async (p) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        sent.push(p.id);
        inFlight--;
      },
      new RunFailure(),
    );
    for (const id of ['a', 'b', 'c', 'd']) await uploader.upload(finished(id));
    await uploader.drain();
    expect(sent.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(most).toBe(2);
  });

  it('waits for room in the catalog: the next upload starts only while fewer than N packs are recorded', async () => {
    const release = new Map<string, () => void>();
    const recorded: string[] = [];
    const records = new PackRecords(
      (p) =>
        new Promise<void>((res, rej) =>
          release.set(p.id, () => {
            if (p.id === 'b') rej(new Error('catalog full'));
            else {
              recorded.push(p.id);
              res();
            }
          }),
        ),
      2,
    );
    const failure = new RunFailure();
    const uploader = new PackUploader(4, (p) => records.add(p), failure, records);
    const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
    await uploader.upload(finished('a'));
    await uploader.upload(finished('b'));
    await turn();
    let cStarted = false;
    const c = uploader.upload(finished('c')).then(() => (cStarted = true));
    await turn();
    expect(cStarted).toBe(false); // a and b are being recorded
    release.get('a')?.();
    await c;
    expect(cStarted).toBe(true);
    await turn();
    release.get('c')?.();
    release.get('b')?.(); // a failed record frees its place too, and fails the run
    await expect(failure.failed).rejects.toThrow('catalog full');
    await expect(uploader.drain()).rejects.toThrow('catalog full');
    expect(recorded).toEqual(['a', 'c']);
  });

  it('a pack that waited for room while the run failed is not sent', async () => {
    let release!: () => void;
    const records = new PackRecords(() => new Promise<void>((res) => (release = res)), 1);
    const failure = new RunFailure();
    const sent: string[] = [];
    const uploader = new PackUploader(
      4,
      (p) => {
        sent.push(p.id);
        return records.add(p);
      },
      failure,
      records,
    );
    await uploader.upload(finished('a'));
    const b = uploader.upload(finished('b'));
    failure.fail(new Error('reader died'));
    release();
    await b;
    await uploader.drain();
    expect(sent).toEqual(['a']);
  });

  it('a failed upload fails the run at once and again at the drain', async () => {
    const failure = new RunFailure();
    const uploader = new PackUploader(1, () => Promise.reject(new Error('bucket full')), failure);
    await uploader.upload(finished('a'));
    await expect(failure.failed).rejects.toThrow('bucket full');
    await expect(uploader.drain()).rejects.toThrow('bucket full');
  });
});

describe('RunFailure', () => {
  it('keeps the first failure only', () => {
    const failure = new RunFailure();
    failure.fail(new Error('first'));
    failure.fail(new Error('second'));
    expect(() => failure.throwIfFailed()).toThrow('first');
  });
});
