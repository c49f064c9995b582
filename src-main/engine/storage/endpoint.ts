import { BulwarkError } from '../errors.ts';

/**
 * Checks an S3 endpoint URL before any client is built. Without a scheme ("nas.local:9000") the SDK fails
 * only at the first request, with a bare "TypeError: Invalid URL"; and `new URL("nas.local:9000")` even
 * parses, taking "nas.local:" for the scheme. So the scheme must be http: or https: and a host must be
 * there. Kept apart from s3.ts, which openStore loads only for s3:// locations.
 */
export function checkEndpoint(endpoint: string): string {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined; // not a URL at all: the same answer as a URL without http(s)
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new BulwarkError(
      'INVALID_ARGUMENT',
      `the endpoint needs http:// or https://, e.g. http://nas.local:9000 (got ${JSON.stringify(endpoint)})`,
      {
        hint: 'Give the full address of the S3 server, with its scheme and port: --endpoint http://nas.local:9000 (or https:// when the server uses TLS).',
      },
    );
  }
  return endpoint;
}
