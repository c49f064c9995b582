/**
 * Content-Security-Policy of the renderer, wherever it is served from: the Electron session adds it as a
 * header (src-main/app/security.ts), `bulwark serve` sends it with every response, and the same policy is in
 * the <meta> tag of src-renderer/index.html (a file:// page has no response headers).
 * test/app/security.test.ts keeps the meta tag identical.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
