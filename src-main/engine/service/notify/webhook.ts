import { BulwarkError } from '../../errors.ts';

/**
 * The generic webhook: one JSON POST per message (Slack, Microsoft Teams and ntfy read its `text`; anything
 * else reads the structured fields), and the healthchecks-style ping: a GET after each good backup, so a
 * service like healthchecks.io raises the alarm on its side when the pings stop.
 */

export interface WebhookOptions {
  /** the whole exchange must be over within this (default 15 s) */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Only the host of an address is ever shown: the rest (path, query) usually is its access token. */
export function urlHost(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

export async function postWebhook(url: string, body: unknown, opts: WebhookOptions = {}): Promise<void> {
  await call(url, 'the webhook address', opts, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Bulwark' },
    body: JSON.stringify(body),
  });
}

export async function ping(url: string, opts: WebhookOptions = {}): Promise<void> {
  await call(url, 'the address called after each good backup', opts, {
    method: 'GET',
    headers: { 'user-agent': 'Bulwark' },
  });
}

async function call(url: string, what: string, opts: WebhookOptions, init: RequestInit): Promise<void> {
  const host = urlHost(url) ?? 'the address';
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      ...init,
      redirect: 'follow',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
  } catch (e) {
    const timedOut = (e as { name?: string }).name === 'TimeoutError';
    throw new BulwarkError(
      'NETWORK',
      timedOut
        ? `${capitalize(what)} (${host}) did not answer in time.`
        : `${capitalize(what)} (${host}) could not be reached.`,
      {
        cause: e,
        hint: 'Check the address and that this computer is connected to the internet.',
      },
    );
  }
  // the answer's body is not needed; reading it frees the connection
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  const gone = res.status === 404 || res.status === 410;
  const refused = res.status === 401 || res.status === 403;
  throw new BulwarkError(
    refused ? 'PERMISSION' : 'IO',
    gone
      ? `${capitalize(what)} (${host}) does not exist any more.`
      : refused
        ? `${capitalize(what)} (${host}) refused the message.`
        : `${capitalize(what)} (${host}) did not take the message.`,
    {
      hint:
        gone || refused
          ? 'Copy the address again from the service that gave it (Slack, Teams, ntfy, healthchecks) and save it.'
          : 'Bulwark tries again later by itself. If this stays, check the service the address belongs to.',
    },
  );
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
