import type { Page, Route, WebSocketRoute } from 'playwright-core';

import type { EventName, EventOf, ResponseOf } from '../../src-main/contract/ipc.ts';
import type { FileVersion, Job, SnapshotEntry } from '../../src-main/contract/model.ts';

// Answers for the restore channels (`bulwark:restore.*`), written against the contract, served to the page
// by Playwright in place of `bulwark serve` while the service does not implement them yet. The renderer's
// client validates every answer against the contract, so these must be valid contract values.

export const BIG_FOLDER_SIZE = 100_000;

type Body = Record<string, unknown>;

function fulfill(route: Route, value: unknown): Promise<void> {
  return route.fulfill({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ ok: true, value }),
  });
}

export function refuse(route: Route, code: string, message: string): Promise<void> {
  return route.fulfill({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ ok: false, error: { code, message } }),
  });
}

const day = (d: number, h = 9) => new Date(Date.UTC(2026, 2, d, h, 0, 0)).toISOString();

export function version(
  snapshotId: string,
  firstSeen: string,
  size: number,
  extra: Partial<FileVersion> = {},
): FileVersion {
  return {
    snapshotId,
    firstSnapshotId: snapshotId,
    firstSeen,
    path: 'Invoices/invoice-2026-03.xlsx',
    originalPath: '/home/ann/Office/Invoices/invoice-2026-03.xlsx',
    size,
    mtime: firstSeen,
    ...extra,
  };
}

export function findAnswer(sourceId: string): ResponseOf<'bulwark:restore.find'> {
  return {
    truncated: false,
    results: [
      {
        sourceId,
        sourceName: 'Office',
        path: 'Invoices/invoice-2026-02.xlsx',
        originalPath: '/home/ann/Office/Invoices/invoice-2026-02.xlsx',
        name: 'invoice-2026-02.xlsx',
        deleted: true,
        versions: [
          version('s2', day(2), 20_480, {
            path: 'Invoices/invoice-2026-02.xlsx',
            originalPath: '/home/ann/Office/Invoices/invoice-2026-02.xlsx',
            lastSeen: day(3),
            endedBy: 'deleted',
          }),
        ],
      },
      {
        sourceId,
        sourceName: 'Office',
        path: 'Invoices/invoice-2026-03.xlsx',
        originalPath: '/home/ann/Office/Invoices/invoice-2026-03.xlsx',
        name: 'invoice-2026-03.xlsx',
        deleted: false,
        versions: [
          version('s5', day(5), 30_720),
          version('s4', day(4), 29_000, { lastSeen: day(4, 18), endedBy: 'changed' }),
        ],
      },
    ],
  };
}

export function versionsAnswer(): ResponseOf<'bulwark:restore.versions'> {
  return {
    versions: [
      version('s5', day(5), 30_720),
      version('s4', day(4), 29_000, { lastSeen: day(4, 18), endedBy: 'changed' }),
      version('s1', day(1), 12_000, { lastSeen: day(3, 18), endedBy: 'changed' }),
    ],
  };
}

export function entry(i: number, folder = 'big'): SnapshotEntry {
  const name = `file-${String(i).padStart(6, '0')}.txt`;
  return { name, path: `${folder}/${name}`, type: 'file', size: 1000 + i, mtime: day(1) };
}

export function browseAnswer(request: Body): ResponseOf<'bulwark:restore.browse'> {
  const path = String(request.path ?? '');
  const offset = Number(request.offset ?? 0);
  const limit = Number(request.limit ?? 100);
  if (path === '') {
    const entries: SnapshotEntry[] = [
      { name: 'big', path: 'big', type: 'dir' },
      { name: 'Invoices', path: 'Invoices', type: 'dir' },
      { name: 'notes.txt', path: 'notes.txt', type: 'file', size: 12, mtime: day(2) },
      { name: 'readme.txt', path: 'readme.txt', type: 'file', size: 40, mtime: day(2) },
    ];
    return { path, total: entries.length, offset, entries: entries.slice(offset, offset + limit) };
  }
  const total = path === 'big' ? BIG_FOLDER_SIZE : 0;
  const entries: SnapshotEntry[] = [];
  for (let i = offset; i < Math.min(total, offset + limit); i++) entries.push(entry(i, path));
  return { path, total, offset, entries };
}

