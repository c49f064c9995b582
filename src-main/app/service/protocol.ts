import { isChannelName, isEventName, type ChannelName, type EventName } from '../../contract/ipc.ts';
import type { Result } from '../../contract/result.ts';

/**
 * The messages between the desktop app's main process and its backup-service process (an Electron
 * utilityProcess; a Node child_process.fork in tests and benches). The main process only relays: contract
 * requests go in as they came from the window, Result envelopes and contract events come out. Every message
 * is plain JSON, so both structured clone (utilityProcess) and JSON (fork) carry it unchanged.
 */

/** The first message the service process gets: what it needs before it opens the service. */
export interface InitMessage {
  type: 'init';
  /**
   * base64 of the 32-byte key that seals target secrets (see keychain.ts): the main process unwraps it
   * with the OS keychain (safeStorage is not available in a utility process). Absent: no keychain here,
   * the secrets stay in 0600 files.
   */
  secretsKey?: string;
}

export type ToService =
  | InitMessage
  | { type: 'request'; id: number; channel: ChannelName; payload: unknown }
  | { type: 'ping'; id: number }
  /** graceful stop: a running backup is interrupted (resumed by the next start), then the process exits */
  | { type: 'stop' };

export type FromService =
  /** the handlers answer from now on (the scheduler may still be starting) */
  | { type: 'ready' }
  | { type: 'response'; id: number; result: Result<unknown> }
  | { type: 'event'; event: EventName; payload: unknown }
  | { type: 'pong'; id: number }
  /** the service could not be opened (its catalog is damaged, the data folder is not writable...) */
  | { type: 'fatal'; message: string }
  | { type: 'stopped' };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isResult = (v: unknown): v is Result<unknown> =>
  isRecord(v) && (v['ok'] === true || (v['ok'] === false && isRecord(v['error'])));

/** The message as sent by the main process, or undefined for anything else (dropped by the caller). */
export function parseToService(v: unknown): ToService | undefined {
  if (!isRecord(v)) return undefined;
  switch (v['type']) {
    case 'init':
      return v['secretsKey'] === undefined || typeof v['secretsKey'] === 'string'
        ? (v as unknown as InitMessage)
        : undefined;
    case 'request':
      return isId(v['id']) && isChannelName(v['channel'])
        ? { type: 'request', id: v['id'], channel: v['channel'], payload: v['payload'] }
        : undefined;
    case 'ping':
      return isId(v['id']) ? { type: 'ping', id: v['id'] } : undefined;
    case 'stop':
      return { type: 'stop' };
    default:
      return undefined;
  }
}

/** The message as sent by the service process, or undefined for anything else. */
export function parseFromService(v: unknown): FromService | undefined {
  if (!isRecord(v)) return undefined;
  switch (v['type']) {
    case 'ready':
      return { type: 'ready' };
    case 'stopped':
      return { type: 'stopped' };
    case 'response':
      return isId(v['id']) && isResult(v['result'])
        ? { type: 'response', id: v['id'], result: v['result'] }
        : undefined;
    case 'event':
      return isEventName(v['event'])
        ? { type: 'event', event: v['event'], payload: v['payload'] }
        : undefined;
    case 'pong':
      return isId(v['id']) ? { type: 'pong', id: v['id'] } : undefined;
    case 'fatal':
      return typeof v['message'] === 'string' ? { type: 'fatal', message: v['message'] } : undefined;
    default:
      return undefined;
  }
}
