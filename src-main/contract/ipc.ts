import { z } from 'zod';

import {
  jobKindSchema,
  jobProgressSchema,
  jobStateSchema,
  repositoryInfoSchema,
  snapshotSummarySchema,
} from './model.ts';
import { resultErrorSchema, type Result } from './result.ts';

/**
 * THE contract between the UI and the main side. Every request/response channel and every event the main
 * side pushes is declared here, once, with zod schemas. The preload bridge, the Electron IPC router, the
 * renderer's typed client and the HTTP/WebSocket transport all derive from these two maps: adding a
 * channel here (plus its handler) is the only step needed to expose it.
 *
 * Rules: names start with `bulwark:`; requests are objects (so they travel as JSON bodies too); every
 * response travels inside a Result envelope (see result.ts); values are plain JSON (ISO date strings).
 */

export const CHANNEL_PREFIX = 'bulwark:';
type Prefixed = `${typeof CHANNEL_PREFIX}${string}`;

interface ChannelSpec {
  request: z.ZodType;
  response: z.ZodType;
}

/** A request that takes no arguments: `{}` and nothing else. */
const noArgs = z.strictObject({});

export const appVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  platform: z.string(),
  runtime: z.object({
    node: z.string(),
    electron: z.string().optional(),
    chrome: z.string().optional(),
  }),
});

export const channels = {
  /** name and version of the running app (works before any repository is configured) */
  'bulwark:app.version': { request: noArgs, response: appVersionSchema },
  /** the open repository; fails with REPO_NOT_FOUND when none is configured */
  'bulwark:repo.info': { request: noArgs, response: repositoryInfoSchema },
  /** snapshots in the open repository, newest first */
  'bulwark:snapshots.list': {
    request: z.strictObject({
      /** only snapshots of this configured source */
      source: z.string().min(1).optional(),
      limit: z.number().int().min(1).max(10_000).optional(),
    }),
    response: z.object({ snapshots: z.array(snapshotSummarySchema) }),
  },
} as const satisfies Record<Prefixed, ChannelSpec>;

export const jobStateEventSchema = z.object({
  jobId: z.string().min(1),
  kind: jobKindSchema,
  state: jobStateSchema,
  /** when the job entered this state (ISO 8601) */
  at: z.iso.datetime({ offset: true }),
  /** set when state is `failed` */
  error: resultErrorSchema.optional(),
});

/** Events the main side pushes to the UI. */
export const events = {
  /** throttled by the sender (a few per second at most) */
  'bulwark:job.progress': jobProgressSchema,
  'bulwark:job.state': jobStateEventSchema,
} as const satisfies Record<Prefixed, z.ZodType>;

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
/** What a caller sends (before defaults are applied). */
export type RequestOf<C extends ChannelName> = z.input<Channels[C]['request']>;
/** What a handler receives (after the schema has parsed it). */
export type ParsedRequestOf<C extends ChannelName> = z.output<Channels[C]['request']>;
export type ResponseOf<C extends ChannelName> = z.output<Channels[C]['response']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventOf<E extends EventName> = z.output<Events[E]>;

export const channelNames = Object.freeze(Object.keys(channels)) as readonly ChannelName[];
export const eventNames = Object.freeze(Object.keys(events)) as readonly EventName[];

export function isChannelName(name: unknown): name is ChannelName {
  return typeof name === 'string' && Object.hasOwn(channels, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}

/** The property of `window` under which the preload exposes the bridge. */
export const BRIDGE_KEY = 'bulwark';

/**
 * Everything the preload exposes to the page, and nothing more. `invoke` never rejects for a handler
 * failure (that comes back as `{ ok: false, error }`); it rejects only for a channel outside the contract
 * or a broken IPC link.
 */
export interface BulwarkBridge {
  invoke<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  /** Subscribes to a contract event; returns the function that unsubscribes. */
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
}
