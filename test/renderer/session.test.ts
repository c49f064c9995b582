import { describe, expect, it } from 'vitest';

import { signIn, signOut } from '../../src-renderer/src/api/http.ts';
import { SIGN_IN_HELP, tokenFromInput } from '../../src-renderer/src/api/token.ts';

// The sign-in page of the browser UI: what a person pastes (the link or the token) buys this browser's
// session cookie from `bulwark serve` (POST /api/session); the real exchange is in test/transport.

const BASE = 'http://127.0.0.1:8737';
const TOKEN = 'a'.repeat(20) + 'B_-' + 'c'.repeat(20);

function fakeFetch(status: number, body: unknown) {
  const sent: { url: string; init: RequestInit }[] = [];
  const fetch = ((input: URL | string, init: RequestInit) => {
    sent.push({ url: String(input), init });
    return Promise.resolve(
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }),
    );
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

describe('tokenFromInput', () => {
  it('takes the whole link, the token alone, with spaces around; nothing else', () => {
    expect(tokenFromInput(`http://127.0.0.1:8737/#token=${TOKEN}`)).toBe(TOKEN);
    expect(tokenFromInput(`  http://localhost:8737/#view=alerts&token=${TOKEN}\n`)).toBe(TOKEN);
    expect(tokenFromInput(` ${TOKEN} `)).toBe(TOKEN);
    expect(tokenFromInput('http://127.0.0.1:8737/')).toBeUndefined();
    expect(tokenFromInput(`http://127.0.0.1:8737/#token=${TOKEN.slice(1)}`)).toBeUndefined();
    expect(tokenFromInput('hello')).toBeUndefined();
  });

  it('the help says where the link is in plain words', () => {
    expect(SIGN_IN_HELP).toMatch(/#token=/);
    expect(SIGN_IN_HELP).toMatch(/bulwark serve --print-token/);
  });
});

describe('signIn / signOut', () => {
  it('posts the pasted token as Bearer to /api/session, with the cookie allowed back', async () => {
    const { fetch, sent } = fakeFetch(200, { ok: true, value: { expiresAt: '2027-04-01T10:00:00.000Z' } });
    expect(await signIn(`${BASE}/#token=${TOKEN}`, { baseUrl: BASE, fetch })).toEqual({
      ok: true,
      value: { expiresAt: '2027-04-01T10:00:00.000Z' },
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe(`${BASE}/api/session`);
    expect(sent[0]?.init).toMatchObject({
      method: 'POST',
      credentials: 'same-origin',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
  });

  it('a wrong link is the service refusal; something that is not a link is refused without a call', async () => {
    const refusal = { ok: false, error: { code: 'PERMISSION', message: 'the access token is not valid' } };
    expect(await signIn(TOKEN, { baseUrl: BASE, fetch: fakeFetch(401, refusal).fetch })).toEqual(refusal);
    const nothing = fakeFetch(200, {});
    expect(await signIn('my password', { baseUrl: BASE, fetch: nothing.fetch })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', hint: SIGN_IN_HELP },
    });
    expect(nothing.sent).toEqual([]);
  });

  it('signOut asks the service to forget the cookie', async () => {
    const { fetch, sent } = fakeFetch(200, { ok: true, value: {} });
    expect(await signOut({ baseUrl: BASE, fetch })).toEqual({ ok: true, value: {} });
    expect(sent[0]).toMatchObject({ url: `${BASE}/api/session`, init: { method: 'DELETE' } });
  });
});