export const planAnswer: ResponseOf<'bulwark:restore.plan'> = {
  planId: 'plan-1',
  destination: '/tmp/restored',
  items: [
    {
      path: 'notes.txt',
      destination: '/tmp/restored/notes.txt',
      type: 'file',
      action: 'conflict',
      size: 12,
      mtime: day(2),
      existing: { size: 30, mtime: day(6) },
    },
    {
      path: 'readme.txt',
      destination: '/tmp/restored/readme.txt',
      type: 'file',
      action: 'create',
      size: 40,
      mtime: day(2),
    },
  ],
  totals: { files: 2, bytes: 52, create: 1, identical: 0, conflicts: 1 },
  truncated: false,
};

export function restoreJob(state: Job['state'], sourceId: string, extra: Partial<Job> = {}): Job {
  return {
    id: 'restore-job-1',
    kind: 'restore',
    sourceId,
    reason: 'manual',
    state,
    changes: 0,
    queuedAt: day(6),
    ...extra,
  };
}

/**
 * Serves every restore channel from the answers above; `requests` records what the page asked. `finished`
 * makes jobs.list (otherwise the real service's) also list the finished restore job with its summary.
 */
export async function mockRestore(page: Page, sourceId: string) {
  const requests: { channel: string; body: Body }[] = [];
  const state = { finished: false };
  await page.route(/\/api\/restore\.[a-z]+$/, async (route) => {
    const channel = new URL(route.request().url()).pathname.replace('/api/', '');
    const body = (route.request().postDataJSON() ?? {}) as Body;
    requests.push({ channel, body });
    switch (channel) {
      case 'restore.find':
        return fulfill(route, findAnswer(sourceId));
      case 'restore.versions':
        return fulfill(route, versionsAnswer());
      case 'restore.browse':
        return fulfill(route, browseAnswer(body));
      case 'restore.preview':
        return fulfill(route, {
          name: String(body.path).split('/').pop(),
          size: 12,
          kind: 'text',
          mime: 'text/plain',
          text: 'Meeting notes\nCall the accountant on Monday.\n',
          truncated: false,
        });
      case 'restore.plan':
        return fulfill(route, planAnswer);
      case 'restore.start':
        return fulfill(route, { job: restoreJob('running', sourceId) });
      default:
        return refuse(route, 'UNSUPPORTED', `bulwark:${channel} is not available here`);
    }
  });
  await page.route(/\/api\/jobs\.list$/, async (route) => {
    const response = await route.fetch();
    const result = (await response.json()) as { ok: boolean; value?: ResponseOf<'bulwark:jobs.list'> };
    if (state.finished && result.ok && result.value)
      result.value.jobs.push(
        restoreJob('succeeded', sourceId, {
          restore: {
            restored: 1,
            skipped: 1,
            failed: 0,
            bytes: 40,
            keptBoth: 0,
            failures: [],
            destination: '/tmp/restored',
          },
        }),
      );
    await route.fulfill({ response, body: JSON.stringify(result) });
  });
  return { requests, state };
}

/** Passes the event socket through and lets the test push its own events to the page. */
export async function tapEvents(page: Page) {
  let socket: WebSocketRoute | undefined;
  await page.routeWebSocket(/\/api\/events$/, (ws) => {
    socket = ws;
    ws.connectToServer();
  });
  return {
    connected: () => socket !== undefined,
    send<E extends EventName>(event: E, payload: EventOf<E>) {
      if (!socket) throw new Error('the page has no event socket yet');
      socket.send(JSON.stringify({ event, payload }));
    },
  };
}
