/** The only address the local service listens on. */
export const LOOPBACK_HOST = '127.0.0.1';
